"""The schema of the first release: runs, epochs, selections, sweeps.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("dataset", sa.String(64)),
        sa.Column("target_class", sa.Integer),
        sa.Column("target_name", sa.String(128)),
        sa.Column("sampler", sa.String(64)),
        sa.Column("pn_ratio", sa.Float),
        sa.Column("seed", sa.Integer),
        sa.Column("model", sa.String(64)),
        sa.Column("head", sa.String(64)),
        sa.Column("epochs_total", sa.Integer),
        sa.Column("epochs_done", sa.Integer),
        sa.Column("n_pos", sa.Integer),
        sa.Column("pool_size", sa.Integer),
        sa.Column("k", sa.Integer),
        sa.Column("final_ap", sa.Float),
        sa.Column("final_auc", sa.Float),
        sa.Column("final_dprime", sa.Float),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON),
        sa.Column("error", sa.Text),
        sa.Column("sweep_id", sa.String(64), index=True),
        sa.Column("created_at", sa.Float),
        sa.Column("started_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sa.Column("heartbeat", sa.Float),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.String(255)),
        sa.Column("cancel_requested", sa.Boolean),
    )
    op.create_table(
        "epochs",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("epoch", sa.Integer, primary_key=True),
        sa.Column("train_loss", sa.Float),
        sa.Column("val_loss", sa.Float),
        sa.Column("val_ap", sa.Float),
        sa.Column("ap", sa.Float),
        sa.Column("auc", sa.Float),
        sa.Column("dprime", sa.Float),
        sa.Column("n_pos", sa.Integer),
        sa.Column("n_neg", sa.Integer),
        sa.Column("resampled", sa.Boolean),
        sa.Column("t_score", sa.Float),
        sa.Column("t_select", sa.Float),
        sa.Column("t_train", sa.Float),
        sa.Column("t_eval", sa.Float),
    )
    op.create_table(
        "selections",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("epoch", sa.Integer, primary_key=True),
        sa.Column("rank", sa.Integer, primary_key=True),
        sa.Column("bag_id", sa.Integer, nullable=False),
        sa.Column("score", sa.Float),
    )
    op.create_index("ix_selections_bag", "selections", ["run_id", "bag_id"])
    op.create_table(
        "sweeps",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("backend", sa.String(16)),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("n_runs", sa.Integer),
        sa.Column("created_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    for table in ("selections", "epochs", "sweeps", "runs"):
        op.drop_table(table)
