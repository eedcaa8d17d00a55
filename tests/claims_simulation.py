"""Simulated comparisons at the level of the statistics functions: paired differences d[store, class, seed] drawn
from a known truth, judged by the very functions `compare` uses (claims.these_classes, claims.new_classes, the
paired t + paired_stats.holm per class). Used by tests/test_claims_simulated.py and by the closing note's tables."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from weakneg import claims, paired_stats

CLASSES = (2, 3, 4, 6, 10)
SEEDS = (2, 3, 5, 10)
SIMS = 10_000


def differences(
    rng: np.random.Generator,
    classes: int,
    seeds: int,
    sims: int = SIMS,
    effect: float = 0.0,
    class_sd: float = 0.0,
    seed_sd: float = 1.0,
    cancel: bool = False,
    seed_sd_spread: float = 1.0,
) -> np.ndarray:
    """(sims, classes, seeds) paired differences: effect + class effect (normal, SD class_sd; with `cancel` the
    class effects of each store are centred so they average exactly zero over its classes) + seed noise (SD
    seed_sd, or spread geometrically over classes from seed_sd / sqrt(spread) to seed_sd * sqrt(spread))."""
    class_effects = rng.normal(0.0, class_sd, (sims, classes))
    if cancel:
        class_effects -= class_effects.mean(-1, keepdims=True)
    noise_sd = seed_sd * np.geomspace(1 / math.sqrt(seed_sd_spread), math.sqrt(seed_sd_spread), classes)
    noise = rng.normal(0.0, 1.0, (sims, classes, seeds)) * noise_sd[None, :, None]
    return effect + class_effects[..., None] + noise


def decided(p: np.ndarray) -> np.ndarray:
    """Where a claim's rule says better or worse (p < ALPHA; a NaN p decides nothing)."""
    return np.nan_to_num(p, nan=1.0) < claims.ALPHA


def these_rate(d: np.ndarray) -> float:
    return float(decided(claims.these_classes(d).p).mean())


def new_rate(d: np.ndarray) -> float:
    return float(decided(claims.new_classes(d).p).mean())


def class_verdicts(d: np.ndarray) -> np.ndarray:
    """Per store and class, whether the per-class rule decides: the paired t (a one-sample t on d, what
    scipy's ttest_rel computes) then Holm over the store's classes, as paired_stats.class_stats does."""
    p = stats.ttest_1samp(d, 0.0, axis=-1).pvalue
    return paired_stats.holm(p) < claims.ALPHA


def peeking_rate(d: np.ndarray, first: int = 2) -> float:
    """Share of null stores in which *some* look (after seed first, first + 1, ..., all) finds the these-classes
    claim decided: adding seeds until the verdict changes."""
    hit = np.zeros(d.shape[0], dtype=bool)
    for seeds in range(first, d.shape[-1] + 1):
        hit |= decided(claims.these_classes(d[..., :seeds]).p)
    return float(hit.mean())


def bound(rate: float = claims.ALPHA, sims: int = SIMS, z: float = 4.0) -> float:
    """The rate plus z simulation standard errors (4: about 200 checks in the suite, each wrong by chance with
    probability 3e-5)."""
    return rate + z * math.sqrt(rate * (1 - rate) / sims)
