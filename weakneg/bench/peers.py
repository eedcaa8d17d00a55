"""Our samplers against the libraries a user would otherwise pick, on identical inputs, in one process.

- BADGE at N = pool, k = 2 * positives (50,000 / 5,000 by default), embedding dims 130 and 170: ours on the
  factored float32 embedding as the model gives it; scikit-learn's `kmeans_plusplus` (1 local trial, in
  float32 and float64, and its default 2 + ln k trials), scikit-activeml's `Badge` and the original BADGE
  (dense, float64, one draw per pick, redrawing repeats) on the dense matrix. Agreement: a chi-square
  p-value of each implementation's pick sequences against the exact D^2 distribution on a small pool
  (scikit-learn's first pick is uniform by design, so it is tested against that variant).
- core-set (N 20,000, 500 positive centres, k 2,000) against scikit-activeml's `CoreSet`: same picks.
- margin / least confidence / entropy against scikit-activeml's `UncertaintySampling`: picks in common.
Peers are bench/test requirements; without them the section says so and its goals read "not measured".
Timings are medians of repeats that interleave ours and the peers (the slowest peers run once: their
single time is their median), one BLAS/torch thread unless --threads says otherwise.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from scipy import stats

from ..models.gradients import GradEmbedding
from ..samplers import SAMPLERS, Pool
from ..samplers.badge import kmeans_pp_seeds
from ..samplers.coreset import k_center_greedy
from .reference import original_badge

BADGE_VS_FASTEST_GOAL, BADGE_VS_ORIGINAL_GOAL, CORESET_GOAL = 1.5, 10.0, 2.0
SLOW = ("sklearn kmeans++ default trials", "scikit-activeml Badge", "original BADGE")


def peers_available() -> str | None:
    """None, or why the peers cannot run."""
    try:
        import skactiveml  # noqa: F401
    except ImportError:
        return "scikit-activeml is not installed (pip install -r requirements.txt)"
    return None


def interleaved(
    runs: dict[str, Callable[[], object]], repeats: int, log: Callable[[str], None], once: tuple[str, ...] = SLOW
) -> tuple[dict[str, float], dict[str, object]]:
    """Median wall time per entry over rounds that run every entry in turn (entries in `once`: first round only)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, object] = {}
    for round_ in range(repeats):
        for name, fn in runs.items():
            if round_ and name in once:
                continue
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
            log(f"    round {round_ + 1}, {name}: {times[name][-1]:.2f} s")
    return {name: statistics.median(values) for name, values in times.items()}, results


def row_classifier(probas: np.ndarray, embeddings: np.ndarray | None = None):
    """A scikit-activeml classifier that answers with precomputed outputs: X holds row numbers, so the peer
    sees exactly the probabilities (and embeddings) our samplers see, and no model time is measured."""
    from skactiveml.base import SkactivemlClassifier

    class Rows(SkactivemlClassifier):
        def fit(self, X, y, sample_weight=None):
            return self

        def predict_proba(self, X, return_embeddings=False):
            rows = np.asarray(X)[:, 0].astype(np.int64)
            if return_embeddings and embeddings is not None:
                return probas[rows], embeddings[rows]
            return probas[rows]

    clf = Rows(classes=[0, 1])
    clf.classes_ = np.array([0, 1])
    return clf


def badge_inputs(pool: Pool, dim: int, seed: int = 0) -> GradEmbedding:
    """The pool's BADGE embedding (predicted label, float32) with its d = dim / 2 - 1 feature columns: the model's
    first d features, or all of them widened by fixed random projections when the model has fewer."""
    q, h = pool.grad_embedding("predicted").factors()
    features, d = h[:, :-1], dim // 2 - 1
    if features.shape[1] < d:
        generator = torch.Generator().manual_seed(seed)
        projection = torch.randn(features.shape[1], d - features.shape[1], generator=generator).to(features)
        features = torch.cat([features, features @ projection / features.shape[1] ** 0.5], 1)
    return GradEmbedding(q=q, h=torch.cat([features[:, :d], h[:, -1:]], 1))


def badge_peer_figures(
    pool: Pool, k: int, dims: tuple[int, ...], repeats: int, seed: int, original: bool, log: Callable[[str], None]
) -> dict:
    from sklearn.cluster import kmeans_plusplus
    from skactiveml.pool import Badge

    figures = {}
    for dim in dims:
        emb = badge_inputs(pool, dim, seed)
        q, h = emb.factors()
        dense64 = emb.matrix().double().numpy()
        dense32 = dense64.astype(np.float32)
        probas = np.c_[1 - q[:, 1].double().numpy(), q[:, 1].double().numpy()]  # p with p - onehot = q
        flip = q[:, 1].numpy() < 0  # q = (p0, -p0) when class 1 is predicted
        probas[flip] = np.c_[q[flip, 0].double().numpy(), 1 - q[flip, 0].double().numpy()]
        features = h.double().numpy()
        rows = np.arange(len(emb))[:, None].astype(np.float64)
        log(f"  BADGE N={len(emb)} k={k} dim {dim}:")
        runs = {
            "ours (float32, factored)": lambda: kmeans_pp_seeds(emb, k, np.random.default_rng(seed))[0],
            "sklearn kmeans++ 1 trial float64": lambda: kmeans_plusplus(
                dense64, k, n_local_trials=1, random_state=seed
            )[1],
            "sklearn kmeans++ 1 trial float32": lambda: kmeans_plusplus(
                dense32, k, n_local_trials=1, random_state=seed
            )[1],
            "sklearn kmeans++ default trials": lambda: kmeans_plusplus(dense64, k, random_state=seed)[1],
            "scikit-activeml Badge": lambda: Badge(
                clf_embedding_flag_name="return_embeddings", random_state=seed
            ).query(rows, np.full(len(rows), np.nan), row_classifier(probas, features), fit_clf=False, batch_size=k),
        }
        if original and dim == max(dims):
            runs["original BADGE"] = lambda: original_badge(dense64, k, seed)
        medians, results = interleaved(runs, repeats, log)
        ours = medians["ours (float32, factored)"]
        peers = {name: t for name, t in medians.items() if not name.startswith("ours")}
        fastest = min(peers, key=lambda name: peers[name])
        entry = {
            "n": len(emb),
            "k": k,
            "dim": dim,
            "ours_s": ours,
            "peers": {name: {"s": t, "peer_over_ours": t / ours} for name, t in peers.items()},
            "fastest_peer": fastest,
            "fastest_over_ours": peers[fastest] / ours,
            "distinct_picks": {name: len(set(np.asarray(r).tolist())) == k for name, r in results.items()},
        }
        if "original BADGE" in peers:
            entry["original_over_ours"] = peers["original BADGE"] / ours
        figures[str(dim)] = entry
    return figures


def d2_agreement(runs: int, seed: int = 0) -> dict:
    """Chi-square p-value of each implementation's pick sequences (k = 3 of 6) against the exact distribution."""
    from sklearn.cluster import kmeans_plusplus
    from skactiveml.pool import Badge

    rng = np.random.default_rng(seed)
    a = rng.uniform(0.05, 0.45, 6)
    h = rng.normal(size=(6, 3)) * rng.uniform(0.5, 2, (6, 1))
    emb = GradEmbedding(q=torch.tensor(np.c_[-a, a], dtype=torch.float32), h=torch.tensor(h, dtype=torch.float32))
    g = emb.matrix().double().numpy()
    probas, rows = np.c_[1 - a, a], np.arange(6)[:, None].astype(np.float64)
    draws = {
        "ours": lambda s: kmeans_pp_seeds(emb, 3, np.random.default_rng(s))[0],
        "original BADGE": lambda s: original_badge(g, 3, s),
        "scikit-activeml Badge": lambda s: Badge(clf_embedding_flag_name="return_embeddings", random_state=s).query(
            rows, np.full(6, np.nan), row_classifier(probas, h), fit_clf=False, batch_size=3
        ),
        "sklearn kmeans++ 1 trial (uniform first pick)": lambda s: kmeans_plusplus(
            g, 3, n_local_trials=1, random_state=s
        )[1],
    }
    result = {}
    for name, draw in draws.items():
        exact = sequence_probabilities(g, 3, uniform_first="sklearn" in name)
        counts = dict.fromkeys(exact, 0)
        for s in range(runs):
            key = tuple(int(i) for i in draw(s))
            counts[key] = counts.get(key, 0) + 1
        result[name] = {"chi2_p": chi_square(counts, exact, runs), "runs": runs}
    return result


def sequence_probabilities(g: np.ndarray, k: int, uniform_first: bool = False) -> dict[tuple, float]:
    """Exact probability of every pick order: first the largest norm (or uniform), then D^2 to the chosen."""
    n = len(g)
    firsts = range(n) if uniform_first else [int(np.argmax((g**2).sum(1)))]
    result = {}
    for first in firsts:
        for rest in itertools.permutations([i for i in range(n) if i != first], k - 1):
            chosen, p = [first], (1 / n if uniform_first else 1.0)
            for j in rest:
                d2 = np.array(
                    [0.0 if i in chosen else min(((g[i] - g[c]) ** 2).sum() for c in chosen) for i in range(n)]
                )
                p *= d2[j] / d2.sum()
                chosen.append(j)
            result[(first, *rest)] = p
    return result


def chi_square(counts: dict, exact: dict, runs: int) -> float:
    """p-value of observed sequence counts against exact probabilities (cells under 5 expected merged; a sequence
    the exact distribution gives probability 0 counts against the draw)."""
    keys = sorted(set(counts) | set(exact), key=lambda key: exact.get(key, 0.0), reverse=True)
    observed = np.array([counts.get(key, 0) for key in keys], dtype=float)
    expected = np.array([exact.get(key, 0.0) for key in keys]) * runs
    big = expected >= 5
    if not big.all():
        observed, expected = np.r_[observed[big], observed[~big].sum()], np.r_[expected[big], expected[~big].sum()]
    if expected[-1] == 0:  # impossible sequences were drawn: as far from the distribution as it gets
        return 0.0 if observed[-1] > 0 else float(stats.chisquare(observed[:-1], expected[:-1]).pvalue)
    return float(stats.chisquare(observed, expected).pvalue)


def coreset_peer_figures(pool: Pool, n: int, centres: int, k: int, repeats: int, log: Callable[[str], None]) -> dict:
    from skactiveml.pool import CoreSet

    points = pool.bag_features()[:n].detach()
    positives = pool.positive_features[:centres].detach()
    X = np.concatenate([points.double().numpy(), positives.double().numpy()])  # the very values ours sees
    y = np.r_[np.full(len(points), np.nan), np.ones(len(positives))]
    log(f"  core-set N={len(points)} d={points.shape[1]} centres={len(positives)} k={k}:")
    medians, results = interleaved(
        {
            "ours (float32)": lambda: k_center_greedy(points, positives, k)[0],
            "scikit-activeml CoreSet": lambda: CoreSet(random_state=0).query(X, y, batch_size=k),
        },
        repeats,
        log,
        once=(),
    )
    same = np.asarray(results["ours (float32)"]).tolist() == np.asarray(results["scikit-activeml CoreSet"]).tolist()
    ours, peer = medians["ours (float32)"], medians["scikit-activeml CoreSet"]
    return {
        "n": len(points),
        "d": points.shape[1],
        "centres": len(positives),
        "k": k,
        "ours_s": ours,
        "peer_s": peer,
        "peer_over_ours": peer / ours,
        "same_picks": same,
    }


def uncertainty_peer_figures(pool: Pool, k: int, repeats: int, seed: int, log: Callable[[str], None]) -> dict:
    from skactiveml.pool import UncertaintySampling

    probas = pool.log_probs.double().exp().numpy()
    rows = np.arange(len(pool))[:, None].astype(np.float64)
    clf = row_classifier(probas)
    figures = {}
    for ours_name, method in (
        ("margin", "margin_sampling"),
        ("least_confidence", "least_confident"),
        ("entropy", "entropy"),
    ):
        log(f"  {ours_name} N={len(pool)} k={k}:")
        spec = SAMPLERS[ours_name]
        medians, results = interleaved(
            {
                "ours": lambda: spec(pool, k, np.random.default_rng(seed), {}).indices,
                "scikit-activeml": lambda: UncertaintySampling(method=method, random_state=seed).query(
                    rows, np.full(len(rows), np.nan), clf, fit_clf=False, batch_size=k
                ),
            },
            repeats,
            log,
            once=(),
        )
        common = len(set(np.asarray(results["ours"]).tolist()) & set(np.asarray(results["scikit-activeml"]).tolist()))
        figures[ours_name] = {
            "ours_s": medians["ours"],
            "peer_s": medians["scikit-activeml"],
            "peer_over_ours": medians["scikit-activeml"] / medians["ours"],
            "picks_in_common": common / max(k, 1),
        }
    return figures


def peer_goals(peers: dict) -> dict:
    """Goal -> True / False, or None when not measured."""
    badge, coreset = peers.get("badge", {}), peers.get("coreset")
    goals = {
        f"badge_dim{dim}_1.5x_faster_than_fastest_peer": (entry["fastest_over_ours"] >= BADGE_VS_FASTEST_GOAL)
        for dim, entry in badge.items()
    }
    originals = [entry["original_over_ours"] for entry in badge.values() if "original_over_ours" in entry]
    goals["badge_10x_faster_than_original"] = originals[0] >= BADGE_VS_ORIGINAL_GOAL if originals else None
    agreement = peers.get("d2_agreement", {}).get("ours")
    goals["badge_exact_d2_distribution"] = agreement["chi2_p"] > 1e-3 if agreement else None
    goals["coreset_2x_faster_same_picks"] = (
        coreset["peer_over_ours"] >= CORESET_GOAL and coreset["same_picks"] if coreset else None
    )
    return goals
