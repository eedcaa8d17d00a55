"""Reads of the tracking tables: runs, epochs, selections and sweeps. Nothing here writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ..errors import WeaknegError
from .records import EpochRecord, EpochSelection, RunRecord, SweepRecord
from .status import shown, shown_sweep
from .tables import epochs, runs, selections, sweeps


class RunQueries:
    """The read half of the run store (mixed into RunStore, which provides `engine`)."""

    engine: Engine

    def get_run(self, run_id: int) -> RunRecord | None:
        """The run's row, with the status a reader should show (see `status.shown`)."""
        with self.engine.connect() as db:
            row = db.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        return shown(RunRecord.from_row(row)) if row else None

    def existing_run(self, run_id: int) -> RunRecord:
        """The run's row, as `get_run`; for a run that must be there, one line when it is not (deleted meanwhile)."""
        run = self.get_run(run_id)
        if run is None:
            raise WeaknegError(f"there is no run {run_id} in this store (deleted?); `weakneg list` shows the runs")
        return run

    def list_runs(self, limit: int | None = None, **filters: Any) -> list[RunRecord]:
        """Newest first. Filters are column=value, or column=[values]."""
        query = select(runs).order_by(runs.c.id.desc())
        for name, value in filters.items():
            column = runs.c[name]
            query = query.where(column.in_(value) if isinstance(value, (list, tuple, set)) else column == value)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as db:
            return [shown(RunRecord.from_row(r)) for r in db.execute(query).mappings()]

    def count_runs(self, **filters: Any) -> int:
        query = select(func.count()).select_from(runs)
        for name, value in filters.items():
            query = query.where(runs.c[name] == value)
        with self.engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def cancel_requested(self, run_id: int) -> bool:
        with self.engine.connect() as db:
            return bool(db.execute(select(runs.c.cancel_requested).where(runs.c.id == run_id)).scalar())

    def epochs(self, run_id: int) -> list[EpochRecord]:
        with self.engine.connect() as db:
            rows = db.execute(select(epochs).where(epochs.c.run_id == run_id).order_by(epochs.c.epoch)).mappings()
            return [EpochRecord.from_row(r) for r in rows]

    def epochs_for(self, run_ids: Iterable[int]) -> list[EpochRecord]:
        with self.engine.connect() as db:
            rows = db.execute(
                select(epochs).where(epochs.c.run_id.in_(list(run_ids))).order_by(epochs.c.run_id, epochs.c.epoch)
            ).mappings()
            return [EpochRecord.from_row(r) for r in rows]

    def selection(self, run_id: int, epoch: int) -> EpochSelection:
        """(bag ids in pick order, their scores) for one epoch."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(selections.c.bag_id, selections.c.score)
                .where(selections.c.run_id == run_id, selections.c.epoch == epoch)
                .order_by(selections.c.rank)
            ).all()
        return EpochSelection(
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

    def get_sweep(self, sweep_id: str) -> SweepRecord | None:
        """The sweep's row, with the status a reader should show (see `status.shown_sweep`)."""
        with self.engine.connect() as db:
            row = db.execute(select(sweeps).where(sweeps.c.id == sweep_id)).mappings().first()
        return shown_sweep(SweepRecord.from_row(row)) if row else None

    def existing_sweep(self, sweep_id: str) -> SweepRecord:
        """The sweep's row, as `get_sweep`; for a sweep that must be there, one line when it is not."""
        sweep = self.get_sweep(sweep_id)
        if sweep is None:
            raise WeaknegError(f"there is no sweep {sweep_id!r} in this store (deleted?); `weakneg sweeps` lists them")
        return sweep

    def list_sweeps(self) -> list[SweepRecord]:
        with self.engine.connect() as db:
            rows = db.execute(select(sweeps).order_by(sweeps.c.created_at.desc())).mappings()
            return [shown_sweep(SweepRecord.from_row(r)) for r in rows]
