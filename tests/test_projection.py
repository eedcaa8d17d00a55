"""2-D maps: PCA against scikit-learn, Procrustes against a known transform, epoch-to-epoch alignment (PCA and
real UMAP, through the worker's hook and its background thread)."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from weakneg import projection
from weakneg.store import EpochArrays, PoolArrays


def test_pca_reduce_matches_scikit_learn_up_to_sign():
    points = np.random.default_rng(0).normal(size=(80, 12)) * np.arange(1, 13)
    ours = projection.pca_reduce(points, 3)
    theirs = PCA(3).fit_transform(points)
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), atol=1e-8)
    assert projection.pca_reduce(points[:4], 50).shape == (4, 50)  # fewer rows than dims: padded, not an error


def test_procrustes_recovers_a_rotation_scale_and_shift():
    reference = np.random.default_rng(1).normal(size=(50, 2))
    angle = 1.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (reference @ rotation) * 3.0 + [5.0, -2.0]
    np.testing.assert_allclose(projection.procrustes_align(moved, reference), reference, atol=1e-9)
    mirrored = reference * [-1, 1]  # a reflection (PCA's sign flip) is undone too
    np.testing.assert_allclose(projection.procrustes_align(mirrored, reference), reference, atol=1e-9)
    assert projection.procrustes_align(moved, None) is moved


def _save_epoch(store, run_id, epoch, pool, positives):
    n, p = len(pool), len(positives)
    saved = PoolArrays(
        pool_ids=np.arange(n),
        positive_ids=np.arange(n, n + p),
        scores=np.zeros(n, np.float32),
        pick_order=np.full(n, -1, np.int32),
        pool_prob=np.zeros(n, np.float32),
        pool_grad=pool.astype(np.float16),
        positive_prob=np.zeros(p, np.float32),
        positive_grad=positives.astype(np.float16),
    )
    store.save_epoch_record(run_id, EpochArrays(epoch=epoch, pool=saved))


def _clusters(seed, n=90, dim=20):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 6, size=(3, dim))
    return np.concatenate([c + rng.normal(size=(n // 3, dim)) for c in centres])


def test_pca_maps_are_aligned_across_epochs(store):
    run_id = store.create_run({"dataset": "digits"})
    points = _clusters(0)
    pool, positives = points[:80], points[80:]
    _save_epoch(store, run_id, 1, pool, positives)
    _save_epoch(store, run_id, 2, -1.5 * pool, -1.5 * positives)  # same geometry; raw PCA would flip and scale it
    maker = projection.MapMaker(store, run_id, method="pca")
    maker({"epoch": 1})
    maker({"epoch": 2})
    maker({"epoch": 3})  # no arrays that epoch: nothing written, no error
    first, second = (projection.load_map(store, run_id, e) for e in (1, 2))
    assert first["method"] == "pca" and first["pool_xy"].shape == (80, 2) and first["positive_xy"].shape == (10, 2)
    np.testing.assert_allclose(second["pool_xy"], first["pool_xy"], atol=2e-2 * np.ptp(first["pool_xy"]))
    raw = projection.pca_reduce(np.concatenate([-1.5 * pool, -1.5 * positives]), 2)
    assert np.abs(raw[:80] - first["pool_xy"]).max() > 0.5  # without alignment the maps would differ
    assert projection.load_map(store, run_id, 3) is None and projection.best_method(store, run_id, 2) == "pca"


def test_umap_maps_in_the_worker_thread_start_from_the_previous_epoch(store):
    run_id = store.create_run({"dataset": "digits"})
    points = _clusters(1)
    _save_epoch(store, run_id, 1, points[:80], points[80:])
    moved = points + np.random.default_rng(2).normal(0, 0.05, points.shape)  # the model moved a little
    _save_epoch(store, run_id, 2, moved[:80], moved[80:])
    maker = projection.MapMaker(store, run_id, method="umap")
    maker({"epoch": 1})
    maker({"epoch": 2})
    assert projection.load_map(store, run_id, 1, "pca") is not None  # the instant map exists at once
    maker.close(wait=True)
    first, second = (projection.load_map(store, run_id, e) for e in (1, 2))
    assert first["method"] == second["method"] == "umap"
    a, b = first["pool_xy"], second["pool_xy"]
    labels = np.repeat([0, 1, 2], 30)[:80]
    centres = np.array([a[labels == c].mean(0) for c in range(3)])
    nearest = np.argmin(((a[:, None] - centres[None]) ** 2).sum(-1), 1)
    assert (nearest == labels).mean() > 0.95  # UMAP keeps the three clusters apart
    moved_centres = np.array([b[labels == c].mean(0) for c in range(3)])
    gaps = np.linalg.norm(moved_centres[:, None] - centres[None], axis=-1)
    assert (gaps.argmin(1) == [0, 1, 2]).all()  # each cluster stays nearest to where it was: no re-layout
    assert gaps.diagonal().max() < 0.25 * np.ptp(a, axis=0).max()


def test_map_method_reads_the_environment(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")
    assert projection.map_method() == "pca"
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "tsne")
    with pytest.raises(ValueError, match="WEAKNEG_MAP_METHOD"):
        projection.map_method()
