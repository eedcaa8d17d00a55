"""Paired statistics of samplers vs `random`: per class (t-interval, paired t-test, Holm), per sampler (counts, the
two named claims of claims.py, sign test and Wilcoxon where they can decide, seeds needed). Definitions:
docs/definitions.md, "Statistics". `compare` is the one implementation the CLI, the report and the Compare page all
show.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from . import claims, comparison
from .claims import BETTER, NO_DIFFERENCE, TOO_FEW, TOO_FEW_CLASSES, WORSE

ALPHA = claims.ALPHA
POWER = claims.POWER
EFFECTS = (0.01, 0.02)  # the differences whose seeds-needed we report
CLAIMS = ("these_classes", "new_classes")
CLAIM_FIELDS = ("mean_delta", "ci_low", "ci_high", "p", "df", "verdict")
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
COUNT_COLUMNS = [f"{what}_{e}" for what in ("seeds_needed", "seeds_per_class", "classes_needed") for e in EFFECTS]
SAMPLER_COLUMNS = [
    "setting",
    "sampler",
    "better",
    "worse",
    "no_difference",
    "too_few_seeds",
    "classes",
    *[f"{claim}_{field}" for claim in CLAIMS for field in CLAIM_FIELDS],
    "sign_test_p",
    "wilcoxon_p",
    "rank_test_floor",
    "pooled_sd",
    "class_means_sd",
    *COUNT_COLUMNS,
    "summary",
]
__all__ = ["BETTER", "NO_DIFFERENCE", "TOO_FEW", "TOO_FEW_CLASSES", "WORSE"]


def compare(frame: pd.DataFrame, metric: str = "ap") -> dict:
    """Everything a comparison says, for one metric ('ap' or 'auc').

    Returns {"metric", "settings" (list of {setting, runs, classes, samplers, differs: the values of the fields
    that differ between the settings}), "notice" (None or the settings
    sentence), "unpaired_runs" (ids), "deltas" (the paired differences), "classes" and "samplers" (DataFrames
    with CLASS_COLUMNS and SAMPLER_COLUMNS)}.
    """
    if not frame.empty:
        frame = frame.assign(setting=frame["setting_key"].map(comparison.setting_names(frame["setting_key"])))
    deltas = comparison.paired_deltas(frame, metric)
    classes = class_stats(deltas)
    samplers = sampler_stats(deltas, classes)
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
    """Holm's step-down adjusted p-values along the last axis (so simulations adjust thousands of comparisons at
    once): the i-th smallest times (m - i), made monotone, capped at 1. (Written out: statsmodels' version runs a
    full garbage collection per call, 0.2 s in a process that holds torch.)"""
    p_values = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p_values, axis=-1, kind="stable")
    m = p_values.shape[-1]
    stepped = np.maximum.accumulate(np.take_along_axis(p_values, order, -1) * np.arange(m, 0, -1), axis=-1)
    adjusted = np.empty_like(p_values)
    np.put_along_axis(adjusted, order, np.minimum(stepped, 1.0), -1)
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


def sampler_stats(deltas: pd.DataFrame, classes: pd.DataFrame) -> pd.DataFrame:
    """Per setting and sampler, across classes: verdict counts; the two named claims (claims.these_classes and
    claims.new_classes: mean, 95% interval, p, df, verdict); a sign test and a Wilcoxon signed-rank test on the
    class means where they can reach ALPHA (NaN below claims.RANK_TEST_MIN_CLASSES, with their floor
    2^(1 - C) beside them); the pooled seed SD, the SD of the class means, and the seeds and classes that give
    80% power (claims: noncentral t of the test used)."""
    if classes.empty:
        return pd.DataFrame(columns=SAMPLER_COLUMNS)
    rows = []
    for (setting, sampler), group in classes.groupby(["setting", "sampler"], sort=True):
        mine = deltas[(deltas["setting"] == setting) & (deltas["sampler"] == sampler)]
        d, present = class_matrix(mine)
        these, new = claims.these_classes(d, present), claims.new_classes(d, present)
        means = np.array([row[mask].mean() for row, mask in zip(d, present) if mask.any()])
        n_classes = len(means)
        counts = group["verdict"].value_counts()
        sd = pooled_sd([row[mask] for row, mask in zip(d, present)])
        class_sd = float(means.std(ddof=1)) if n_classes >= 2 else math.nan
        rank_ok = n_classes >= claims.RANK_TEST_MIN_CLASSES
        row = {
            "setting": setting,
            "sampler": sampler,
            "better": int(counts.get(BETTER, 0)),
            "worse": int(counts.get(WORSE, 0)),
            "no_difference": int(counts.get(NO_DIFFERENCE, 0)),
            "too_few_seeds": int(counts.get(TOO_FEW, 0)),
            "classes": len(group),
            **_claim_columns(
                "these_classes", these, claims.these_verdict(float(these.mean), float(these.p), float(these.df))
            ),
            **_claim_columns("new_classes", new, claims.new_verdict(float(new.mean), float(new.p), n_classes)),
            "sign_test_p": sign_test_p(means) if rank_ok else math.nan,
            "wilcoxon_p": wilcoxon_p(means) if rank_ok else math.nan,
            "rank_test_floor": claims.rank_test_floor(n_classes),
            "pooled_sd": sd,
            "class_means_sd": class_sd,
            **{f"seeds_needed_{e}": claims.seeds_needed(sd, e, max(n_classes, 1)) for e in EFFECTS},
            **{f"seeds_per_class_{e}": claims.seeds_per_class(sd, e, max(n_classes, 1)) for e in EFFECTS},
            **{f"classes_needed_{e}": claims.classes_needed(class_sd, e) for e in EFFECTS},
        }
        row["summary"] = (
            f"better in {row['better']}, worse in {row['worse']}, no detectable difference in the "
            f"rest, of {row['classes']} classes"
        )
        rows.append(row)
    table = pd.DataFrame(rows)[SAMPLER_COLUMNS]
    for column in COUNT_COLUMNS:  # whole numbers or missing: never printed as 19.0000
        table[column] = pd.Series([None if pd.isna(v) else int(v) for v in table[column]], dtype=object)
    return table


def class_matrix(deltas: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One sampler's paired differences as a (classes, seeds) array and the mask of seeds each class has: the
    shape the claims (and their simulations) take."""
    per_class = [g["delta"].dropna().to_numpy() for _, g in deltas.groupby("target_class")]
    per_class = [d for d in per_class if len(d)]
    width = max((len(d) for d in per_class), default=0)
    d = np.zeros((len(per_class), width))
    present = np.zeros((len(per_class), width), dtype=bool)
    for i, values in enumerate(per_class):
        d[i, : len(values)], present[i, : len(values)] = values, True
    return d, present


def _claim_columns(prefix: str, claim: claims.Claim, verdict: str) -> dict:
    return {
        f"{prefix}_mean_delta": float(claim.mean),
        f"{prefix}_ci_low": float(claim.low),
        f"{prefix}_ci_high": float(claim.high),
        f"{prefix}_p": float(claim.p),
        f"{prefix}_df": int(claim.df),
        f"{prefix}_verdict": verdict,
    }


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


def pooled_sd(per_class: list[np.ndarray]) -> float:
    """Seed-to-seed SD of the paired differences, pooled over classes: sqrt(sum (n_c - 1) s_c^2 / sum (n_c - 1))."""
    usable = [d for d in per_class if len(d) >= 2]
    dof = sum(len(d) - 1 for d in usable)
    if not dof:
        return math.nan
    return float(math.sqrt(sum((len(d) - 1) * d.var(ddof=1) for d in usable) / dof))


def to_json(result: dict) -> dict:
    """The JSON object `compare --json` prints: settings, classes and samplers rows with the documented keys; each
    sampler's claims nested as "these_classes" and "new_classes" {mean_delta, ci_low, ci_high, p, df, verdict}."""
    classes = result["classes"].drop(columns=["target_class"]).to_dict("records")
    samplers = []
    for row in result["samplers"].drop(columns=["summary"]).to_dict("records"):
        row = _plain(row)
        for claim in CLAIMS:
            row[claim] = {field: row.pop(f"{claim}_{field}") for field in CLAIM_FIELDS}
        samplers.append(row)
    return {
        "metric": result["metric"],
        "settings": result["settings"],
        "notice": result["notice"],
        "unpaired_runs": result["unpaired_runs"],
        "classes": [_plain(r) for r in classes],
        "samplers": samplers,
    }


def _plain(row: dict) -> dict:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
