"""The run store: every run's config, status, per-epoch metrics and timings, and its selections.

SQLite by default (one file, WAL: one writer and many readers at once); any SQLAlchemy URL works for a
server database (PostgreSQL is tested). Large per-run blobs (per-epoch pool scores and gradient embeddings,
2-D maps, the resume checkpoint) live, with SQLite, in a per-run artifacts folder keyed by the store's own id
and the run id (a recreated store can never mistake an old folder for a new run); with a server database, in
its `artifacts` table, so that every node of a cluster and the app reach them without a shared filesystem.

A store whose SQLite file or folder is not writable (permissions, a read-only mount), or asked for with
`sqlite:///PATH?mode=ro`, opens read-only: every read works, nothing is attempted that would write.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import re
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any
from collections.abc import Iterable

import numpy as np
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
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from . import liveness, migrations, paths
from .errors import WeaknegError

QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED = (
    "queued",
    "running",
    "finished",
    "failed",
    "cancelled",
    "interrupted",
)
ACTIVE = (QUEUED, RUNNING)
DONE = (FINISHED, FAILED, CANCELLED, INTERRUPTED)
STALE_AFTER_S = liveness.STALE_AFTER_S  # a running run whose heartbeat is this old is shown interrupted
# who executes a run: jobs.py's dispatcher, a Ray sweep's driver, or the process that created it (`run`)
LOCAL, RAY, DIRECT = "local", "ray", "direct"

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


def _finite(value):
    """JSON and some databases reject NaN/inf: store them as NULL."""
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return float(value) if isinstance(value, np.floating) else value


class CorruptArtifact(WeaknegError):
    """A stored array file cannot be read; the message names it and what to do."""


class RunStore:
    def __init__(self, url: str | None = None, artifacts: str | Path | None = None, read_only: bool | None = None):
        self.url = paths.store_url() if url is None else url
        try:
            self._open(read_only)
        except WeaknegError:
            raise
        except Exception as error:  # a URL or database that cannot work: one line, nothing written
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise WeaknegError(f"cannot open the run store {self.url!r}: {type(error).__name__}: {first}") from error
        self.artifacts_root = Path(artifacts) if artifacts else _default_artifacts(self.url)
        if not self.read_only and artifacts is None and _artifacts_beside_file(self.url):
            self._adopt_first_release_folders()

    def _open(self, read_only: bool | None) -> None:
        check_url(self.url)
        sqlite_file = _sqlite_file(self.url)
        self.read_only = (
            bool(read_only)
            if read_only is not None
            else (sqlite_file is not None and ("mode=ro" in self.url or _not_writable(sqlite_file)))
        )
        if sqlite_file is not None and not self.read_only:
            sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        if self.read_only and sqlite_file is not None:
            if not sqlite_file.is_file():
                raise WeaknegError(f"no run store at {sqlite_file} (and its folder is read-only, so none can be made)")
            self.engine: Engine = _read_only_sqlite(sqlite_file)
        else:
            self.engine = create_engine(self.url, future=True)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
        if self.read_only:
            migrations.require_current(self.engine)
        else:
            migrations.ensure_current(self.engine)  # writes only when the store is new or made by an older release
        self.arrays_in_database = self.engine.dialect.name != "sqlite"

    @functools.cached_property
    def store_id(self) -> str:
        """This store's own id (made when the store was created): a recreated store never repeats it."""
        with self.engine.connect() as db:
            return db.execute(select(store_meta.c.value).where(store_meta.c.key == "store_id")).scalar_one()

    def _adopt_first_release_folders(self) -> None:
        """The first release kept a run's files at <root>/<run_id>; now they sit at <root>/<store_id>/<run_id>.
        A root beside a SQLite file belongs to that store alone, so its numbered folders of runs it still holds
        move under its id once, and old runs keep their maps and arrays."""
        root = self.artifacts_root
        legacy = [p for p in root.iterdir() if p.is_dir() and p.name.isdigit()] if root.is_dir() else []
        if not legacy:
            return
        with self.engine.connect() as db:
            held = {
                str(i)
                for i in db.execute(select(runs.c.id).where(runs.c.id.in_([int(p.name) for p in legacy]))).scalars()
            }
        for folder in legacy:
            target = root / self.store_id / folder.name
            if folder.name in held and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                folder.rename(target)

    # --- runs ---------------------------------------------------------------------------------------

    def create_run(
        self,
        config: dict[str, Any],
        kind: str = "run",
        sweep_id: str | None = None,
        status: str = QUEUED,
        backend: str = LOCAL,
        **summary: Any,
    ) -> int:
        row = {
            "kind": kind,
            "status": status,
            "config": config,
            "sweep_id": sweep_id,
            "created_at": time.time(),
            "backend": backend,
            "epochs_done": 0,
            "cancel_requested": False,
            "dataset": config.get("dataset"),
            "sampler": config.get("sampler"),
            "pn_ratio": config.get("pn_ratio"),
            "seed": config.get("seed"),
            "model": config.get("model"),
            "head": config.get("head"),
            "epochs_total": config.get("epochs"),
            "target_class": config["target_class"] if isinstance(config.get("target_class"), int) else None,
        }
        row.update(summary)
        with self.engine.begin() as db:
            return int(db.execute(insert(runs).values(**row)).inserted_primary_key[0])

    def update_run(self, run_id: int, **values: Any) -> None:
        values = {k: _finite(v) for k, v in values.items()}
        if not values:
            return
        with self.engine.begin() as db:
            db.execute(update(runs).where(runs.c.id == run_id).values(**values))

    def start_run(self, run_id: int, **summary: Any) -> None:
        now = time.time()
        self.update_run(
            run_id, status=RUNNING, started_at=now, heartbeat=now, error=None, **liveness.identity(), **summary
        )

    def claim_run(
        self, run_id: int, pid: int | None = None, host: str | None = None, backend: str | None = None
    ) -> bool:
        """Atomically move a queued run to running: of two dispatchers (or a dispatcher and Ray) only one wins.
        With `backend`, only a run queued for that backend (a Ray sweep's runs are never a local worker's)."""
        query = update(runs).where(runs.c.id == run_id, runs.c.status == QUEUED)
        if backend == LOCAL:
            query = query.where((runs.c.backend == LOCAL) | runs.c.backend.is_(None))
        elif backend is not None:
            query = query.where(runs.c.backend == backend)
        start = liveness.process_start(pid) if pid and (host in (None, liveness.host())) else None
        with self.engine.begin() as db:
            claimed = db.execute(
                query.values(status=RUNNING, heartbeat=time.time(), pid=pid, host=host, process_start=start)
            ).rowcount
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
        """Remove a run with its epochs, selections and artifacts. A sweep's run leaves its sweep one run smaller
        (n_runs), so the sweep's progress still counts done / runs that exist; resuming the sweep recreates it."""
        with self.engine.begin() as db:
            sweep_id = db.execute(select(runs.c.sweep_id).where(runs.c.id == run_id)).scalar_one_or_none()
            db.execute(artifacts.delete().where(artifacts.c.run_id == run_id))
            db.execute(selections.delete().where(selections.c.run_id == run_id))
            db.execute(epochs.delete().where(epochs.c.run_id == run_id))
            if db.execute(runs.delete().where(runs.c.id == run_id)).rowcount and sweep_id is not None:
                db.execute(
                    update(sweeps)
                    .where(sweeps.c.id == sweep_id, sweeps.c.n_runs > 0)
                    .values(n_runs=sweeps.c.n_runs - 1)
                )
        shutil.rmtree(self.run_dir(run_id, create=False), ignore_errors=True)

    def reset_run(self, run_id: int) -> None:
        """Queue a run again from scratch (a sweep's retry or resume): its epochs, selections and artifacts go,
        its id, config and sweep stay."""
        with self.engine.begin() as db:
            db.execute(artifacts.delete().where(artifacts.c.run_id == run_id))
            db.execute(selections.delete().where(selections.c.run_id == run_id))
            db.execute(epochs.delete().where(epochs.c.run_id == run_id))
            db.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    status=QUEUED,
                    epochs_done=0,
                    final_ap=None,
                    final_auc=None,
                    final_dprime=None,
                    result=None,
                    error=None,
                    started_at=None,
                    finished_at=None,
                    heartbeat=None,
                    pid=None,
                    host=None,
                    process_start=None,
                    cancel_requested=False,
                )
            )
        shutil.rmtree(self.run_dir(run_id, create=False), ignore_errors=True)

    def requeue_run(self, run_id: int, backend: str | None = None) -> bool:
        """Queue an interrupted or failed run again, keeping its epochs and checkpoint: its worker resumes from
        the last checkpoint. Returns False when the run is not in a state to resume."""
        values = dict(
            status=QUEUED,
            error=None,
            finished_at=None,
            heartbeat=None,
            pid=None,
            host=None,
            process_start=None,
            cancel_requested=False,
        )
        if backend:
            values["backend"] = backend
        run = self.get_run(run_id)
        if run is None or run["status"] not in (INTERRUPTED, FAILED, CANCELLED):
            return False
        with self.engine.begin() as db:  # the stored status may still say running (a dead worker)
            return (
                db.execute(
                    update(runs).where(runs.c.id == run_id, runs.c.status == run["stored_status"]).values(**values)
                ).rowcount
                == 1
            )

    def truncate_run(self, run_id: int, after_epoch: int) -> None:
        """Forget what a killed worker recorded after its last checkpoint (epochs, selections, arrays, maps)."""
        with self.engine.begin() as db:
            db.execute(selections.delete().where(selections.c.run_id == run_id, selections.c.epoch > after_epoch))
            db.execute(epochs.delete().where(epochs.c.run_id == run_id, epochs.c.epoch > after_epoch))
            db.execute(update(runs).where(runs.c.id == run_id).values(epochs_done=after_epoch))
        for name in self.artifact_names(run_id):
            match = re.match(r"(?:epoch|map)_(\d{4})", name)
            if match and int(match.group(1)) > after_epoch:
                self.delete_artifact(run_id, name)

    # --- cancellation and liveness -------------------------------------------------------------------

    def request_cancel(self, run_id: int) -> None:
        """Ask a run to stop: a queued run is cancelled at once, a running one at its next check (seconds)."""
        with self.engine.begin() as db:
            db.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status == QUEUED)
                .values(status=CANCELLED, finished_at=time.time(), cancel_requested=True)
            )
            db.execute(update(runs).where(runs.c.id == run_id, runs.c.status == RUNNING).values(cancel_requested=True))

    def cancel_requested(self, run_id: int) -> bool:
        with self.engine.connect() as db:
            return bool(db.execute(select(runs.c.cancel_requested).where(runs.c.id == run_id)).scalar())

    def heartbeat(self, run_id: int) -> None:
        self.update_run(run_id, heartbeat=time.time())

    def keep_alive(self, run_id: int) -> liveness.Heartbeat:
        """A context manager: the run's heartbeat, every few seconds from a thread, while the block runs."""
        return liveness.Heartbeat(lambda: self.heartbeat(run_id), name=f"heartbeat-run-{run_id}")

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
            db.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    epochs_done=epoch,
                    heartbeat=time.time(),
                    final_ap=_finite(record.get("ap")),
                    final_auc=_finite(record.get("auc")),
                    final_dprime=_finite(record.get("dprime")),
                )
            )

    def epochs(self, run_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as db:
            rows = db.execute(select(epochs).where(epochs.c.run_id == run_id).order_by(epochs.c.epoch)).mappings()
            return [dict(r) for r in rows]

    def epochs_for(self, run_ids: Iterable[int]) -> list[dict[str, Any]]:
        with self.engine.connect() as db:
            rows = db.execute(
                select(epochs).where(epochs.c.run_id.in_(list(run_ids))).order_by(epochs.c.run_id, epochs.c.epoch)
            ).mappings()
            return [dict(r) for r in rows]

    def add_selection(self, run_id: int, epoch: int, bag_ids: np.ndarray, scores: np.ndarray) -> None:
        rows = [
            {"run_id": run_id, "epoch": epoch, "rank": rank, "bag_id": int(b), "score": _finite(float(s))}
            for rank, (b, s) in enumerate(zip(bag_ids, scores))
        ]
        if rows:
            with self.engine.begin() as db:
                db.execute(insert(selections), rows)

    def selection(self, run_id: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(bag ids in pick order, their scores) for one epoch."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(selections.c.bag_id, selections.c.score)
                .where(selections.c.run_id == run_id, selections.c.epoch == epoch)
                .order_by(selections.c.rank)
            ).all()
        return (
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=np.float64),
        )

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
            db.execute(
                insert(sweeps).values(
                    id=sweep_id, status=RUNNING, backend=backend, config=config, n_runs=n_runs, created_at=time.time()
                )
            )

    def claim_sweep(self, sweep_id: str) -> bool:
        """Atomically move a sweep waiting to start to running: a cancel that came first wins."""
        with self.engine.begin() as db:
            return (
                db.execute(
                    update(sweeps).where(sweeps.c.id == sweep_id, sweeps.c.status == QUEUED).values(status=RUNNING)
                ).rowcount
                == 1
            )

    def get_sweep(self, sweep_id: str) -> dict[str, Any] | None:
        """The sweep's row, with the status a reader should show (see `shown_sweep`)."""
        with self.engine.connect() as db:
            row = db.execute(select(sweeps).where(sweeps.c.id == sweep_id)).mappings().first()
        return shown_sweep(dict(row)) if row else None

    def list_sweeps(self) -> list[dict[str, Any]]:
        with self.engine.connect() as db:
            return [
                shown_sweep(dict(r)) for r in db.execute(select(sweeps).order_by(sweeps.c.created_at.desc())).mappings()
            ]

    def drive_sweep(self, sweep_id: str) -> liveness.Heartbeat:
        """This process drives the sweep: record its identity; the returned context manager beats its heartbeat."""
        self.update_sweep(
            sweep_id,
            heartbeat=time.time(),
            driver_pid=os.getpid(),
            driver_host=liveness.host(),
            driver_start=liveness.process_start(os.getpid()),
        )
        return liveness.Heartbeat(
            lambda: self.update_sweep(sweep_id, heartbeat=time.time()), name=f"heartbeat-sweep-{sweep_id}"
        )

    def update_sweep(self, sweep_id: str, **values: Any) -> None:
        with self.engine.begin() as db:
            db.execute(update(sweeps).where(sweeps.c.id == sweep_id).values(**values))

    # --- artifacts: per-run blobs (files beside a SQLite store, rows of `artifacts` in a server database) -----

    def run_dir(self, run_id: int, create: bool = True) -> Path:
        """The run's local folder (its worker.log, failure sidecar and, with SQLite, its arrays), keyed by the
        store's id so that a recreated store's run 1 never meets an old run 1's files."""
        folder = self.artifacts_root / self.store_id / str(run_id)
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return folder

    def save_blob(self, run_id: int, name: str, data: bytes) -> None:
        """Write one named blob atomically (a reader sees the old one or the new one, never half of it)."""
        if self.arrays_in_database:
            with self.engine.begin() as db:
                db.execute(delete(artifacts).where(artifacts.c.run_id == run_id, artifacts.c.name == name))
                db.execute(insert(artifacts).values(run_id=run_id, name=name, data=data, saved_at=time.time()))
            return
        path = self.run_dir(run_id) / name
        partial = path.with_name(path.name + ".partial")
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # a crash right after the rename still finds the whole file
        os.replace(partial, path)

    def load_blob(self, run_id: int, name: str) -> bytes | None:
        if self.arrays_in_database:
            with self.engine.connect() as db:
                return db.execute(
                    select(artifacts.c.data).where(artifacts.c.run_id == run_id, artifacts.c.name == name)
                ).scalar()
        path = self.run_dir(run_id, create=False) / name
        return path.read_bytes() if path.is_file() else None

    def artifact_names(self, run_id: int) -> list[str]:
        if self.arrays_in_database:
            with self.engine.connect() as db:
                return sorted(db.execute(select(artifacts.c.name).where(artifacts.c.run_id == run_id)).scalars())
        folder = self.run_dir(run_id, create=False)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.endswith(".partial"))

    def has_artifact(self, run_id: int, name: str) -> bool:
        if self.arrays_in_database:
            with self.engine.connect() as db:
                return (
                    db.execute(
                        select(func.count())
                        .select_from(artifacts)
                        .where(artifacts.c.run_id == run_id, artifacts.c.name == name)
                    ).scalar_one()
                    > 0
                )
        return (self.run_dir(run_id, create=False) / name).is_file()

    def delete_artifact(self, run_id: int, name: str) -> None:
        if self.arrays_in_database:
            with self.engine.begin() as db:
                db.execute(delete(artifacts).where(artifacts.c.run_id == run_id, artifacts.c.name == name))
        else:
            (self.run_dir(run_id, create=False) / name).unlink(missing_ok=True)

    def save_arrays(self, run_id: int, name: str, **arrays: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        self.save_blob(run_id, name, buffer.getvalue())

    def load_arrays(self, run_id: int, name: str) -> dict[str, np.ndarray] | None:
        data = self.load_blob(run_id, name)
        if data is None:
            return None
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
                return {k: loaded[k] for k in loaded.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as error:
            where = (
                f"artifact {name!r} of run {run_id} in {self.url}"
                if self.arrays_in_database
                else str(self.run_dir(run_id, create=False) / name)
            )
            raise CorruptArtifact(
                f"{where} is corrupt or truncated ({type(error).__name__}: {error}); delete it "
                f"and resume the run (`python -m weakneg resume {run_id}`) to rewrite it, or "
                f"delete the run"
            ) from error

    def save_epoch_arrays(self, run_id: int, epoch: int, **arrays: np.ndarray) -> None:
        """Write one epoch's arrays atomically (a reader never sees half a file)."""
        self.save_arrays(run_id, f"epoch_{epoch:04d}.npz", **arrays)

    def load_epoch_arrays(self, run_id: int, epoch: int) -> dict[str, np.ndarray] | None:
        return self.load_arrays(run_id, f"epoch_{epoch:04d}.npz")

    def saved_epochs(self, run_id: int) -> list[int]:
        return sorted(
            int(m.group(1)) for name in self.artifact_names(run_id) if (m := re.fullmatch(r"epoch_(\d{4})\.npz", name))
        )

    def save_checkpoint(self, run_id: int, data: bytes) -> None:
        self.save_blob(run_id, CHECKPOINT, data)

    def load_checkpoint(self, run_id: int) -> bytes | None:
        return self.load_blob(run_id, CHECKPOINT)

    # --- failures a worker could not record ----------------------------------------------------------

    def failure_sidecar(self, run_id: int) -> Path:
        return self.run_dir(run_id, create=False) / "failure.json"

    def record_sidecar_failures(self) -> list[int]:
        """Runs whose worker could not write the store (disk full, ...) left their cause in a sidecar file:
        record them failed with it, now that the store takes writes. The dispatcher calls this."""
        recorded = []
        for run in self.list_runs(status=[RUNNING, INTERRUPTED, FAILED]):
            sidecar = self.failure_sidecar(run["id"])
            if run["status"] == RUNNING or not sidecar.is_file():  # a live worker records its own outcome
                continue
            try:
                cause = json.loads(sidecar.read_text()).get("error", "unknown error")
            except (OSError, ValueError):
                cause = f"unreadable failure record {sidecar}"
            self.finish_run(run["id"], FAILED, error=f"failed: {cause}")
            sidecar.replace(sidecar.with_name("failure.recorded.json"))
            recorded.append(run["id"])
        return recorded


CHECKPOINT = "checkpoint.pt"


def check_url(url: str) -> None:
    """Refuse a store URL that cannot work before anything is opened or created."""
    from sqlalchemy.engine import make_url

    if not url.strip():
        raise WeaknegError("the store URL is empty; give e.g. sqlite:///runs.db or postgresql+psycopg://host/db")
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy's parse errors are of several kinds
        raise WeaknegError(
            f"{url!r} is not a database URL; give e.g. sqlite:///runs.db or postgresql+psycopg://host/db"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise WeaknegError(
            f"{url!r} names no file: a store in memory is lost when the command ends; give sqlite:///PATH"
        )
    db = _sqlite_file(url)
    if db is not None and db.exists() and not db.is_file():
        raise WeaknegError(f"the store {db} is a folder, not a SQLite file")


def open_existing(url: str | None = None) -> RunStore | None:
    """The store to read from, or None when its SQLite file does not exist (a read never creates one)."""
    url = paths.store_url() if url is None else url
    check_url(url)
    db = _sqlite_file(url)
    if db is not None and not db.exists():
        return None
    return RunStore(url)


def open_store(url: str | None = None) -> RunStore:
    """The process's one RunStore for a URL and artifacts folder (pages call this on every rerun; a store opened
    once keeps its connection pool)."""
    url = url or paths.store_url()
    return _open_store(url, str(_default_artifacts(url)))


@functools.lru_cache(maxsize=8)
def _open_store(url: str, artifacts: str) -> RunStore:
    return RunStore(url, artifacts)


def shown(run: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """A run row as a reader shows it: a run recorded as running whose worker is gone is shown interrupted: its
    heartbeat is older than STALE_AFTER_S (30 s; the worker beats every 2 s whatever it is doing), or, on this
    host, its process (PID and start time) has exited. `stored_status` keeps what the store says. Computed,
    never written: only the worker, the dispatcher or a command writes."""
    run["stored_status"] = run["status"]
    if run["status"] == RUNNING and _worker_gone(run, now or time.time()):
        run["status"] = INTERRUPTED
        run["error"] = run["error"] or f"the worker stopped after epoch {run['epochs_done']}; finished epochs are kept"
    return run


def _worker_gone(run: dict[str, Any], now: float) -> bool:
    if (run["heartbeat"] or 0) < now - STALE_AFTER_S:
        return True
    return liveness.same_process_alive(run["pid"], run.get("process_start"), run["host"]) is False


def shown_sweep(sweep: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """A sweep as a reader shows it: running with its driver gone (same rule as runs) shows interrupted."""
    sweep["stored_status"] = sweep["status"]
    if sweep["status"] == RUNNING and sweep.get("heartbeat") is not None:
        gone = (
            sweep["heartbeat"] < (now or time.time()) - STALE_AFTER_S
            or liveness.same_process_alive(sweep["driver_pid"], sweep["driver_start"], sweep["driver_host"]) is False
        )
        if gone:
            sweep["status"] = INTERRUPTED
            sweep["error"] = sweep["error"] or (
                f"the sweep's driver stopped; resume with `python -m weakneg sweep --sweep-id {sweep['id']}`"
            )
    return sweep


def _artifacts_beside_file(url: str) -> bool:
    return url.startswith("sqlite:///") and "WEAKNEG_ARTIFACTS" not in os.environ


def _default_artifacts(url: str) -> Path:
    """Beside a SQLite file (so two stores never share run folders); else $WEAKNEG_ARTIFACTS."""
    if _artifacts_beside_file(url):
        db = Path(url.removeprefix("sqlite:///")).expanduser()
        return db.parent / f"{db.stem}_artifacts"
    return paths.artifacts_root()


def _sqlite_file(url: str) -> Path | None:
    if not url.startswith("sqlite:///") or url.removeprefix("sqlite:///") in ("", ":memory:"):
        return None
    return Path(url.removeprefix("sqlite:///").split("?")[0]).expanduser()


def _not_writable(db: Path) -> bool:
    """A store we must not (or cannot) write: its file or folder is read-only. Root passes every permission
    check, so this also asks whether the folder's file system is mounted read-only."""
    if not db.parent.exists():
        return False
    if not os.access(db.parent, os.W_OK) or (db.exists() and not os.access(db, os.W_OK)):
        return True
    try:
        return bool(os.statvfs(db.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _read_only_sqlite(db: Path) -> Engine:
    """Open a SQLite file without writing anything. With a -wal file beside it (a writer is at work, or died),
    mode=ro reads the committed pages in it; without one, immutable=1: SQLite then creates no -shm or -wal (a
    read-only folder cannot take them, and no writer can start there)."""
    import sqlite3

    def connect():
        if Path(f"{db}-wal").exists():
            try:
                connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return connection
            except sqlite3.OperationalError:
                pass  # its -shm cannot be opened: read the main file alone
        return sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True, check_same_thread=False)

    return create_engine("sqlite://", creator=connect, future=True)


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
