"""Paired statistics of samplers vs `random`: per class (t-interval, paired t-test, Holm), per sampler (counts,
sign test, Wilcoxon, hierarchical bootstrap interval, seeds needed). Definitions: docs/definitions.md,
"Statistics". `compare` is the one implementation the CLI, the report and the Compare page all show.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from . import comparison

BETTER, WORSE, NO_DIFFERENCE, TOO_FEW = "better", "worse", "no detectable difference", "too few seeds"
ALPHA = 0.05
POWER = 0.80
EFFECTS = (0.01, 0.02)  # the differences whose seeds-needed we report
BOOTSTRAP_DRAWS = 4000
MIN_PAIRS = 6  # paired differences over several classes needed for an overall verdict (see enough_pairs)
CLASS_COLUMNS = [
    "setting",
    "class",
    "target_class",
    "sampler",
    "n_seeds",
    "delta_mean",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "verdict",
]
SAMPLER_COLUMNS = [
    "setting",
    "sampler",
    "better",
    "worse",
    "no_difference",
    "too_few_seeds",
    "classes",
    "sign_test_p",
    "wilcoxon_p",
    "mean_delta",
    "ci_low",
    "ci_high",
    "verdict",
    "pooled_sd",
    "seeds_needed_0.01",
    "seeds_needed_0.02",
    "summary",
]


def compare(frame: pd.DataFrame, metric: str = "ap", seed: int = 0) -> dict:
    """Everything a comparison says, for one metric ('ap' or 'auc').

    Returns {"metric", "settings" (list of {setting, runs, classes, samplers, differs: the values of the fields
    that differ between the settings}), "notice" (None or the settings
    sentence), "unpaired_runs" (ids), "deltas" (the paired differences), "classes" and "samplers" (DataFrames
    with CLASS_COLUMNS and SAMPLER_COLUMNS)}. `seed` seeds the bootstrap, so the same runs give the same numbers.
    """
    if not frame.empty:
        frame = frame.assign(setting=frame["setting_key"].map(comparison.setting_names(frame["setting_key"])))
    deltas = comparison.paired_deltas(frame, metric)
    classes = class_stats(deltas)
    samplers = sampler_stats(deltas, classes, seed)
    settings = (
        []
        if frame.empty
        else [
            {
                "setting": name,
                "runs": int(len(group)),
                "classes": int(group["target_class"].nunique()),
                "samplers": sorted(group["sampler_id"].unique()),
                "differs": comparison.differing_values(frame["setting_key"], group["setting_key"].iloc[0]),
            }
            for name, group in frame.groupby("setting")
        ]
    )
    return {
        "metric": metric,
        "settings": settings,
        "notice": comparison.settings_notice(frame),
        "unpaired_runs": comparison.unpaired_runs(frame),
        "deltas": deltas,
        "classes": classes,
        "samplers": samplers,
    }


def class_stats(deltas: pd.DataFrame) -> pd.DataFrame:
    """Per setting, class and sampler: the mean paired difference over seeds, its 95% t-interval, the paired
    t-test p-value, the Holm-adjusted p over the classes of that sampler (and setting), and the verdict."""
    if deltas.empty:
        return pd.DataFrame(columns=CLASS_COLUMNS)
    rows = []
    for (setting, cls, name, sampler), group in deltas.groupby(
        ["setting", "target_class", "target_name", "sampler"], dropna=False
    ):
        d = group["delta"].dropna().to_numpy()
        mean, low, high = comparison.t_interval(d)
        rows.append(
            {
                "setting": setting,
                "class": name,
                "target_class": cls,
                "sampler": sampler,
                "n_seeds": len(d),
                "delta_mean": mean,
                "ci_low": low,
                "ci_high": high,
                "p_value": paired_t_p(group),
            }
        )
    out = pd.DataFrame(rows)
    out["p_adjusted"] = np.nan
    for _, index in out.groupby(["setting", "sampler"]).groups.items():
        p = out.loc[index, "p_value"]
        tested = p.dropna()
        if len(tested):
            out.loc[tested.index, "p_adjusted"] = holm(tested.to_numpy())
    out["verdict"] = [class_verdict(n, m, p) for n, m, p in zip(out["n_seeds"], out["delta_mean"], out["p_adjusted"])]
    return out[CLASS_COLUMNS].sort_values(["setting", "sampler", "target_class"]).reset_index(drop=True)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values: the i-th smallest times (m - i), made monotone, capped at 1. (Written
    out: statsmodels' version runs a full garbage collection per call, 0.2 s in a process that holds torch.)"""
    p_values = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p_values, kind="stable")
    stepped = np.maximum.accumulate(p_values[order] * np.arange(len(p_values), 0, -1))
    adjusted = np.empty_like(p_values)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def paired_t_p(group: pd.DataFrame) -> float:
    """Two-sided paired t-test of the sampler's values against random's (same seeds); NaN below 2 pairs.
    Identical differences (no spread) give p 0 when they are not all zero and 1 when they are."""
    pairs = group[["value", "random"]].dropna()
    if len(pairs) < 2:
        return math.nan
    d = (pairs["value"] - pairs["random"]).to_numpy()
    if np.allclose(d, d[0], rtol=0, atol=1e-15):
        return 1.0 if d[0] == 0 else 0.0
    return float(stats.ttest_rel(pairs["value"], pairs["random"]).pvalue)


def class_verdict(n_seeds: int, mean: float, p_adjusted: float) -> str:
    if n_seeds < 2:
        return TOO_FEW
    if not math.isnan(p_adjusted) and p_adjusted < ALPHA:
        return BETTER if mean > 0 else WORSE
    return NO_DIFFERENCE


def sampler_stats(deltas: pd.DataFrame, classes: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per setting and sampler, across classes: verdict counts, a sign test and a Wilcoxon signed-rank test on
    the per-class mean differences (every class with a paired seed), the mean difference over the classes with 2 or
    more paired seeds with a 95% interval (`overall_interval`), the overall verdict from that interval, and the
    seeds needed."""
    if classes.empty:
        return pd.DataFrame(columns=SAMPLER_COLUMNS)
    rng = np.random.default_rng(seed)
    rows = []
    for (setting, sampler), group in classes.groupby(["setting", "sampler"], sort=True):
        mine = deltas[(deltas["setting"] == setting) & (deltas["sampler"] == sampler)]
        per_class = [g["delta"].dropna().to_numpy() for _, g in mine.groupby("target_class")]
        per_class = [d for d in per_class if len(d)]
        means = np.array([d.mean() for d in per_class])
        usable = [d for d in per_class if len(d) >= 2]  # a one-seed class has no spread to resample
        mean, low, high = overall_interval(usable, rng)
        if not usable:
            mean = float(means.mean()) if len(means) else math.nan
        counts = group["verdict"].value_counts()
        verdict = TOO_FEW if not enough_pairs(usable) else BETTER if low > 0 else WORSE if high < 0 else NO_DIFFERENCE
        sd = pooled_sd(per_class)
        row = {
            "setting": setting,
            "sampler": sampler,
            "better": int(counts.get(BETTER, 0)),
            "worse": int(counts.get(WORSE, 0)),
            "no_difference": int(counts.get(NO_DIFFERENCE, 0)),
            "too_few_seeds": int(counts.get(TOO_FEW, 0)),
            "classes": len(group),
            "sign_test_p": sign_test_p(means),
            "wilcoxon_p": wilcoxon_p(means),
            "mean_delta": mean,
            "ci_low": low,
            "ci_high": high,
            "verdict": verdict,
            "pooled_sd": sd,
            **{f"seeds_needed_{effect}": seeds_needed(sd, effect) for effect in EFFECTS},
        }
        row["summary"] = (
            f"better in {row['better']}, worse in {row['worse']}, no detectable difference in the "
            f"rest, of {row['classes']} classes"
        )
        rows.append(row)
    return pd.DataFrame(rows)[SAMPLER_COLUMNS]


def sign_test_p(means: np.ndarray) -> float:
    """Two-sided sign test (binomial, p = 1/2) on the per-class mean differences; zeros are dropped."""
    nonzero = means[means != 0]
    if len(nonzero) == 0:
        return math.nan
    return float(stats.binomtest(int((nonzero > 0).sum()), len(nonzero), 0.5).pvalue)


def wilcoxon_p(means: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank test on the per-class mean differences; NaN when it cannot be computed."""
    if len(means) < 2 or not np.any(means != 0):
        return math.nan
    return float(stats.wilcoxon(means).pvalue)


def enough_pairs(usable: list[np.ndarray]) -> bool:
    """Enough paired seeds for an overall verdict: one class with 2 or more (its t-interval decides), or over
    several classes at least MIN_PAIRS in all. A percentile bootstrap interval never leaves the range of the data,
    so with fewer it would call any set of same-signed differences `better` or `worse` (6 is the fewest for which
    even a sign test of same-signed differences reaches p < 0.05)."""
    if len(usable) == 1:
        return True
    return sum(len(d) for d in usable) >= MIN_PAIRS


def overall_interval(per_class: list[np.ndarray], rng: np.random.Generator) -> tuple[float, float, float]:
    """(mean over classes of the per-class mean differences, 95% low, high) over classes with 2 or more paired
    seeds: the hierarchical bootstrap interval, or with a single class (nothing to resample across classes) that
    class's t-interval. NaN without any such class."""
    if not per_class:
        return math.nan, math.nan, math.nan
    if len(per_class) == 1:
        return comparison.t_interval(per_class[0])
    low, high = hierarchical_bootstrap(per_class, rng)
    return float(np.mean([d.mean() for d in per_class])), low, high


def hierarchical_bootstrap(
    per_class: list[np.ndarray], rng: np.random.Generator, draws: int = BOOTSTRAP_DRAWS
) -> tuple[float, float]:
    """95% percentile interval of the mean over classes of per-class mean differences, resampling classes with
    replacement and then, within each drawn class, its seeds with replacement. NaN without any seed-pair."""
    if not per_class:
        return math.nan, math.nan
    n = np.array([len(d) for d in per_class])
    padded = np.zeros((len(per_class), n.max()))
    for i, d in enumerate(per_class):
        padded[i, : len(d)] = d
    picked = rng.integers(0, len(per_class), size=(draws, len(per_class)))  # classes, per draw
    sizes = n[picked]  # (draws, classes)
    seeds = np.floor(rng.random((draws, len(per_class), n.max())) * sizes[..., None]).astype(int)
    values = padded[picked[..., None], seeds]
    inside = np.arange(n.max())[None, None, :] < sizes[..., None]
    class_means = (values * inside).sum(axis=2) / sizes
    low, high = np.percentile(class_means.mean(axis=1), [2.5, 97.5])
    return float(low), float(high)


def pooled_sd(per_class: list[np.ndarray]) -> float:
    """Seed-to-seed SD of the paired differences, pooled over classes: sqrt(sum (n_c - 1) s_c^2 / sum (n_c - 1))."""
    usable = [d for d in per_class if len(d) >= 2]
    dof = sum(len(d) - 1 for d in usable)
    if not dof:
        return math.nan
    return float(math.sqrt(sum((len(d) - 1) * d.var(ddof=1) for d in usable) / dof))


def seeds_needed(sd: float, effect: float, power: float = POWER, alpha: float = ALPHA) -> int | None:
    """Paired seeds to detect a mean difference `effect` with a two-sided test at `alpha` and `power`:
    n = ceil(((z_(1-alpha/2) + z_power) * sd / effect)^2) (normal approximation), at least 2. None without an SD."""
    if sd is None or math.isnan(sd):
        return None
    n = math.ceil(((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * sd / effect) ** 2)
    return max(2, n)  # a paired test needs two seeds however small the spread


def to_json(result: dict) -> dict:
    """The JSON object `compare --json` prints: settings, classes and samplers rows with the documented keys."""
    classes = result["classes"].drop(columns=["target_class"]).to_dict("records")
    samplers = result["samplers"].drop(columns=["summary"]).to_dict("records")
    return {
        "metric": result["metric"],
        "settings": result["settings"],
        "notice": result["notice"],
        "unpaired_runs": result["unpaired_runs"],
        "classes": [_plain(r) for r in classes],
        "samplers": [_plain(r) for r in samplers],
    }


def _plain(row: dict) -> dict:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
