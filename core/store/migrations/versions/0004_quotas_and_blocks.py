"""Daily usage per user and per chat (quotas, /admin), admin blocks, and the chat a job was asked in.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("images", sa.Integer, nullable=False, server_default="0"),
        sa.Column("granted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "blocks",
        sa.Column("user", sa.String(128), primary_key=True),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("chat", sa.String(160)))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("chat")
    op.drop_table("blocks")
    op.drop_table("usage")
