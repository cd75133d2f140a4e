"""Results remember how they were made (the IPTC digital source type written into their files).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("source_type", sa.String(64), nullable=False,
                                   server_default="compositeSynthetic"))


def downgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.drop_column("source_type")
