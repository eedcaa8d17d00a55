"""Runs in the trackers people already use: `export mlflow` (stored runs and sweeps) and `run --track mlflow`
(live, epoch by epoch). The tracker's package is imported only by these commands (mlflow-skinny is an extra)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigError

TRACKERS = ("mlflow",)


def require_mlflow():
    """The mlflow module, or one line naming the extra that brings it."""
    try:
        import mlflow
    except ImportError:
        raise ConfigError(
            "MLflow is not installed: pip install 'weakneg[mlflow]' (or: pip install mlflow-skinny)"
        ) from None
    return mlflow


def open_tracker(
    name: str | None,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    on_problem: Callable[[str], None] | None = None,
) -> Any:
    """A live tracker for `run --track NAME` (None without one); a missing package is named before any write."""
    if name is None:
        return None
    if name not in TRACKERS:
        raise ConfigError(f"unknown tracker {name!r}; choose one of: {', '.join(TRACKERS)}")
    require_mlflow()
    from .mlflow_runs import LiveMlflowRun

    return LiveMlflowRun(tracking_uri, experiment, on_problem)
