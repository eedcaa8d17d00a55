"""The decision rule of the MIL checks: paired AUC differences with DeLong's standard error, `decide`
and `explain`."""

from __future__ import annotations

import math

import numpy as np

from .worlds import MilTest

# --- the decision rule ----------------------------------------------------------------------------

MIN_FIT_AUC = 0.8  # below this on held-out training-distribution bags the model has not learned the task
MIN_DROP = 0.05  # smallest AUC drop we call a violation, however many bags
Z = 3.0  # standard errors of the paired AUC difference that a drop must exceed (one-sided p ~ 0.001)

RESPECTS, VIOLATES, INCONCLUSIVE = "respects", "violates", "inconclusive"


def _placement_values(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's structural components: for each positive, the fraction of negatives it outscores (ties
    count half); for each negative, the fraction of positives that outscore it. Their means are the AUC."""
    positives, negatives = scores[labels == 1], scores[labels == 0]
    sorted_neg, sorted_pos = np.sort(negatives), np.sort(positives)
    below = np.searchsorted(sorted_neg, positives, "left") + np.searchsorted(sorted_neg, positives, "right")
    above = (
        2 * len(positives)
        - np.searchsorted(sorted_pos, negatives, "left")
        - np.searchsorted(sorted_pos, negatives, "right")
    )
    return below / (2.0 * len(negatives)), above / (2.0 * len(positives))


def paired_auc_difference(labels: np.ndarray, scores_a: np.ndarray, scores_b: np.ndarray) -> tuple[float, float]:
    """(AUC_a - AUC_b, its standard error) for two scorings of the same bags (DeLong et al. 1988)."""
    labels = np.asarray(labels)
    pos_a, neg_a = _placement_values(labels, np.asarray(scores_a, dtype=np.float64))
    pos_b, neg_b = _placement_values(labels, np.asarray(scores_b, dtype=np.float64))
    difference = pos_a.mean() - pos_b.mean()
    variance = np.var(pos_a - pos_b, ddof=1) / len(pos_a) + np.var(neg_a - neg_b, ddof=1) / len(neg_a)
    return float(difference), float(math.sqrt(max(variance, 0.0)))


def decide(train_auc: float, drop: float, drop_se: float) -> tuple[str, float]:
    """(verdict, tolerance).

    inconclusive: the model did not fit the training distribution (held-out AUC < MIN_FIT_AUC).
    violates: the swapped-test AUC is below the clean AUC (the same bags, shortcut instances made
    background) by more than max(MIN_DROP, Z * SE), SE from DeLong's paired test. A MIL-respecting model
    takes no evidence from the shortcut instances, so putting them into the bags cannot reorder them.
    MIN_DROP keeps tiny, real but harmless effects from counting: a shortcut instance *replaces* a
    background one, which can lower a max-pooled bag whose maximum was that background instance.
    """
    tolerance = max(MIN_DROP, Z * drop_se)
    if not train_auc >= MIN_FIT_AUC:
        return INCONCLUSIVE, tolerance
    return (VIOLATES if drop > tolerance else RESPECTS), tolerance


def explain(test: MilTest, verdict: str, train_auc: float, test_auc: float, shortcut_effect: float) -> str:
    """One line on what the model learned."""
    if verdict == INCONCLUSIVE:
        return (
            f"did not learn the training task '{test.rule}' (held-out AUC {train_auc:.3f} < {MIN_FIT_AUC}; "
            f"too few epochs, or the head cannot represent the rule): the test cannot judge it"
        )
    effect = f"the shortcut moves a positive test bag's probability by {shortcut_effect:+.2f} on average"
    if verdict == RESPECTS:
        return f"learned the rule '{test.rule}' and ignored {test.shortcut_name}; {effect}"
    inverted = " and ranks positives below negatives" if test_auc < 0.5 else ""
    return f"keys on {test.shortcut}{inverted}; {effect}"
