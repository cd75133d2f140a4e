"""Configuration: environment variables with the ``MINIME_`` prefix, or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

THEMES_DIR = Path(__file__).resolve().parent.parent / "themes"
TURNTABLE_MAX_PIXELS = 1024 * 1024 * 48  # side² × frames of the largest loop (≈ 50 MB as a GIF at a byte a pixel)
TURNTABLE_MAX_FPS = 50


class Settings(BaseSettings):
    """Every knob of minime. Names are a contract with deployments (see DESIGN.md)."""

    model_config = SettingsConfigDict(env_prefix="MINIME_", env_file=".env", extra="ignore")

    telegram_token: SecretStr | None = None
    telegram_api_root: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443

    discord_token: SecretStr | None = None

    database_url: str | None = None
    data_dir: Path = Path("./minime-data")
    themes_dir: Path = THEMES_DIR

    engine: Literal["classic", "diffusion", "ray", "hosted"] = "classic"
    diffusion_model: str | None = None
    diffusion_device: str = Field("auto", description="auto, cuda, cuda:1, mps or cpu")
    diffusion_dtype: Literal["auto", "float16", "bfloat16", "float32"] = "auto"
    diffusion_cpu_offload: bool = Field(False, description="keep idle sub-models in CPU memory (small GPUs)")
    diffusion_attention_slicing: bool = False
    diffusion_resolution: int | None = Field(None, ge=64, description="side of the square area rendered; "
                                                                      "unset: the model's native size")
    diffusion_steps: int | None = Field(None, ge=1, description="overrides every theme's steps (few-step models)")
    diffusion_guidance: float | None = Field(None, ge=0, description="overrides every theme's guidance")
    diffusion_scheduler: str | None = Field(None, description="lcm, tcd, euler, euler_a, dpm++, ddim, unipc "
                                                              "(append :trailing for Turbo/Lightning)")
    diffusion_lora: str | None = Field(None, description="a LoRA folder or .safetensors file, always active")
    diffusion_lora_scale: float = 1.0
    diffusion_ip_adapter: str | None = Field(None, description="local IP-Adapter folder for identity")
    diffusion_ip_adapter_subfolder: str = ""
    diffusion_ip_adapter_weight_name: str | None = None
    diffusion_ip_adapter_image_encoder: str | None = None
    diffusion_identity_scale: float = Field(0.6, ge=0, le=2)
    diffusion_batch_size: int = Field(4, ge=1, description="requests that wait together run as one batch")

    hosted_provider: Literal["gemini", "openai"] | None = Field(None, description="whose image model renders")
    hosted_model: str | None = Field(None, description="the provider's model id; unset: gemini-3.1-flash-image "
                                                       "or gpt-image-2")
    hosted_api_key: SecretStr | None = Field(None, description="the provider's key (never logged)")
    hosted_base_url: str | None = Field(None, description="another endpoint: a gateway or a compatible server")
    hosted_price_per_image: float = Field(0.039, ge=0, description="what one image costs at the provider, for /stats "
                                                                    "(unset: the model's list price, "
                                                                    "core/engines/hosted/costs.py)")
    hosted_currency: str = "$"
    hosted_wh_per_image: float = Field(2.9, ge=0, description="estimated energy of one image at the provider (Wh; "
                                                              "unset: the model's estimate)")
    hosted_timeout_s: float = Field(300.0, gt=0, description="one request's limit: these services have "
                                                             "minute-long tails")
    hosted_max_retries: int = Field(4, ge=0, description="retries on 429 and 5xx, with backoff and Retry-After")
    hosted_concurrency: int = Field(4, ge=1, description="requests in flight at the provider at once")

    ray_address: str | None = Field(None, description="auto (this node's cluster), ray://host:10001, or unset "
                                                     "to start a local cluster")
    ray_namespace: str = "minime"
    ray_app_name: str = "minime"
    ray_deploy: bool = Field(True, description="deploy the Serve application on start (off when the cluster "
                                               "deploys it, e.g. a KubeRay RayService)")
    ray_inner_engine: Literal["classic", "diffusion"] = "classic"
    ray_replica_cpus: float = Field(1.0, ge=0)
    ray_replica_gpus: float = Field(0.0, ge=0)
    ray_min_replicas: int = Field(1, ge=0)
    ray_max_replicas: int = Field(1, ge=1)
    ray_target_ongoing_requests: float = Field(2.0, gt=0)
    ray_max_ongoing_requests: int = Field(4, ge=1, description="requests a replica holds at once (its batch)")
    ray_max_queued_requests: int = Field(64, description="beyond this Serve pushes back and jobs wait in our queue")
    ray_batch_wait_s: float = Field(0.01, ge=0)
    ray_connect_timeout_s: float = Field(60.0, gt=0, description="how long to wait for the cluster's application")

    watermark: bool = Field(True, description="hide a result id in every image and fingerprint it, for /verify")
    c2pa_cert_chain: Path | None = Field(None, description="PEM certificate chain that signs C2PA manifests")
    c2pa_private_key: Path | None = Field(None, description="PEM private key of that certificate")
    c2pa_algorithm: str = "es256"
    c2pa_timestamp_url: str | None = None
    energy_tracking: bool = True
    energy_country: str = Field("DEU", description="ISO 3166 alpha-3 country of the servers (carbon intensity)")
    gpu_wh_per_image: float = Field(2.9, gt=0, description="what one image costs on a GPU diffusion model (Wh); "
                                                           "2.9 Wh: Luccioni et al. 2023, 'Power Hungry Processing'")
    energy_price_per_kwh: float = Field(0.30, ge=0)
    energy_currency: str = "€"
    allow_users: list[str] = Field(default_factory=list, description="if set, only these users (platform:id)")
    deny_users: list[str] = Field(default_factory=list, description="users who may not use the bot (platform:id)")
    admins: list[str] = Field(default_factory=list, description="who may use /admin (platform:id)")
    daily_quota: int = Field(0, ge=0, description="images a user may get per UTC day; 0: unlimited")
    chat_daily_quota: int = Field(0, ge=0, description="images one group chat or server channel may get per UTC "
                                                       "day; 0: unlimited")
    chat_member_share: float = Field(0.5, gt=0, le=1, description="the part of a group's daily images one member "
                                                                  "may use (1: no limit per member)")
    nsfw_model: str | None = Field(None, description="local image-classification model folder checking "
                                                     "diffusion output")
    nsfw_labels: list[str] = Field(default_factory=lambda: ["nsfw", "porn", "hentai", "sexy", "unsafe"])
    nsfw_threshold: float = Field(0.5, ge=0, le=1)
    identity_check: bool = Field(True, description="compare the face in diffusion output with the selfie")
    identity_threshold: float = Field(0.6, gt=0, description="largest dlib face distance counted as the same person")

    metrics_port: int | None = Field(None, description="serve Prometheus metrics on this port")
    metrics_host: str = "127.0.0.1"

    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_password: SecretStr | None = None
    web_uploads_per_hour: int = Field(30, ge=1, description="photos one playground session may upload per hour "
                                                            "(three times that per client address)")

    max_concurrent_jobs: int = Field(2, ge=1)
    render_timeout_s: float = Field(120.0, gt=0)
    job_max_attempts: int = Field(2, ge=1)
    job_lease_s: float = Field(30.0, gt=0)
    shutdown_grace_s: float = Field(20.0, ge=0, description="on SIGTERM, how long running jobs may finish and be "
                                                           "delivered (keep under the service manager's stop timeout)")
    rate_limit_jobs: int = Field(30, ge=1, description="jobs a user may start per rate_limit_window_s")
    rate_limit_window_s: float = Field(600.0, gt=0)

    selfie_ttl_hours: float = Field(24.0, gt=0)
    result_ttl_hours: float = Field(24.0 * 7, gt=0)

    max_upload_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    work_size: int = Field(1024, ge=256, le=4096, description="longest side the engines work at")

    # The loop is sent as an animation: Telegram takes 50 MB, Discord 10 MiB by default (DESIGN.md). Bounded so that
    # even a GIF of the largest loop (size² × frames pixels, at most about a byte each) stays near 50 MB; a file
    # over a platform's own limit is made again smaller before it is sent (core/figures.py).
    turntable_size: int = Field(512, ge=128, le=1024, description="side in pixels of the figure's turning loop")
    turntable_frames: int = Field(48, ge=8, le=120, description="frames in one turn of the figure")
    turntable_seconds: float = Field(4.0, ge=1.0, le=12.0, description="seconds one turn of the figure takes")
    figure_concurrency: int = Field(1, ge=1, description="figure files (turntables, meshes) made at once: CPU work")

    log_json: bool = False
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _turntable_fits_the_platforms(self) -> Settings:
        """A loop that no platform would take, or that plays wrong, stops start-up with what to change."""
        pixels = self.turntable_size ** 2 * self.turntable_frames
        if pixels > TURNTABLE_MAX_PIXELS:
            raise ValueError(
                f"MINIME_TURNTABLE_SIZE={self.turntable_size} with MINIME_TURNTABLE_FRAMES={self.turntable_frames} "
                f"makes a loop of {pixels:,} pixels; at most {TURNTABLE_MAX_PIXELS:,} (e.g. 1024 px × 48 frames or "
                f"512 px × 120 frames) keeps it under the 50 MB Telegram takes for an animation, even as a GIF")
        if self.turntable_frames / self.turntable_seconds > TURNTABLE_MAX_FPS:
            raise ValueError(
                f"MINIME_TURNTABLE_FRAMES={self.turntable_frames} in MINIME_TURNTABLE_SECONDS="
                f"{self.turntable_seconds:g} is over {TURNTABLE_MAX_FPS} frames a second: a GIF frame lasts at least "
                f"20 ms (browsers play shorter ones at 10 a second); use fewer frames or more seconds")
        return self

    @model_validator(mode="after")
    def _hosted_defaults(self) -> Settings:
        """A hosted model waits minutes, not seconds, and runs several requests at once: unless the operator set
        them, the job timeout covers every retry and the runner starts as many jobs as the provider may take."""
        if self.engine == "hosted":
            if "render_timeout_s" not in self.model_fields_set:
                waits = 60.0 * self.hosted_max_retries  # backoff between tries is at most a minute
                self.render_timeout_s = max(self.render_timeout_s, self.hosted_timeout_s * 2 + waits)
            if "max_concurrent_jobs" not in self.model_fields_set:
                self.max_concurrent_jobs = max(self.max_concurrent_jobs, self.hosted_concurrency)
            # /stats: the model's price and energy from the cost table, unless the operator set their own
            from minime.core.engines.hosted.costs import DEFAULT_MODELS, cost_of

            cost = cost_of(self.hosted_model or DEFAULT_MODELS.get(self.hosted_provider or "", ""))
            if "hosted_price_per_image" not in self.model_fields_set:
                self.hosted_price_per_image = cost.price_per_image
                if "hosted_currency" not in self.model_fields_set:
                    self.hosted_currency = cost.currency
            if "hosted_wh_per_image" not in self.model_fields_set:
                self.hosted_wh_per_image = cost.wh_per_image
        return self

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: the configured one, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'minime.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        """Where image files live."""
        return self.data_dir / "blobs"
