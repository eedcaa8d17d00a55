"""Durable runs: which backend executes a run (a Ray sweep's runs are never claimed by a local dispatcher), the
worker's process start time (a reused PID is not the worker), a sweep driver's heartbeat and identity, and an
`artifacts` table (a server store keeps every run's arrays and checkpoint in the database, so cluster nodes need
no shared filesystem).

Revision ID: 0003_i15
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_i15"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("backend", sa.String(16)))
        runs.add_column(sa.Column("process_start", sa.String(64)))
    with op.batch_alter_table("sweeps") as sweeps:
        sweeps.add_column(sa.Column("heartbeat", sa.Float))
        sweeps.add_column(sa.Column("driver_pid", sa.Integer))
        sweeps.add_column(sa.Column("driver_host", sa.String(255)))
        sweeps.add_column(sa.Column("driver_start", sa.String(64)))
    op.create_table(
        "artifacts",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("saved_at", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("artifacts")
    with op.batch_alter_table("sweeps") as sweeps:
        for name in ("driver_start", "driver_host", "driver_pid", "heartbeat"):
            sweeps.drop_column(name)
    with op.batch_alter_table("runs") as runs:
        for name in ("process_start", "backend"):
            runs.drop_column(name)
