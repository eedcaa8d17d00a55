"""Small helpers the sampler families share: parameter checks and pool statistics."""

from __future__ import annotations

import math

import torch

from ..errors import ConfigError
from .base import Pool


def require_positives(pool: Pool, sampler: str, part: str = "features") -> None:
    """ConfigError when the positive bags' `part` ("features" or "outputs") the sampler compares with is empty."""
    rows = len(pool.positive_features if part == "features" else pool.positive_log_probs)
    if rows == 0:
        given = "positive_features=" if part == "features" else "positive_logits="
        raise ConfigError(
            f"sampler {sampler!r} compares negatives with the positive bags, but there are none; "
            f"pick a target class with positive bags in the training split (from your own loop: pass {given}), "
            "or another sampler"
        )


def number(options: dict, key: str, sampler: str, minimum: float | None = None, above: float | None = None) -> float:
    """A finite numeric parameter, with an optional lower bound (inclusive `minimum`, exclusive `above`)."""
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"sampler {sampler!r}: parameter {key} must be a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"sampler {sampler!r}: parameter {key} must be at least {minimum}, got {value!r}")
    if above is not None and value <= above:
        raise ConfigError(f"sampler {sampler!r}: parameter {key} must be greater than {above}, got {value!r}")
    return float(value)


def min_max(values: torch.Tensor) -> torch.Tensor:
    """Rescale to [0, 1] over the finite entries; a constant vector becomes 0; NaN stays NaN."""
    finite = values[torch.isfinite(values)]
    if len(finite) == 0:
        return values
    low, high = finite.min(), finite.max()
    if high <= low:
        return torch.where(torch.isnan(values), values, torch.zeros_like(values))
    return ((values - low) / (high - low)).clamp(0, 1).where(~torch.isnan(values), values)
