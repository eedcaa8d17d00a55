"""What a training run returns (binary or multi-label): its outcome and history, and the summary `run --json` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
