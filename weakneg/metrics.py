"""Bag-level metrics on all test bags: AP, ROC-AUC and d' (scikit-learn underneath)."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm
from sklearn.metrics import average_precision_score, roc_auc_score


def d_prime(auc: float) -> float:
    """d' = sqrt(2) * Phi^-1(AUC); infinite at AUC 1, nan when AUC is undefined."""
    if math.isnan(auc):
        return math.nan
    return float(math.sqrt(2) * norm.ppf(auc))


def bag_metrics(labels: np.ndarray, positive_probs: np.ndarray) -> dict[str, float]:
    """AP, ROC-AUC and d' of the positive-class probability. Undefined (one class only) gives NaN."""
    labels = np.asarray(labels)
    scores = np.asarray(positive_probs, dtype=np.float64)
    if labels.min(initial=1) == labels.max(initial=0):
        return {"ap": math.nan, "auc": math.nan, "dprime": math.nan}
    auc = float(roc_auc_score(labels, scores))
    return {"ap": float(average_precision_score(labels, scores)), "auc": auc, "dprime": d_prime(auc)}


def class_metrics(labels: np.ndarray, probs: np.ndarray, names: list[str]) -> dict:
    """A multi-label run's metrics: per class AP, ROC-AUC and d' (labels and probs (N, C)); `ap` and `auc` are their
    means over the classes where they are defined (macro: `ap` is the mAP), `dprime` the d' of that mean AUC (a
    class with AUC 1 has d' = inf), `micro_ap` the AP of every (bag, class) pair pooled."""
    labels, probs = np.asarray(labels), np.asarray(probs, dtype=np.float64)
    per_class = {name: bag_metrics(labels[:, c], probs[:, c]) for c, name in enumerate(names)}
    out = {}
    for key in ("ap", "auc"):
        values = np.array([m[key] for m in per_class.values()], dtype=np.float64)
        defined = values[~np.isnan(values)]
        out[key] = float(defined.mean()) if defined.size else math.nan
    out["dprime"] = d_prime(out["auc"])
    flat = labels.ravel()
    micro = (
        math.nan if flat.min(initial=1) == flat.max(initial=0) else float(average_precision_score(flat, probs.ravel()))
    )
    return {**out, "micro_ap": micro, "per_class": per_class}
