"""The two claims a comparison makes about a sampler across classes, their decision rules and their power.

*These classes* (the classes compared, taken as fixed): the mean over classes of the per-class mean paired
differences, tested with a t built on the seed-to-seed variance pooled within classes (df = sum over classes of
n_c - 1). *New classes* (classes as a sample from the classes one could have chosen): a one-sample t over the class
means (df = C - 1). Both are written on arrays with leading batch axes, so the simulations that check the rules
(tests/test_claims_simulated.py) run the very functions the tool uses, thousands of stores at once.
Definitions and the reasons for each number: docs/definitions.md, "Statistics".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

BETTER, WORSE, NO_DIFFERENCE = "better", "worse", "no detectable difference"
TOO_FEW, TOO_FEW_CLASSES = "too few seeds", "too few classes"
ALPHA = 0.05
POWER = 0.80
# Below this many classes the new-classes claim gets `too few classes`: with 4 classes even an effect twice the
# spread of the class effects (nearly every new class improves) is found less than 80% of the time (the t over
# class means has 3 df); from 5 it is found more often (test_claims_simulated checks both by simulation).
MIN_CLASSES = 5
# A sign test or Wilcoxon over C class means cannot give p below 2^(1 - C): 0.0625 for 5 classes, 0.031 for 6.
RANK_TEST_MIN_CLASSES = 6


@dataclass(frozen=True)
class Claim:
    """A claim's numbers, arrays over the batch axes (0-d for one comparison): mean, 95% interval, p, df."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p: np.ndarray
    df: np.ndarray
    classes: np.ndarray


def these_classes(d: np.ndarray, present: np.ndarray | None = None, alpha: float = ALPHA) -> Claim:
    """The these-classes claim from paired differences `d` of shape (..., classes, seeds); `present` marks the
    seeds a class has (classes may have different numbers of seeds; a class with none is left out).

    Estimate: m = mean_c mean_s d_cs. Its variance given the classes is sigma^2 sum_c (1/n_c) / C^2, with sigma^2
    pooled within classes: sum_cs (d_cs - mean_c)^2 / sum_c (n_c - 1). t = m / se with that many df; NaN p
    without within-class replication (df 0)."""
    d, present, n, has, classes, means = _shape(d, present)
    mean = np.where(has, means, 0.0).sum(-1) / np.maximum(classes, 1)
    squares = np.where(present, (d - np.nan_to_num(means)[..., None]) ** 2, 0.0).sum((-2, -1))
    df = np.maximum(n - 1, 0).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = squares / df
        se = np.sqrt(pooled * np.where(has, 1.0 / np.maximum(n, 1), 0.0).sum(-1)) / classes
    return _t_claim(mean, se, df, classes, alpha)


def new_classes(d: np.ndarray, present: np.ndarray | None = None, alpha: float = ALPHA) -> Claim:
    """The new-classes claim: a one-sample t over the C class means (each class with at least one seed), df C - 1.
    The class means carry both the spread of the class effects and the seed noise, so nothing else is needed."""
    d, present, n, has, classes, means = _shape(d, present)
    mean = np.where(has, means, 0.0).sum(-1) / np.maximum(classes, 1)
    df = classes - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.where(has, (np.nan_to_num(means) - mean[..., None]) ** 2, 0.0).sum(-1) / df
        se = np.sqrt(spread / classes)
    return _t_claim(mean, se, df, classes, alpha)


def _shape(d, present):
    d = np.asarray(d, dtype=np.float64)
    present = np.isfinite(d) if present is None else np.asarray(present, dtype=bool) & np.isfinite(d)
    n = present.sum(-1)
    has = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(has, np.where(present, d, 0.0).sum(-1) / n, np.nan)
    return d, present, n, has, has.sum(-1), means


def _t_claim(mean, se, df, classes, alpha) -> Claim:
    """t-test of mean = 0 and the t-interval; se 0 (identical differences) gives p 0, or 1 when the mean is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (df >= 1) & np.isfinite(se)
        safe_df = np.where(ok, df, 1)
        t = np.abs(mean) / np.where(se > 0, se, 1.0)
        p = np.where(se > 0, 2 * stats.t.sf(t, safe_df), np.where(mean != 0, 0.0, 1.0))
        half = stats.t.ppf(1 - alpha / 2, safe_df) * se
    nan = np.full(np.shape(mean), np.nan)
    mean = np.where(classes > 0, mean, np.nan)
    return Claim(
        mean=mean,
        low=np.where(ok, mean - half, nan),
        high=np.where(ok, mean + half, nan),
        p=np.where(ok, p, nan),
        df=np.asarray(df),
        classes=np.asarray(classes),
    )


def these_verdict(mean: float, p: float, df: float) -> str:
    """`too few seeds` without within-class replication; else better/worse at p < ALPHA; else no difference."""
    if not df >= 1:
        return TOO_FEW
    return _decide(mean, p)


def new_verdict(mean: float, p: float, classes: int) -> str:
    """`too few classes` below MIN_CLASSES; else better/worse at p < ALPHA; else no detectable difference."""
    if classes < MIN_CLASSES:
        return TOO_FEW_CLASSES
    return _decide(mean, p)


def _decide(mean: float, p: float) -> str:
    if not math.isnan(p) and p < ALPHA:
        return BETTER if mean > 0 else WORSE
    return NO_DIFFERENCE


# --- power and the seeds (or classes) it takes -------------------------------------------------------------------


def t_power(noncentrality, df, alpha: float = ALPHA):
    """Power of a two-sided t-test at `alpha` with `df` degrees of freedom when t has this noncentrality:
    P(|T| > t_crit), T ~ noncentral t (the test actually used, not the normal approximation)."""
    crit = stats.t.ppf(1 - alpha / 2, df)
    power = stats.nct.sf(crit, df, noncentrality) + stats.nct.cdf(-crit, df, noncentrality)
    # scipy's noncentral t gives NaN far in its tail (noncentrality ~ 10+ with few df), where power is all but 1:
    # the normal limit of |T| > crit there, so a NaN never reads as "not enough"
    limit = stats.norm.sf(crit - noncentrality) + stats.norm.cdf(-crit - noncentrality)
    return np.where(np.isnan(power), limit, power)


def these_power(effect: float, sd: float, classes: int, seeds, alpha: float = ALPHA):
    """Power of the these-classes t with `classes` classes of `seeds` paired seeds each, seed SD `sd`, when every
    class's true difference averages `effect`: noncentrality effect sqrt(C n) / sd, df C (n - 1)."""
    seeds = np.asarray(seeds, dtype=np.float64)
    return t_power(effect * np.sqrt(classes * seeds) / sd, classes * (seeds - 1), alpha)


def new_power(effect: float, class_sd: float, classes, alpha: float = ALPHA):
    """Power of the new-classes t over `classes` class means whose SD (class effects plus seed noise) is
    `class_sd`: noncentrality effect sqrt(C) / class_sd, df C - 1."""
    classes = np.asarray(classes, dtype=np.float64)
    return t_power(effect * np.sqrt(classes) / class_sd, classes - 1, alpha)


def seeds_needed(sd: float, effect: float, classes: int = 1, power: float = POWER, alpha: float = ALPHA):
    """Fewest paired seeds per class (at least 2) giving the these-classes claim `power` at `effect`, with
    `classes` classes. With one class this is the paired t's n (statsmodels' TTestPower agrees). None without
    an SD; a class count must be at least 1."""
    if sd is None or not np.isfinite(sd) or classes < 1:
        return None
    if sd == 0:
        return 2
    return _fewest(lambda n: these_power(effect, sd, classes, n, alpha), power, start=2)


def seeds_per_class(sd: float, effect: float, classes: int, power: float = POWER, alpha: float = ALPHA):
    """Fewest paired seeds for one class's own verdict (a paired t, Holm over `classes` classes) to reach `power`
    at `effect`. Holm's strictest step tests at alpha / C, so the paired t at alpha / C is used: enough seeds
    whatever the other classes do (Holm is at least as powerful)."""
    return seeds_needed(sd, effect, 1, power, alpha / max(classes, 1))


def classes_needed(class_sd: float, effect: float, power: float = POWER, alpha: float = ALPHA):
    """Fewest classes (at least MIN_CLASSES) for the new-classes claim to reach `power` at `effect`, when class
    means vary with SD `class_sd` (at the seeds per class used). None without an SD."""
    if class_sd is None or not np.isfinite(class_sd):
        return None
    if class_sd == 0:
        return MIN_CLASSES
    return _fewest(lambda c: new_power(effect, class_sd, c, alpha), power, start=MIN_CLASSES)


def _fewest(power_at, target: float, start: int, cap: int = 1_000_000) -> int | None:
    """Smallest integer n >= start with power_at(n) >= target (power rises with n): doubling, then bisection."""
    if power_at(start) >= target:
        return start
    high = start * 2
    while power_at(high) < target:
        if high >= cap:
            return None
        high *= 2
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if power_at(middle) >= target else (middle, high)
    return int(high)


def rank_test_floor(classes: int) -> float:
    """The smallest two-sided p a sign test or an exact Wilcoxon over `classes` class means can give: 2^(1 - C)."""
    return 2.0 ** (1 - classes) if classes >= 1 else math.nan
