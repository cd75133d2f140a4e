"""Table definitions (SQLAlchemy Core). Changes go through a migration in migrations/versions."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text, text

metadata = MetaData()

selfies = Table(
    "selfies", metadata,
    Column("id", String(32), primary_key=True),
    Column("user", String(128), nullable=False, index=True),
    Column("blob_key", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)

sessions = Table(
    "sessions", metadata,
    Column("user", String(128), primary_key=True),
    Column("selfie_id", String(32)),
    Column("current_result_id", String(32)),
    Column("pending", JSON(none_as_null=True)),
    Column("prefs", JSON(none_as_null=True)),
    Column("updated_at", Float, nullable=False),
)

results = Table(
    "results", metadata,
    Column("id", String(32), primary_key=True),
    Column("user", String(128), nullable=False, index=True),
    Column("parent_id", String(32)),
    Column("job_id", String(32)),
    Column("theme_id", String(64), nullable=False),
    Column("params", JSON, nullable=False),
    Column("selfie_id", String(32)),
    Column("image_key", String(128), nullable=False),
    Column("base_key", String(128), nullable=False),
    Column("notes", JSON),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    Column("source_type", String(64), nullable=False, server_default="compositeSynthetic"),
    Column("mark", BigInteger, index=True),
    Column("fingerprint", String(64)),
    Column("energy_wh", Float, nullable=False, server_default="0"),
)

# A result's fingerprint in 16-bit bands: images within 15 bits of it share a band, found by index.
result_bands = Table(
    "result_bands", metadata,
    Column("result_id", String(32), nullable=False, index=True),
    Column("user", String(128), nullable=False, index=True),
    Column("band", Integer, nullable=False),
    Column("value", Integer, nullable=False),
    Index("ix_result_bands_band_value", "band", "value"),
)

ACTIVE_STATES = ("queued", "running")

jobs = Table(
    "jobs", metadata,
    Column("id", String(32), primary_key=True),
    Column("user", String(128), nullable=False, index=True),
    Column("platform", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("theme_id", String(64), nullable=False),
    Column("params", JSON, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("parent_result_id", String(32)),
    Column("selfie_id", String(32)),
    Column("selfie_key", String(128)),
    Column("reply_to", JSON),
    Column("chat", String(160)),  # the group chat / server channel it was asked in (platform:id), for its quota
    Column("rerender", Boolean, nullable=False, default=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("result_id", String(32)),
    Column("owner", String(64)),
    Column("created_at", Float, nullable=False, index=True),
    Column("started_at", Float),
    Column("heartbeat_at", Float),
    Column("finished_at", Float),
    # At most one queued-or-running job per user, enforced by the database for every front-end process.
    Index("one_active_job_per_user", "user", unique=True,
          sqlite_where=text("state IN ('queued', 'running')"),
          postgresql_where=text("state IN ('queued', 'running')")),
)

# Images per UTC day and subject ("user:platform:id" or "chat:platform:id"), counted when a render is queued;
# ``granted`` is what an admin added to that day's quota.
usage = Table(
    "usage", metadata,
    Column("day", String(10), primary_key=True),
    Column("subject", String(200), primary_key=True),
    Column("images", Integer, nullable=False, server_default="0"),
    Column("granted", Integer, nullable=False, server_default="0"),
    Column("updated_at", Float, nullable=False),
)

# Users an admin blocked with /admin block (joins MINIME_DENY_USERS).
blocks = Table(
    "blocks", metadata,
    Column("user", String(128), primary_key=True),
    Column("by", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
)
