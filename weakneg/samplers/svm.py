"""svm_margin: negatives on the wrong side of (or nearest to) a linear SVM between positives and the pool.

Our reading of the paper's SVM-margin sampler: fit scikit-learn's LinearSVC on standardised bag
features h_b, positive bags (+1) against the whole negative pool (-1), classes weighted to balance,
then score each negative by its signed margin y * f(h_b) = -f(h_b) and keep the k smallest.
"""

from __future__ import annotations

import numpy as np

from .base import Pool, SamplerSpec, by_score, register
from .common import number, require_positives
from .params import Param


def svm_margin_scores(pool: Pool, options: dict) -> np.ndarray:
    require_positives(pool, "svm_margin")
    from sklearn.svm import LinearSVC  # here, not at the top: scikit-learn takes 1 s to import (half of `samplers`')

    c = number(options, "C", "svm_margin", above=0)
    positives = pool.positive_features.detach().double().cpu().numpy()
    negatives = pool.bag_features().detach().double().cpu().numpy()
    if len(negatives) == 0:  # nothing to score (and one class only: no SVM to fit)
        return np.zeros(0)
    features = np.concatenate([positives, negatives])
    finite = np.isfinite(features).all(1)
    mean = features[finite].mean(0)
    std = features[finite].std(0)
    std[std == 0] = 1.0  # constant features carry nothing; leave them at 0
    labels = np.r_[np.ones(len(positives)), -np.ones(len(negatives))]
    svm = LinearSVC(C=c, class_weight="balanced", max_iter=int(options["max_iter"]), random_state=0)
    svm.fit((features[finite] - mean) / std, labels[finite])
    margins = -svm.decision_function((negatives - mean) / std)  # y * f(h_b) with y = -1
    return np.where(np.isfinite(negatives).all(1), margins, np.nan)  # bags with broken features rank last


SVM_MARGIN = register(
    SamplerSpec(
        "svm_margin",
        "SVM margin (our reading of the paper): a linear SVM (scikit-learn LinearSVC, balanced class weights) is "
        "fitted on standardised bag features h_b, positive bags against the negative pool, and each negative is "
        "scored by its signed margin y*f(h_b) with y = -1. The k smallest win: negatives the SVM puts on the "
        "positive side first, then those closest to the boundary.",
        by_score(svm_margin_scores, largest=False),
        reads={"features"},
        params={
            "C": Param(1.0, "float", "SVM regularisation: larger C fits the training bags more tightly", above=0),
            "max_iter": Param(2000, "int", "iterations of the SVM solver", minimum=1, maximum=1_000_000),
        },
    )
)
