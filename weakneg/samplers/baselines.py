"""The paper's two references: a uniform random draw, and the whole pool."""

from __future__ import annotations

import numpy as np

from .base import Pool, SamplerSpec, Selection, register, top_k


def _random(pool: Pool, k: int, rng: np.random.Generator, options: dict) -> Selection:
    keys = rng.random(len(pool))  # the k largest of i.i.d. uniform keys: a uniform draw without replacement
    return Selection(top_k(keys, k, largest=True), keys)


def _full(pool: Pool, k: int, rng: np.random.Generator, options: dict) -> Selection:
    return Selection(np.arange(k), np.ones(len(pool)))


register(
    SamplerSpec(
        "random",
        "k negative bags drawn uniformly without replacement, anew each epoch: the paper's "
        "baseline. Its score is the random key each bag drew (the k largest keys win).",
        _random,
        uses_scores=False,
        uses_positives=False,
    )
)
register(
    SamplerSpec(
        "full",
        "No filtering: the whole negative pool every epoch, whatever the P-N ratio. The "
        "reference the paper's samplers try to approach at a fraction of the cost.",
        _full,
        whole_pool=True,
        uses_scores=False,
        uses_positives=False,
    )
)
