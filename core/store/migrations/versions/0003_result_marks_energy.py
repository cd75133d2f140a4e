"""Results carry their watermark id, perceptual fingerprint (with its bands for lookup) and energy.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("mark", sa.BigInteger))
        batch.add_column(sa.Column("fingerprint", sa.String(64)))
        batch.add_column(sa.Column("energy_wh", sa.Float, nullable=False, server_default="0"))
        batch.create_index("ix_results_mark", ["mark"])
    op.create_table(
        "result_bands",
        sa.Column("result_id", sa.String(32), nullable=False, index=True),
        sa.Column("user", sa.String(128), nullable=False, index=True),
        sa.Column("band", sa.Integer, nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.create_index("ix_result_bands_band_value", "result_bands", ["band", "value"])


def downgrade() -> None:
    op.drop_table("result_bands")
    with op.batch_alter_table("results") as batch:
        batch.drop_index("ix_results_mark")
        batch.drop_column("energy_wh")
        batch.drop_column("fingerprint")
        batch.drop_column("mark")
