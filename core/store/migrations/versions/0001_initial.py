"""Initial schema: selfies, sessions, results, jobs.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "selfies",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user", sa.String(128), nullable=False, index=True),
        sa.Column("blob_key", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False, index=True),
    )
    op.create_table(
        "sessions",
        sa.Column("user", sa.String(128), primary_key=True),
        sa.Column("selfie_id", sa.String(32)),
        sa.Column("current_result_id", sa.String(32)),
        sa.Column("pending", sa.JSON(none_as_null=True)),
        sa.Column("prefs", sa.JSON(none_as_null=True)),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "results",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user", sa.String(128), nullable=False, index=True),
        sa.Column("parent_id", sa.String(32)),
        sa.Column("job_id", sa.String(32)),
        sa.Column("theme_id", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("selfie_id", sa.String(32)),
        sa.Column("image_key", sa.String(128), nullable=False),
        sa.Column("base_key", sa.String(128), nullable=False),
        sa.Column("notes", sa.JSON),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False, index=True),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user", sa.String(128), nullable=False, index=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("theme_id", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("parent_result_id", sa.String(32)),
        sa.Column("selfie_id", sa.String(32)),
        sa.Column("selfie_key", sa.String(128)),
        sa.Column("reply_to", sa.JSON),
        sa.Column("rerender", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("result_id", sa.String(32)),
        sa.Column("owner", sa.String(64)),
        sa.Column("created_at", sa.Float, nullable=False, index=True),
        sa.Column("started_at", sa.Float),
        sa.Column("heartbeat_at", sa.Float),
        sa.Column("finished_at", sa.Float),
    )
    op.create_index("one_active_job_per_user", "jobs", ["user"], unique=True,
                    sqlite_where=sa.text("state IN ('queued', 'running')"),
                    postgresql_where=sa.text("state IN ('queued', 'running')"))


def downgrade() -> None:
    for table in ("jobs", "results", "sessions", "selfies"):
        op.drop_table(table)
