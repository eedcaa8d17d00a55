"""What a training run returns (binary or multi-label): its outcome and history, the summary `run --json` prints,
and the stopwatch behind each epoch's t_score, t_select, t_train and t_eval."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar


@dataclass
class RunResult:
    run_id: int | None
    status: str
    target_name: str
    n_pos: int
    pool_size: int
    k: int
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int | None = None
    error: str | None = None

    @property
    def final(self) -> dict[str, Any]:
        if not self.history:
            return {}
        return self.history[(self.best_epoch or len(self.history)) - 1]

    def summary(self) -> dict[str, Any]:
        final = self.final
        return {
            "run_id": self.run_id,
            "status": self.status,
            "target": self.target_name,
            "ap": final.get("ap"),
            "auc": final.get("auc"),
            "dprime": final.get("dprime"),
            "epochs": len(self.history),
            "best_epoch": self.best_epoch,
            "n_pos": self.n_pos,
            "pool_size": self.pool_size,
            "k": self.k,
            "error": self.error,
            "history": self.history,
        }


Result = TypeVar("Result", bound=RunResult)  # a binary or multi-label result, passed through as it came


@contextlib.contextmanager
def timed(times: dict[str, float], key: str) -> Iterator[None]:
    """Add the seconds spent inside the block to times[key]."""
    start = time.perf_counter()
    try:
        yield
    finally:
        times[key] = times.get(key, 0.0) + time.perf_counter() - start
