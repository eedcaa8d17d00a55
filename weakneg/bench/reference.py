"""Reference implementations the benchmark measures ours against."""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.metrics import pairwise_distances


def original_badge(matrix: np.ndarray, k: int, seed: int) -> list[int]:
    """BADGE as first published: dense embeddings, distances to the newest center, a fresh rv_discrete per pick,
    redrawing picks already taken."""
    state = np.random.RandomState(seed)
    chosen = [int(np.argmax(np.linalg.norm(matrix, axis=1)))]
    distances = pairwise_distances(matrix, matrix[chosen]).ravel().astype(float)
    while len(chosen) < k:
        if len(chosen) > 1:
            distances = np.minimum(distances, pairwise_distances(matrix, matrix[chosen[-1:]]).ravel())
        weights = distances**2 / (distances**2).sum()
        draw = stats.rv_discrete(name="custm", values=(np.arange(len(distances)), weights))
        pick = int(draw.rvs(size=1, random_state=state)[0])
        while pick in chosen:
            pick = int(draw.rvs(size=1, random_state=state)[0])
        chosen.append(pick)
    return chosen
