"""What the store hands out: typed, frozen records (the entities), never the database's rows.

A record is a snapshot: nothing written to it reaches the store (it is frozen), and the store writes only
through its own methods. `RunRecord.status` is the status a reader is shown (status.py); `stored_status` is what
the store says."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np


@dataclass(frozen=True)
class RunRecord:
    id: int
    kind: str
    status: str
    stored_status: str
    config: dict[str, Any]
    dataset: str | None = None
    target_class: int | None = None
    target_name: str | None = None
    sampler: str | None = None
    pn_ratio: float | None = None
    seed: int | None = None
    model: str | None = None
    head: str | None = None
    epochs_total: int | None = None
    epochs_done: int | None = 0
    n_pos: int | None = None
    pool_size: int | None = None
    k: int | None = None
    final_ap: float | None = None
    final_auc: float | None = None
    final_dprime: float | None = None
    result: Any = None
    error: str | None = None
    sweep_id: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    heartbeat: float | None = None
    pid: int | None = None
    host: str | None = None
    cancel_requested: bool | None = False
    name: str | None = None
    tags: list[str] | None = None
    notes: str | None = None
    archived: bool = False
    device: str | None = None
    backend: str | None = None
    process_start: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> RunRecord:
        values = dict(row)
        return cls(stored_status=values["status"], **values)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON output, tables)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class EpochRecord:
    """One finished epoch: test metrics, validation metrics (with a validation split), counts, phase seconds."""

    run_id: int
    epoch: int
    train_loss: float | None = None
    val_loss: float | None = None
    val_ap: float | None = None
    ap: float | None = None
    auc: float | None = None
    dprime: float | None = None
    n_pos: int | None = None
    n_neg: int | None = None
    resampled: bool | None = None
    t_score: float | None = None
    t_select: float | None = None
    t_train: float | None = None
    t_eval: float | None = None

    @classmethod
    def from_row(cls, row: Any) -> EpochRecord:
        return cls(**dict(row))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SweepRecord:
    id: str
    status: str
    stored_status: str
    config: dict[str, Any]
    backend: str | None = None
    n_runs: int | None = None
    created_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    heartbeat: float | None = None
    driver_pid: int | None = None
    driver_host: str | None = None
    driver_start: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> SweepRecord:
        values = dict(row)
        return cls(stored_status=values["status"], **values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class EpochSelection(NamedTuple):
    """One epoch's picks: bag ids in pick order and the score each had (NaN where the sampler gave none)."""

    bag_ids: np.ndarray
    scores: np.ndarray
