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
