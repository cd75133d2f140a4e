"""Prometheus metrics (prometheus-client's default registry), served by ``serve`` when MINIME_METRICS_PORT is set."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RENDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)

QUEUE_DEPTH = Gauge("minime_queue_depth", "Jobs waiting in the durable queue (all front ends)")
RUNNING = Gauge("minime_jobs_running", "Jobs this process is rendering now")
JOBS = Counter("minime_jobs_total", "Jobs by how they ended", ["outcome"])  # done, failed, timeout, retried
RENDER_SECONDS = Histogram("minime_render_seconds", "Seconds from a job's start to its result, by theme",
                           ["theme"], buckets=RENDER_BUCKETS)
ENERGY_WH = Counter("minime_energy_wh_total", "Measured energy of renders (watt-hours), by engine", ["engine"])
VERIFICATIONS = Counter("minime_verifications_total", "/verify requests by answer", ["answer"])
BLOCKED_OUTPUTS = Counter("minime_blocked_outputs_total", "Results not sent because a safety check flagged them",
                          ["check"])
ENGINE_SECONDS = Histogram("minime_engine_seconds", "Seconds of the engine call alone, by engine",
                           ["engine"], buckets=RENDER_BUCKETS)


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics over HTTP in a background thread."""
    start_http_server(port, addr=host)
