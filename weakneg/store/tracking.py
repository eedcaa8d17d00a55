"""The run store: every run's config, status, per-epoch metrics and timings, its selections, and its sweeps.

SQLite by default (one file, WAL: one writer and many readers at once); any SQLAlchemy URL works for a server
database (PostgreSQL is tested). A run's large blobs go to the artifact repository (artifacts.py: files beside a
SQLite store, rows of the server database otherwise); this module does not know how their bytes are kept.

A store whose SQLite file or folder is not writable (permissions, a read-only mount), or asked for with
`sqlite:///PATH?mode=ro`, opens read-only: every read works, nothing is attempted that would write.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, event, insert, select, update
from sqlalchemy.engine import Engine

from .. import liveness, migrations, paths
from ..errors import WeaknegError
from .artifacts import CHECKPOINT, ArtifactRepository, DatabaseArtifacts, FileArtifacts
from .epoch_record import (
    ClassPicks,
    EpochArrays,
    PoolArrays,
    epoch_name,
    load_class_picks,
    load_class_pool,
    load_epoch_record,
    save_class_picks,
    save_class_pool,
    save_epoch_record,
)
from .connection import (
    artifacts_beside_file,
    check_url,
    default_artifacts,
    lock_file,
    not_writable,
    read_only_sqlite,
    refuse_non_store_file,
    sqlite_file,
    sqlite_pragmas,
)
from .queries import RunQueries
from .status import (
    CANCELLED,
    FAILED,
    INTERRUPTED,
    LOCAL,
    QUEUED,
    RUNNING,
    STATUSES,
    check_run_transition,
    check_sweep_transition,
)
from .tables import EPOCH_FIELDS, epochs, runs, selections, store_meta, sweeps


def finite(value):
    """JSON and some databases reject NaN/inf: store them as NULL."""
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return float(value) if isinstance(value, np.floating) else value


# A queued run has no worker, no end and no error yet: what both ways of queueing a run again clear.
NO_WORKER: dict[str, Any] = dict(
    error=None, finished_at=None, heartbeat=None, pid=None, host=None, process_start=None, cancel_requested=False
)


class RunStore(RunQueries):
    def __init__(
        self,
        url: str | None = None,
        artifacts: str | Path | None = None,
        read_only: bool | None = None,
        existing: bool = False,
    ):
        """Open (or, unless `existing`, create) a store. `existing` (reads): a file or database that is not a
        run store is refused with one line, and nothing is written to it."""
        self.url = paths.store_url() if url is None else url
        try:
            self._open(read_only, existing)
        except WeaknegError:
            raise
        except Exception as error:  # a URL or database that cannot work: one line, nothing written
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise WeaknegError(f"cannot open the run store {self.url!r}: {type(error).__name__}: {first}") from error
        self.artifacts_root = Path(artifacts) if artifacts else default_artifacts(self.url)
        self.artifacts: ArtifactRepository = (
            DatabaseArtifacts(self.artifacts_root, lambda: self.store_id, self.engine)
            if self.arrays_in_database
            else FileArtifacts(self.artifacts_root, lambda: self.store_id)
        )
        if not self.read_only and artifacts is None and artifacts_beside_file(self.url):
            self._adopt_first_release_folders()

    def _open(self, read_only: bool | None, existing: bool = False) -> None:
        check_url(self.url)
        db_file = sqlite_file(self.url)
        if existing and db_file is not None:
            refuse_non_store_file(db_file)
        self.read_only = (
            bool(read_only)
            if read_only is not None
            else (db_file is not None and ("mode=ro" in self.url or not_writable(db_file)))
        )
        if db_file is not None and not self.read_only:
            db_file.parent.mkdir(parents=True, exist_ok=True)
        if self.read_only and db_file is not None:
            if not db_file.is_file():
                raise WeaknegError(f"no run store at {db_file} (and its folder is read-only, so none can be made)")
            self.engine: Engine = read_only_sqlite(db_file)
        else:
            # a server restarted under a process leaves dead pooled connections: a ping before each use replaces them
            self.engine = create_engine(self.url, future=True, pool_pre_ping=db_file is None)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", sqlite_pragmas)
        if existing and db_file is None and not migrations.is_store(self.engine):  # a server database
            where = db_file if db_file is not None else self.engine.url.render_as_string(hide_password=True)
            raise WeaknegError(f"the store {where} is a database but has no runs table, so it is not a run store")
        if self.read_only:
            migrations.require_current(self.engine)
        else:  # writes only when the store is new or made by an older release; one process at a time
            migrations.ensure_current(self.engine, lock_file(db_file) if db_file is not None else None)
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
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
        with self.engine.begin() as db:
            key = db.execute(insert(runs).values(**row)).inserted_primary_key
            assert key is not None  # a single-row insert into a table with a primary key
            return int(key[0])

    def update_run(self, run_id: int, **values: Any) -> None:
        """Write fields of a run other than its status (that goes through `set_status`)."""
        if "status" in values:
            raise ValueError("a run's status changes only through RunStore.set_status (the status machine)")
        values = {k: finite(v) for k, v in values.items()}
        if not values:
            return
        with self.engine.begin() as db:
            db.execute(update(runs).where(runs.c.id == run_id).values(**values))

    def set_status(self, run_id: int, new: str, expect: str | tuple[str, ...] | None = None, **values: Any) -> bool:
        """The one function that writes a run's status: checks the move against the table of allowed
        transitions (status.RUN_TRANSITIONS, from the stored status or the one a reader is shown) and raises
        IllegalTransition
        otherwise; writes `values` with it, only if the stored status is still the one read (of two writers at
        once, one wins). `expect`: only from these stored statuses, else False without raising (a lost race).
        Returns whether it wrote."""
        run = self.get_run(run_id)
        if run is None or (
            expect is not None and run.stored_status not in ((expect,) if isinstance(expect, str) else expect)
        ):
            return False
        check_run_transition(run.stored_status, run.status, new, run_id)
        query = update(runs).where(runs.c.id == run_id, runs.c.status == run.stored_status)
        if "backend_in" in values:  # claim_run: only a run queued for this backend
            query = query.where(values.pop("backend_in"))
        values = {k: finite(v) for k, v in values.items()}
        with self.engine.begin() as db:
            return db.execute(query.values(status=new, **values)).rowcount == 1

    def start_run(self, run_id: int, **summary: Any) -> None:
        now = time.time()
        self.set_status(run_id, RUNNING, started_at=now, heartbeat=now, error=None, **liveness.identity(), **summary)

    def claim_run(
        self, run_id: int, pid: int | None = None, host: str | None = None, backend: str | None = None
    ) -> bool:
        """Atomically move a queued run to running: of two dispatchers (or a dispatcher and Ray) only one wins.
        With `backend`, only a run queued for that backend (a Ray sweep's runs are never a local worker's)."""
        where: dict[str, Any] = {}  # set_status's extra condition, passed by keyword
        if backend == LOCAL:
            where["backend_in"] = (runs.c.backend == LOCAL) | runs.c.backend.is_(None)
        elif backend is not None:
            where["backend_in"] = runs.c.backend == backend
        start = liveness.process_start(pid) if pid and (host in (None, liveness.host())) else None
        return self.set_status(
            run_id, RUNNING, expect=QUEUED, heartbeat=time.time(), pid=pid, host=host, process_start=start, **where
        )

    def finish_run(
        self,
        run_id: int,
        status: str,
        error: str | None = None,
        result: Any = None,
        expect: str | tuple[str, ...] | None = None,
    ) -> bool:
        """Record how a run ended (finished, failed, cancelled, interrupted), with its error and result."""
        values: dict[str, Any] = {"finished_at": time.time(), "error": error}
        if result is not None:
            values["result"] = result
        return self.set_status(run_id, status, expect=expect, **values)

    def delete_run(self, run_id: int) -> None:
        """Remove a run with its epochs, selections and artifacts. A sweep's run leaves its sweep one run smaller
        (n_runs), so the sweep's progress still counts done / runs that exist; resuming the sweep recreates it."""
        self.artifacts.delete_all(run_id)
        with self.engine.begin() as db:
            sweep_id = db.execute(select(runs.c.sweep_id).where(runs.c.id == run_id)).scalar_one_or_none()
            db.execute(selections.delete().where(selections.c.run_id == run_id))
            db.execute(epochs.delete().where(epochs.c.run_id == run_id))
            if db.execute(runs.delete().where(runs.c.id == run_id)).rowcount and sweep_id is not None:
                db.execute(
                    update(sweeps)
                    .where(sweeps.c.id == sweep_id, sweeps.c.n_runs > 0)
                    .values(n_runs=sweeps.c.n_runs - 1)
                )

    def reset_run(self, run_id: int) -> None:
        """Queue a run again from scratch (a sweep's retry or resume): its epochs, selections and artifacts go,
        its id, config and sweep stay."""
        run = self.get_run(run_id)
        if run is None:
            return
        check_run_transition(run.stored_status, run.status, QUEUED, run_id)  # before anything is deleted
        self.artifacts.delete_all(run_id)
        with self.engine.begin() as db:
            db.execute(selections.delete().where(selections.c.run_id == run_id))
            db.execute(epochs.delete().where(epochs.c.run_id == run_id))
        self.set_status(
            run_id,
            QUEUED,
            **NO_WORKER,
            epochs_done=0,
            final_ap=None,
            final_auc=None,
            final_dprime=None,
            result=None,
            started_at=None,
        )

    def requeue_run(self, run_id: int, backend: str | None = None) -> bool:
        """Queue an interrupted or failed run again, keeping its epochs and checkpoint: its worker resumes from
        the last checkpoint. Returns False when the run is not in a state to resume."""
        values: dict[str, Any] = dict(NO_WORKER)
        if backend:
            values["backend"] = backend
        run = self.get_run(run_id)
        if run is None or run.status not in (INTERRUPTED, FAILED, CANCELLED):
            return False
        return self.set_status(run_id, QUEUED, **values)  # the stored status may still say running (a dead worker)

    def truncate_run(self, run_id: int, after_epoch: int) -> None:
        """Forget what a killed worker recorded after its last checkpoint (epochs, selections, arrays, maps)."""
        with self.engine.begin() as db:
            db.execute(selections.delete().where(selections.c.run_id == run_id, selections.c.epoch > after_epoch))
            db.execute(epochs.delete().where(epochs.c.run_id == run_id, epochs.c.epoch > after_epoch))
            db.execute(update(runs).where(runs.c.id == run_id).values(epochs_done=after_epoch))
        self.artifacts.delete_after(run_id, after_epoch)

    # --- cancellation and liveness -------------------------------------------------------------------

    def request_cancel(self, run_id: int) -> None:
        """Ask a run to stop: a queued run is cancelled at once, a running one at its next check (seconds)."""
        if self.set_status(run_id, CANCELLED, expect=QUEUED, finished_at=time.time(), cancel_requested=True):
            return
        with self.engine.begin() as db:  # not a status change: the worker reads the flag and stops itself
            db.execute(update(runs).where(runs.c.id == run_id, runs.c.status == RUNNING).values(cancel_requested=True))

    def heartbeat(self, run_id: int) -> None:
        self.update_run(run_id, heartbeat=time.time())

    def keep_alive(self, run_id: int) -> liveness.Heartbeat:
        """A context manager: the run's heartbeat, every few seconds from a thread, while the block runs."""
        return liveness.Heartbeat(lambda: self.heartbeat(run_id), name=f"heartbeat-run-{run_id}")

    def mark_dead_runs_interrupted(self) -> list[int]:
        """Runs recorded as running whose worker is gone: record them interrupted (their epochs stay). Only the
        dispatcher and explicit commands call this; readers show the same status without writing it."""
        dead = [run for run in self.list_runs(status=RUNNING) if run.status == INTERRUPTED]
        for run in dead:
            self.finish_run(run.id, INTERRUPTED, error=run.error, expect=RUNNING)
        return [run.id for run in dead]

    # --- epochs and selections ----------------------------------------------------------------------

    def add_epoch(self, run_id: int, epoch: int, record: dict[str, Any]) -> None:
        row = {k: finite(record.get(k)) for k in EPOCH_FIELDS}
        with self.engine.begin() as db:
            db.execute(insert(epochs).values(run_id=run_id, epoch=epoch, **row))
            db.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    epochs_done=epoch,
                    heartbeat=time.time(),
                    final_ap=finite(record.get("ap")),
                    final_auc=finite(record.get("auc")),
                    final_dprime=finite(record.get("dprime")),
                )
            )

    def add_selection(self, run_id: int, epoch: int, bag_ids: np.ndarray, scores: np.ndarray) -> None:
        rows = [
            {"run_id": run_id, "epoch": epoch, "rank": rank, "bag_id": int(b), "score": finite(float(s))}
            for rank, (b, s) in enumerate(zip(bag_ids, scores))
        ]
        if rows:
            with self.engine.begin() as db:
                db.execute(insert(selections), rows)

    # --- sweeps ---------------------------------------------------------------------------------------

    def create_sweep(
        self, sweep_id: str, config: dict[str, Any], backend: str, n_runs: int, status: str = RUNNING
    ) -> None:
        """Record a sweep: running (its driver is this process) or queued (a background driver will claim it)."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
        with self.engine.begin() as db:
            db.execute(
                insert(sweeps).values(
                    id=sweep_id, status=status, backend=backend, config=config, n_runs=n_runs, created_at=time.time()
                )
            )

    def set_sweep_status(
        self, sweep_id: str, new: str, expect: str | tuple[str, ...] | None = None, **values: Any
    ) -> bool:
        """The one function that writes a sweep's status (status.SWEEP_TRANSITIONS), as `set_status` for runs."""
        sweep = self.get_sweep(sweep_id)
        wanted = (expect,) if isinstance(expect, str) else expect
        if sweep is None or (wanted is not None and sweep.stored_status not in wanted):
            return False
        check_sweep_transition(sweep.stored_status, sweep.status, new, sweep_id)
        with self.engine.begin() as db:
            query = update(sweeps).where(sweeps.c.id == sweep_id, sweeps.c.status == sweep.stored_status)
            return db.execute(query.values(status=new, **values)).rowcount == 1

    def claim_sweep(self, sweep_id: str) -> bool:
        """Atomically move a sweep waiting to start to running: a cancel that came first wins."""
        return self.set_sweep_status(sweep_id, RUNNING, expect=QUEUED)

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
        """Write fields of a sweep other than its status (that goes through `set_sweep_status`)."""
        if "status" in values:
            raise ValueError("a sweep's status changes only through RunStore.set_sweep_status (the status machine)")
        with self.engine.begin() as db:
            db.execute(update(sweeps).where(sweeps.c.id == sweep_id).values(**values))

    # --- artifacts: the repository keeps the bytes; these name what a run keeps there ----------------------

    def run_dir(self, run_id: int, create: bool = True) -> Path:
        """The run's local folder (its worker.log, failure sidecar and, with SQLite, its arrays), keyed by the
        store's id so that a recreated store's run 1 never meets an old run 1's files."""
        return self.artifacts.run_dir(run_id, create)

    def save_blob(self, run_id: int, name: str, data: bytes) -> None:
        self.artifacts.save(run_id, name, data)

    def load_blob(self, run_id: int, name: str) -> bytes | None:
        return self.artifacts.load(run_id, name)

    def artifact_names(self, run_id: int) -> list[str]:
        return self.artifacts.names(run_id)

    def has_artifact(self, run_id: int, name: str) -> bool:
        return self.artifacts.exists(run_id, name)

    def delete_artifact(self, run_id: int, name: str) -> None:
        self.artifacts.delete(run_id, name)

    def save_arrays(self, run_id: int, name: str, **arrays: np.ndarray | np.generic) -> None:
        self.artifacts.save_arrays(run_id, name, **arrays)

    def load_arrays(self, run_id: int, name: str) -> dict[str, np.ndarray] | None:
        return self.artifacts.load_arrays(run_id, name)

    def save_epoch_record(self, run_id: int, record: EpochArrays) -> None:
        """The one writer of an epoch's arrays (epoch_record.py), atomically."""
        save_epoch_record(self.artifacts, run_id, record)

    def load_epoch_record(self, run_id: int, epoch: int) -> EpochArrays | None:
        """The one reader of an epoch's arrays, any stored version upgraded; None when none were saved."""
        return load_epoch_record(self.artifacts, run_id, epoch)

    def save_class_picks(self, run_id: int, epoch: int, picks: ClassPicks) -> None:
        """A multi-label run's per-class metrics and picks of an epoch (epoch_record.py)."""
        save_class_picks(self.artifacts, run_id, epoch, picks)

    def load_class_picks(self, run_id: int, epoch: int) -> ClassPicks | None:
        return load_class_picks(self.artifacts, run_id, epoch)

    def save_class_pool(self, run_id: int, epoch: int, c: int, pool: PoolArrays) -> None:
        """Maps on: class c's pool of a multi-label run, as a binary run's (epoch_record.py)."""
        save_class_pool(self.artifacts, run_id, epoch, c, pool)

    def load_class_pool(self, run_id: int, epoch: int, c: int) -> PoolArrays | None:
        return load_class_pool(self.artifacts, run_id, epoch, c)

    def save_epoch_arrays(self, run_id: int, epoch: int, **arrays: np.ndarray) -> None:
        """Raw access to an epoch's file, for tests and tools that stage or inspect it; the engine writes and
        reads through save_epoch_record / load_epoch_record."""
        self.artifacts.save_arrays(run_id, epoch_name(epoch), **arrays)

    def load_epoch_arrays(self, run_id: int, epoch: int) -> dict[str, np.ndarray] | None:
        """The raw arrays of an epoch's file (see save_epoch_arrays)."""
        return self.artifacts.load_arrays(run_id, epoch_name(epoch))

    def saved_epochs(self, run_id: int) -> list[int]:
        return sorted(
            int(m.group(1)) for name in self.artifacts.names(run_id) if (m := re.fullmatch(r"epoch_(\d{4})\.npz", name))
        )

    def save_checkpoint(self, run_id: int, data: bytes) -> None:
        self.artifacts.save(run_id, CHECKPOINT, data)

    def load_checkpoint(self, run_id: int) -> bytes | None:
        return self.artifacts.load(run_id, CHECKPOINT)

    # --- failures a worker could not record ----------------------------------------------------------

    def failure_sidecar(self, run_id: int) -> Path:
        return self.run_dir(run_id, create=False) / "failure.json"

    def record_sidecar_failures(self) -> list[int]:
        """Runs whose worker could not write the store (disk full, ...) left their cause in a sidecar file:
        record them failed with it, now that the store takes writes. The dispatcher calls this."""
        recorded = []
        for run in self.list_runs(status=[RUNNING, INTERRUPTED, FAILED]):
            if run.status == RUNNING:  # a live worker records its own outcome
                continue
            if self.record_sidecar_failure(run.id):
                recorded.append(run.id)
        return recorded

    def record_sidecar_failure(self, run_id: int) -> bool:
        """Record a run failed with the cause its failure sidecar keeps (for a Ray sweep's driver: its task has
        ended, whatever its heartbeat says). False when there is no sidecar."""
        sidecar = self.failure_sidecar(run_id)
        if not sidecar.is_file():
            return False
        try:
            cause = json.loads(sidecar.read_text()).get("error", "unknown error")
        except (OSError, ValueError):
            cause = f"unreadable failure record {sidecar}"
        self.finish_run(run_id, FAILED, error=f"failed: {cause}")
        sidecar.replace(sidecar.with_name("failure.recorded.json"))
        return True
