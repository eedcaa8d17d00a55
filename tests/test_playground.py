"""The teaching playground's engine: the 2-D world, every sampler choosing in it, and the captions."""

import numpy as np
import pytest

from weakneg.errors import ConfigError
from weakneg.playground import (
    CLUSTERS,
    CONCEPT,
    PlaygroundSettings,
    choice_stats,
    cluster_centres,
    explain_choice,
    make_world,
    run_playground,
)
from weakneg.views.playground_figures import choice_figure, choice_points, metrics_figure
from weakneg.samplers import SAMPLERS

SMALL = PlaygroundSettings(n_bags=40, bag_size=4, epochs=2)
NEAR_MISSES = [i for i, c in enumerate(CLUSTERS) if c[1] == "near miss"]


def check_bags(bags, clusters, settings):
    n = settings.n_bags * settings.bag_size
    assert bags.members.shape == (settings.n_bags, settings.bag_size)
    assert sorted(bags.members.ravel()) == list(range(n))  # every instance in exactly one bag
    concept_count = (clusters[bags.members] == CONCEPT).sum(axis=1)
    np.testing.assert_array_equal(bags.labels, (concept_count > 0).astype(int))
    assert 0 < bags.labels.sum() < len(bags.labels)
    # label density: a positive bag holds 1..bag_size concept points
    assert concept_count[bags.labels == 1].min() >= 1 and concept_count.max() <= settings.bag_size
    for b in range(len(bags.labels)):  # contents: per-cluster counts of the bag's instances
        np.testing.assert_array_equal(bags.contents[b], np.bincount(clusters[bags.members[b]], minlength=len(CLUSTERS)))


@pytest.mark.parametrize(
    "settings",
    [
        PlaygroundSettings(),
        PlaygroundSettings(n_bags=60, bag_size=1, seed=3),
        PlaygroundSettings(n_bags=200, bag_size=9, overlap=1.0, seed=7),
    ],
)
def test_world_bag_labels_match_instances_and_settings(settings):
    world = make_world(settings)
    for bags, clusters in ((world.train, world.train_clusters), (world.test, world.test_clusters)):
        check_bags(bags, clusters, settings)
        shares = np.bincount(clusters, minlength=len(CLUSTERS)) / len(clusters)
        np.testing.assert_allclose(shares, [c[3] for c in CLUSTERS], atol=0.01)  # exact counts, up to rounding
    assert not np.array_equal(world.train.points, world.test.points)  # test bags are a fresh draw


def test_label_density_covers_one_to_bag_size_in_a_large_world():
    world = make_world(PlaygroundSettings(n_bags=2000, bag_size=4))
    counts = (world.train_clusters[world.train.members[world.train.labels == 1]] == CONCEPT).sum(axis=1)
    assert set(np.unique(counts)) == {1, 2, 3, 4}


def test_overlap_brings_near_misses_onto_the_concept():
    def near_miss_gap(overlap):
        world = make_world(PlaygroundSettings(overlap=overlap))
        concept = world.train.points[world.train_clusters == CONCEPT].mean(axis=0)
        near = np.isin(world.train_clusters, NEAR_MISSES)
        return np.linalg.norm(world.train.points[near] - concept, axis=1).mean()

    gaps = [near_miss_gap(o) for o in (0.0, 0.5, 1.0)]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[0] > 3.5 and gaps[2] < 1.5
    centres = cluster_centres(0.25)
    far = [i for i, c in enumerate(CLUSTERS) if c[1] == "far"]
    assert np.linalg.norm(centres[far], axis=1).min() > np.linalg.norm(centres[NEAR_MISSES], axis=1).max()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"n_bags": 5}, "n_bags"),
        ({"overlap": 1.5}, "overlap"),
        ({"pn_ratio": 0}, "pn_ratio"),
        ({"head": "nope"}, "head"),
        ({"bag_size": 0}, "bag_size"),
        ({"epochs": 0}, "epochs"),
    ],
)
def test_bad_settings_say_what_to_fix(change, message):
    with pytest.raises(ConfigError, match=message):
        make_world(PlaygroundSettings(**change))


def test_unknown_sampler_is_refused_before_training():
    with pytest.raises(ConfigError, match="unknown sampler 'nope'"):
        run_playground(SMALL, ["random", "nope"])


def test_every_registered_sampler_chooses_in_the_world():
    result = run_playground(SMALL, list(SAMPLERS))
    world = result.world
    pool = np.flatnonzero(world.train.labels == 0)
    n_pos = int(world.train.labels.sum())
    for name, run in result.runs.items():
        np.testing.assert_array_equal(run.pool, pool)
        k = len(pool) if SAMPLERS[name].whole_pool else min(round(n_pos / SMALL.pn_ratio), len(pool))
        assert run.k == k, name
        assert [c.epoch for c in run.epochs] == [1, 2]
        for choice in run.epochs:
            assert len(choice.chosen) == k and len(set(choice.chosen)) == k, name
            assert set(choice.chosen) <= set(pool), name  # only negative bags are ever chosen
            assert choice.scores.shape == (len(pool),) and choice.pool_prob.shape == (len(pool),)
            assert 0 <= choice.ap <= 1 and 0 <= choice.auc <= 1, name
        assert run.grids.shape == (SMALL.epochs + 1, len(result.grid_y), len(result.grid_x))
        assert ((run.grids >= 0) & (run.grids <= 1)).all()
        # every sampler starts from the same model, so differences come from the choices alone
        np.testing.assert_array_equal(run.grids[0], result.runs["random"].grids[0])


def test_same_seed_same_selections_and_another_seed_differs():
    samplers = ["random", "margin", "badge"]
    a, b = run_playground(SMALL, samplers), run_playground(SMALL, samplers)
    for name in samplers:
        for x, y in zip(a.runs[name].epochs, b.runs[name].epochs):
            np.testing.assert_array_equal(x.chosen, y.chosen)
            assert x.ap == y.ap
        np.testing.assert_array_equal(a.runs[name].grids, b.runs[name].grids)
    c = run_playground(PlaygroundSettings(n_bags=40, bag_size=4, epochs=2, seed=1), samplers)
    assert not np.array_equal(a.world.train.points, c.world.train.points)
    assert not np.array_equal(a.runs["random"].epochs[0].chosen, c.runs["random"].epochs[0].chosen)


def test_decision_regions_put_the_concept_inside_after_training():
    settings = PlaygroundSettings(overlap=0.0, epochs=8)
    result = run_playground(settings, ["full", "random"])
    centres = cluster_centres(settings.overlap)

    def prob_at(grid, point):  # the grid cell nearest a point: rows follow y, columns x
        return grid[np.abs(result.grid_y - point[1]).argmin(), np.abs(result.grid_x - point[0]).argmin()]

    trained = result.runs["full"].grids[-1]
    assert prob_at(trained, centres[CONCEPT]) > 0.5
    for far in (i for i, c in enumerate(CLUSTERS) if c[1] == "far"):
        assert prob_at(trained, centres[far]) < 0.5
    assert result.runs["full"].epochs[-1].auc > 0.8


def test_caption_reports_what_was_actually_picked():
    result = run_playground(PlaygroundSettings(epochs=3), ["margin", "full"])
    world, run = result.world, result.runs["margin"]
    for epoch in (1, 3):
        choice = run.choice(epoch)
        concept = world.centres[CONCEPT]
        # by hand: each bag's nearest point to the concept centre, averaged over the picked bags
        by_hand = np.mean(
            [
                min(np.linalg.norm(world.train.points[i] - concept) for i in world.train.members[b])
                for b in choice.chosen
            ]
        )
        stats = choice_stats(world, run, epoch)
        assert stats["picked_distance"] == pytest.approx(by_hand, rel=1e-5)
        near_miss_points = np.isin(world.train_clusters[world.train.members[choice.chosen]], NEAR_MISSES).mean()
        assert stats["picked_near_miss"] == pytest.approx(near_miss_points, rel=1e-6)
        positions = np.searchsorted(run.pool, choice.chosen)
        assert stats["picked_prob"] == pytest.approx(choice.pool_prob[positions].mean(), rel=1e-5)
        caption = explain_choice(world, run, epoch)
        assert f"picked {len(choice.chosen)} of {len(run.pool)}" in caption
        assert f"{stats['picked_distance']:.1f} units" in caption and f"(pool: {stats['pool_distance']:.1f})" in caption
    assert "whole pool" in explain_choice(world, result.runs["full"], 1)


def test_margin_goes_for_hard_negatives_when_near_misses_overlap():
    """The teaching point itself: once trained, margin picks bags nearer the concept than the pool is."""
    result = run_playground(PlaygroundSettings(overlap=0.7, epochs=6), ["margin", "random"])
    stats = choice_stats(result.world, result.runs["margin"], 6)
    assert stats["picked_distance"] < stats["pool_distance"]
    assert stats["picked_prob"] > stats["pool_prob"]


def test_figure_rings_exactly_the_chosen_bags_over_the_right_regions():
    result = run_playground(SMALL, ["random", "margin"])
    world, run = result.world, result.runs["margin"]
    figure = choice_figure(result, "margin", 2, regions="chose")
    ringed = next(t for t in figure.data if t.name == "chosen negative bags")
    rows, bags = choice_points(result, "margin", 2)
    np.testing.assert_array_equal(
        np.asarray(ringed.x), world.train.points[world.train.members[run.choice(2).chosen].ravel(), 0]
    )
    assert len(rows) == len(run.choice(2).chosen) * SMALL.bag_size
    np.testing.assert_array_equal(figure.data[0].z, run.grids[1])  # the model that chose epoch 2: after epoch 1
    np.testing.assert_array_equal(choice_figure(result, "margin", 2, regions="trained").data[0].z, run.grids[2])
    metrics = metrics_figure(result, 2)
    ap_lines = [t for t in metrics.data if t.xaxis == "x"]
    assert [t.name for t in ap_lines] == ["random", "margin"]
    assert list(ap_lines[1].y) == [c.ap for c in run.epochs]
    with pytest.raises(ValueError, match="regions"):
        choice_figure(result, "margin", 1, regions="later")
