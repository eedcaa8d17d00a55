"""The run store: every run's config, status, per-epoch metrics and timings, and its selections.

SQLite by default (one file, WAL: one writer and many readers at once); any SQLAlchemy URL works for a
server database. Large per-epoch arrays (pool scores, gradient embeddings, 2-D maps) live in a
per-run artifacts folder, not in the database.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from sqlalchemy import (JSON, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text,
                        create_engine, event, func, insert, select, update)
from sqlalchemy.engine import Engine

from . import migrations, paths

QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED = (
    "queued", "running", "finished", "failed", "cancelled", "interrupted")
ACTIVE = (QUEUED, RUNNING)
DONE = (FINISHED, FAILED, CANCELLED, INTERRUPTED)
STALE_AFTER_S = 180  # a running run on another host whose heartbeat is this old is considered dead

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False, default="run"),
    Column("status", String(16), nullable=False, index=True),
    Column("dataset", String(64)), Column("target_class", Integer), Column("target_name", String(128)),
    Column("sampler", String(64)), Column("pn_ratio", Float), Column("seed", Integer),
    Column("model", String(64)), Column("head", String(64)),
    Column("epochs_total", Integer), Column("epochs_done", Integer, default=0),
    Column("n_pos", Integer), Column("pool_size", Integer), Column("k", Integer),
    Column("final_ap", Float), Column("final_auc", Float), Column("final_dprime", Float),
    Column("config", JSON, nullable=False), Column("result", JSON),
    Column("error", Text), Column("sweep_id", String(64), index=True),
    Column("created_at", Float), Column("started_at", Float), Column("finished_at", Float),
    Column("heartbeat", Float), Column("pid", Integer), Column("host", String(255)),
    Column("cancel_requested", Boolean, default=False),
    Column("name", String(200)), Column("tags", JSON), Column("notes", Text),
    Column("archived", Boolean, nullable=False, default=False), Column("device", String(16)),
    sqlite_autoincrement=True,  # ids are never reused
)

epochs = Table(
    "epochs", metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("epoch", Integer, primary_key=True),
    Column("train_loss", Float), Column("val_loss", Float), Column("val_ap", Float),
    Column("ap", Float), Column("auc", Float), Column("dprime", Float),
    Column("n_pos", Integer), Column("n_neg", Integer), Column("resampled", Boolean),
    Column("t_score", Float), Column("t_select", Float), Column("t_train", Float), Column("t_eval", Float),
)

selections = Table(
    "selections", metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("epoch", Integer, primary_key=True),
    Column("rank", Integer, primary_key=True),  # pick order
    Column("bag_id", Integer, nullable=False),
    Column("score", Float),
    Index("ix_selections_bag", "run_id", "bag_id"),
)

sweeps = Table(
    "sweeps", metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("backend", String(16)),
    Column("config", JSON, nullable=False),
    Column("n_runs", Integer),
    Column("created_at", Float), Column("finished_at", Float),
    Column("error", Text),
)

store_meta = Table(
    "store_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

EPOCH_FIELDS = [c.name for c in epochs.columns if c.name not in ("run_id", "epoch")]


def _finite(value):
    """JSON and some databases reject NaN/inf: store them as NULL."""
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return float(value) if isinstance(value, np.floating) else value


class RunStore:
    def __init__(self, url: str | None = None, artifacts: str | Path | None = None):
        self.url = url or paths.store_url()
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(self.url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        migrations.ensure_current(self.engine)  # writes only when the store is new or made by an older release
        self.artifacts_root = Path(artifacts) if artifacts else _default_artifacts(self.url)

    @property
    def store_id(self) -> str:
        """This store's own id (made when the store was created): a recreated store never repeats it."""
        with self.engine.connect() as db:
            return db.execute(select(store_meta.c.value).where(store_meta.c.key == "store_id")).scalar_one()

    # --- runs ---------------------------------------------------------------------------------------

    def create_run(self, config: dict[str, Any], kind: str = "run", sweep_id: str | None = None,
                   status: str = QUEUED, **summary: Any) -> int:
        row = {"kind": kind, "status": status, "config": config, "sweep_id": sweep_id, "created_at": time.time(),
               "epochs_done": 0, "cancel_requested": False,
               "dataset": config.get("dataset"), "sampler": config.get("sampler"), "pn_ratio": config.get("pn_ratio"),
               "seed": config.get("seed"), "model": config.get("model"), "head": config.get("head"),
               "epochs_total": config.get("epochs"),
               "target_class": config["target_class"] if isinstance(config.get("target_class"), int) else None}
        row.update(summary)
        with self.engine.begin() as db:
            return int(db.execute(insert(runs).values(**row)).inserted_primary_key[0])

    def update_run(self, run_id: int, **values: Any) -> None:
        values = {k: _finite(v) for k, v in values.items()}
        with self.engine.begin() as db:
            db.execute(update(runs).where(runs.c.id == run_id).values(**values))

    def start_run(self, run_id: int, **summary: Any) -> None:
        now = time.time()
        self.update_run(run_id, status=RUNNING, started_at=now, heartbeat=now, pid=os.getpid(),
                        host=socket.gethostname(), error=None, **summary)

    def claim_run(self, run_id: int, pid: int | None = None, host: str | None = None) -> bool:
        """Atomically move a queued run to running: of two dispatchers (or a dispatcher and Ray) only one wins."""
        with self.engine.begin() as db:
            claimed = db.execute(update(runs).where(runs.c.id == run_id, runs.c.status == QUEUED).values(
                status=RUNNING, heartbeat=time.time(), pid=pid, host=host)).rowcount
        return claimed == 1

    def finish_run(self, run_id: int, status: str, error: str | None = None, result: Any = None) -> None:
        values = {"status": status, "finished_at": time.time(), "error": error}
        if result is not None:
            values["result"] = result
        self.update_run(run_id, **values)

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        """The run's row, with the status a reader should show (see `shown`)."""
        with self.engine.connect() as db:
            row = db.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        return shown(dict(row)) if row else None

    def list_runs(self, limit: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Newest first. Filters are column=value, or column=[values]."""
        query = select(runs).order_by(runs.c.id.desc())
        for name, value in filters.items():
            column = runs.c[name]
            query = query.where(column.in_(value) if isinstance(value, (list, tuple, set)) else column == value)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as db:
            return [shown(dict(r)) for r in db.execute(query).mappings()]

    def count_runs(self, **filters: Any) -> int:
        query = select(func.count()).select_from(runs)
        for name, value in filters.items():
            query = query.where(runs.c[name] == value)
        with self.engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def delete_run(self, run_id: int) -> None:
        with self.engine.begin() as db:
            db.execute(selections.delete().where(selections.c.run_id == run_id))
            db.execute(epochs.delete().where(epochs.c.run_id == run_id))
            db.execute(runs.delete().where(runs.c.id == run_id))
        shutil.rmtree(self.run_dir(run_id, create=False), ignore_errors=True)

    def reset_run(self, run_id: int) -> None:
        """Queue a run again from scratch (a sweep's retry or resume): its epochs, selections and artifacts go,
        its id, config and sweep stay."""
        with self.engine.begin() as db:
            db.execute(selections.delete().where(selections.c.run_id == run_id))
            db.execute(epochs.delete().where(epochs.c.run_id == run_id))
            db.execute(update(runs).where(runs.c.id == run_id).values(
                status=QUEUED, epochs_done=0, final_ap=None, final_auc=None, final_dprime=None, result=None,
                error=None, started_at=None, finished_at=None, heartbeat=None, pid=None, host=None,
                cancel_requested=False))
        shutil.rmtree(self.run_dir(run_id, create=False), ignore_errors=True)

    # --- cancellation and liveness -------------------------------------------------------------------

    def request_cancel(self, run_id: int) -> None:
        """Ask a run to stop: a queued run is cancelled at once, a running one at its next check (seconds)."""
        with self.engine.begin() as db:
            db.execute(update(runs).where(runs.c.id == run_id, runs.c.status == QUEUED)
                       .values(status=CANCELLED, finished_at=time.time(), cancel_requested=True))
            db.execute(update(runs).where(runs.c.id == run_id, runs.c.status == RUNNING)
                       .values(cancel_requested=True))

    def cancel_requested(self, run_id: int) -> bool:
        with self.engine.connect() as db:
            return bool(db.execute(select(runs.c.cancel_requested).where(runs.c.id == run_id)).scalar())

    def heartbeat(self, run_id: int) -> None:
        self.update_run(run_id, heartbeat=time.time())

    def mark_dead_runs_interrupted(self) -> list[int]:
        """Runs recorded as running whose worker is gone: record them interrupted (their epochs stay). Only the
        dispatcher and explicit commands call this; readers show the same status without writing it."""
        dead = [run for run in self.list_runs(status=RUNNING) if run["status"] == INTERRUPTED]
        for run in dead:
            self.finish_run(run["id"], INTERRUPTED, error=run["error"])
        return [run["id"] for run in dead]

    # --- epochs and selections ----------------------------------------------------------------------

    def add_epoch(self, run_id: int, epoch: int, record: dict[str, Any]) -> None:
        row = {k: _finite(record.get(k)) for k in EPOCH_FIELDS}
        with self.engine.begin() as db:
            db.execute(insert(epochs).values(run_id=run_id, epoch=epoch, **row))
            db.execute(update(runs).where(runs.c.id == run_id).values(
                epochs_done=epoch, heartbeat=time.time(), final_ap=_finite(record.get("ap")),
                final_auc=_finite(record.get("auc")), final_dprime=_finite(record.get("dprime"))))

    def epochs(self, run_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as db:
            rows = db.execute(select(epochs).where(epochs.c.run_id == run_id).order_by(epochs.c.epoch)).mappings()
            return [dict(r) for r in rows]

    def epochs_for(self, run_ids: Iterable[int]) -> list[dict[str, Any]]:
        with self.engine.connect() as db:
            rows = db.execute(select(epochs).where(epochs.c.run_id.in_(list(run_ids)))
                              .order_by(epochs.c.run_id, epochs.c.epoch)).mappings()
            return [dict(r) for r in rows]

    def add_selection(self, run_id: int, epoch: int, bag_ids: np.ndarray, scores: np.ndarray) -> None:
        rows = [{"run_id": run_id, "epoch": epoch, "rank": rank, "bag_id": int(b), "score": _finite(float(s))}
                for rank, (b, s) in enumerate(zip(bag_ids, scores))]
        if rows:
            with self.engine.begin() as db:
                db.execute(insert(selections), rows)

    def selection(self, run_id: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(bag ids in pick order, their scores) for one epoch."""
        with self.engine.connect() as db:
            rows = db.execute(select(selections.c.bag_id, selections.c.score)
                              .where(selections.c.run_id == run_id, selections.c.epoch == epoch)
                              .order_by(selections.c.rank)).all()
        return (np.array([r[0] for r in rows], dtype=np.int64),
                np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=np.float64))

    def selection_counts(self, run_id: int, up_to_epoch: int | None = None) -> dict[int, int]:
        """How many times each bag was selected (through an epoch, inclusive)."""
        query = select(selections.c.bag_id, func.count()).where(selections.c.run_id == run_id)
        if up_to_epoch is not None:
            query = query.where(selections.c.epoch <= up_to_epoch)
        with self.engine.connect() as db:
            return {int(b): int(n) for b, n in db.execute(query.group_by(selections.c.bag_id))}

    # --- sweeps ---------------------------------------------------------------------------------------

    def create_sweep(self, sweep_id: str, config: dict[str, Any], backend: str, n_runs: int) -> None:
        with self.engine.begin() as db:
            db.execute(insert(sweeps).values(id=sweep_id, status=RUNNING, backend=backend, config=config,
                                             n_runs=n_runs, created_at=time.time()))

    def claim_sweep(self, sweep_id: str) -> bool:
        """Atomically move a sweep waiting to start to running: a cancel that came first wins."""
        with self.engine.begin() as db:
            return db.execute(update(sweeps).where(sweeps.c.id == sweep_id, sweeps.c.status == QUEUED)
                              .values(status=RUNNING)).rowcount == 1

    def get_sweep(self, sweep_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as db:
            row = db.execute(select(sweeps).where(sweeps.c.id == sweep_id)).mappings().first()
        return dict(row) if row else None

    def list_sweeps(self) -> list[dict[str, Any]]:
        with self.engine.connect() as db:
            return [dict(r) for r in db.execute(select(sweeps).order_by(sweeps.c.created_at.desc())).mappings()]

    def update_sweep(self, sweep_id: str, **values: Any) -> None:
        with self.engine.begin() as db:
            db.execute(update(sweeps).where(sweeps.c.id == sweep_id).values(**values))

    # --- artifacts -----------------------------------------------------------------------------------

    def run_dir(self, run_id: int, create: bool = True) -> Path:
        folder = self.artifacts_root / str(run_id)
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return folder

    def save_epoch_arrays(self, run_id: int, epoch: int, **arrays: np.ndarray) -> Path:
        """Write one epoch's arrays atomically (a reader never sees half a file)."""
        path = self.run_dir(run_id) / f"epoch_{epoch:04d}.npz"
        partial = path.with_suffix(".partial.npz")
        np.savez(partial, **arrays)
        os.replace(partial, path)
        return path

    def load_epoch_arrays(self, run_id: int, epoch: int) -> dict[str, np.ndarray] | None:
        path = self.run_dir(run_id, create=False) / f"epoch_{epoch:04d}.npz"
        if not path.is_file():
            return None
        with np.load(path) as data:
            return {k: data[k] for k in data.files}

    def saved_epochs(self, run_id: int) -> list[int]:
        folder = self.run_dir(run_id, create=False)
        return sorted(int(p.stem.split("_")[1]) for p in folder.glob("epoch_*.npz") if "partial" not in p.name)


def open_store(url: str | None = None) -> RunStore:
    """The process's one RunStore for a URL and artifacts folder (pages call this on every rerun; a store opened
    once keeps its connection pool)."""
    url = url or paths.store_url()
    return _open_store(url, str(_default_artifacts(url)))


@functools.lru_cache(maxsize=8)
def _open_store(url: str, artifacts: str) -> RunStore:
    return RunStore(url, artifacts)


def shown(run: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """A run row as a reader shows it: a run recorded as running whose worker is gone is shown interrupted (its
    process on this host has exited, or, elsewhere, its heartbeat is older than STALE_AFTER_S). `stored_status`
    keeps what the store says. Computed, never written: only the worker, the dispatcher or a command writes."""
    run["stored_status"] = run["status"]
    if run["status"] == RUNNING and _worker_gone(run, now or time.time()):
        run["status"] = INTERRUPTED
        run["error"] = run["error"] or f"the worker stopped after epoch {run['epochs_done']}; finished epochs are kept"
    return run


def _worker_gone(run: dict[str, Any], now: float) -> bool:
    if run["pid"] is not None and run["host"] in (socket.gethostname(), None):  # a process here: ask the OS
        return not _pid_alive(run["pid"])
    # another host, or claimed and its worker still starting: judge by the heartbeat
    return (run["heartbeat"] or 0) < now - STALE_AFTER_S


def _default_artifacts(url: str) -> Path:
    """Beside a SQLite file (so two stores never share run folders); else $WEAKNEG_ARTIFACTS."""
    if url.startswith("sqlite:///") and "WEAKNEG_ARTIFACTS" not in os.environ:
        db = Path(url.removeprefix("sqlite:///")).expanduser()
        return db.parent / f"{db.stem}_artifacts"
    return paths.artifacts_root()


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not alive
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
