"""Energy per render, measured with codecarbon's offline tracker (no network; CPU, RAM and NVIDIA GPUs).

One tracker runs for the whole process (started off the start-up path) and measures the process's energy in windows
of ``WINDOW_S`` seconds. A render is charged by the CPU time the process spent while it ran: the energy per CPU-second
of the window in which it ended, times its CPU seconds. Starting and stopping a codecarbon tracker per render cost
~25 ms of CPU on the request path (hardware probe, scheduler threads); here a render only reads ``time.process_time``
twice, and the charge is worked out after the image is sent (``await Measurement.watt_hours()``).
When renders overlap, each one's CPU time includes the others', so the figures are an upper bound; they are exact for
one render at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from minime.core.logs import get_logger

log = get_logger("minime.energy")

WINDOW_S = 1.0
"""How often the tracker measures the process's power."""


class EnergyMeter:
    """The process-wide tracker and the energy per CPU-second it last measured."""

    def __init__(self, country_iso_code: str = "DEU", enabled: bool = True) -> None:
        self.country, self.enabled = country_iso_code, enabled
        self._tracker: Any = None
        self._windows = 0
        self._wh_per_cpu_s: float | None = None
        self._window_cpu = time.process_time()
        self._failed = not enabled

    def warm_up(self) -> None:
        """Start the process's tracker (the hardware probe takes about a second: run this in a thread)."""
        if not self.enabled or self._tracker is not None:
            return
        try:
            from codecarbon import OfflineEmissionsTracker
            from codecarbon.output_methods.base_output import BaseOutput

            meter = self

            class Windows(BaseOutput):
                """Receives each window's measurement (codecarbon calls ``live_out`` after every one)."""

                def live_out(self, total: Any, delta: Any) -> None:
                    meter._window(float(delta.energy_consumed) * 1000.0)

            logging.getLogger("codecarbon").setLevel(logging.ERROR)
            tracker = OfflineEmissionsTracker(
                country_iso_code=self.country, save_to_file=False, log_level="error", tracking_mode="process",
                measure_power_secs=WINDOW_S, api_call_interval=1, output_handlers=[Windows()],
                allow_multiple_runs=True)
            self._window_cpu = time.process_time()
            tracker.start()
            self._tracker = tracker
        except Exception as exc:  # energy is a nicety: never fail a render for it
            log.warning("energy tracking unavailable", error_type=type(exc).__name__)
            self._failed = True

    def close(self) -> None:
        """Stop the tracker."""
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            try:
                tracker.stop()
            except Exception as exc:
                log.warning("energy tracker did not stop cleanly", error_type=type(exc).__name__)
        self._failed = True

    def _window(self, wh: float) -> None:
        cpu = time.process_time()
        used, self._window_cpu = cpu - self._window_cpu, cpu
        if used > 0.01 and wh > 0:
            self._wh_per_cpu_s = wh / used
        self._windows += 1

    def start(self) -> Measurement:
        """Begin measuring a render: two clock reads, nothing else on the request path."""
        return Measurement(self if self.enabled else None)

    async def _rate_after(self, windows: int, timeout_s: float) -> float | None:
        """Energy per CPU-second from a window measured after ``windows`` windows (waits up to ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while not self._failed and (self._windows <= windows or not self._wh_per_cpu_s):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        return self._wh_per_cpu_s


class Measurement:
    """One render's measurement: ``stop`` ends it; ``watt_hours`` (after the image is sent) charges it."""

    def __init__(self, meter: EnergyMeter | None) -> None:
        self._meter = meter
        self._cpu0 = time.process_time()
        self._cpu_s: float | None = None
        self._windows = 0

    def stop(self) -> None:
        """End the measurement (again: no effect)."""
        if self._cpu_s is None:
            self._cpu_s = time.process_time() - self._cpu0
            self._windows = self._meter._windows if self._meter else 0

    async def watt_hours(self, timeout_s: float = 10 * WINDOW_S) -> float:
        """The render's energy in watt-hours, from the first window that ends after it (0.0 when not measured)."""
        self.stop()
        if self._meter is None or not self._cpu_s:
            return 0.0
        rate = await self._meter._rate_after(self._windows, timeout_s)
        return (rate or 0.0) * self._cpu_s
