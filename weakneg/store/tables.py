"""The store's tables (SQLAlchemy Core). A new column is a new revision under weakneg/migrations/versions/ *and*
the column here; tests/test_migrations.py checks that the revisions build exactly this schema."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False, default="run"),
    Column("status", String(16), nullable=False, index=True),
    Column("dataset", String(64)),
    Column("target_class", Integer),
    Column("target_name", String(128)),
    Column("sampler", String(64)),
    Column("pn_ratio", Float),
    Column("seed", Integer),
    Column("model", String(64)),
    Column("head", String(64)),
    Column("epochs_total", Integer),
    Column("epochs_done", Integer, default=0),
    Column("n_pos", Integer),
    Column("pool_size", Integer),
    Column("k", Integer),
    Column("final_ap", Float),
    Column("final_auc", Float),
    Column("final_dprime", Float),
    Column("config", JSON, nullable=False),
    Column("result", JSON),
    Column("error", Text),
    Column("sweep_id", String(64), index=True),
    Column("created_at", Float),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("heartbeat", Float),
    Column("pid", Integer),
    Column("host", String(255)),
    Column("cancel_requested", Boolean, default=False),
    Column("name", String(200)),
    Column("tags", JSON),
    Column("notes", Text),
    Column("archived", Boolean, nullable=False, default=False),
    Column("device", String(16)),
    Column("backend", String(16)),
    Column("process_start", String(64)),
    sqlite_autoincrement=True,  # ids are never reused
)

epochs = Table(
    "epochs",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("epoch", Integer, primary_key=True),
    Column("train_loss", Float),
    Column("val_loss", Float),
    Column("val_ap", Float),
    Column("ap", Float),
    Column("auc", Float),
    Column("dprime", Float),
    Column("n_pos", Integer),
    Column("n_neg", Integer),
    Column("resampled", Boolean),
    Column("t_score", Float),
    Column("t_select", Float),
    Column("t_train", Float),
    Column("t_eval", Float),
)

selections = Table(
    "selections",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("epoch", Integer, primary_key=True),
    Column("rank", Integer, primary_key=True),  # pick order
    Column("bag_id", Integer, nullable=False),
    Column("score", Float),
    Index("ix_selections_bag", "run_id", "bag_id"),
)

sweeps = Table(
    "sweeps",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("backend", String(16)),
    Column("config", JSON, nullable=False),
    Column("n_runs", Integer),
    Column("created_at", Float),
    Column("finished_at", Float),
    Column("error", Text),
    Column("heartbeat", Float),
    Column("driver_pid", Integer),
    Column("driver_host", String(255)),
    Column("driver_start", String(64)),
)

# With a server database: every run's blobs (epoch arrays, maps, checkpoint), reachable from every node.
artifacts = Table(
    "artifacts",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("saved_at", Float),
)

store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

EPOCH_FIELDS = [c.name for c in epochs.columns if c.name not in ("run_id", "epoch")]
