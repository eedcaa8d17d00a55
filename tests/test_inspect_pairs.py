"""Two runs side by side on Inspect: which runs share a run's pool, the second map aligned to the first, and the
overlap of the two selections (Jaccard and the bags only one run chose), on real digits runs; the page shows both
maps from a `&with=` link."""

import numpy as np
import pytest
from app_support import record_runs
from streamlit.testing.v1 import AppTest

from weakneg import views
from weakneg.config import RunConfig
from weakneg.projection import MapMaker
from weakneg.store import RunStore
from weakneg.train import run_experiment
from test_app_pages import APP, no_exceptions

SETTING = dict(dataset="digits", target_class=3, epochs=2, max_instances=600, seed=1)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(store, entropy run, random run of the same setting and seed, margin run with another seed)."""
    store = RunStore(f"sqlite:///{tmp_path_factory.mktemp('pairs') / 'runs.db'}")
    ids = []
    for sampler, seed in (("entropy", 1), ("random", 1), ("margin", 2)):
        cfg = RunConfig(**{**SETTING, "sampler": sampler, "seed": seed})
        run_id = store.create_run(cfg.to_dict())
        run_experiment(cfg, store, run_id, on_epoch=MapMaker(store, run_id, seed=seed, method="pca"))
        ids.append(run_id)
    record_runs(store, 8)  # same dataset, other targets and seeds, no saved arrays
    return store, *ids


def test_only_runs_over_the_same_pool_match(pair):
    store, entropy, partner, other_seed = pair
    run = store.get_run(entropy)
    assert [r.id for r in views.matching_runs(store, run)] == [partner]
    assert [r.id for r in views.matching_runs(store, store.get_run(partner))] == [entropy]
    assert views.matching_runs(store, store.get_run(other_seed)) == []
    assert views.differences(run, store.get_run(partner)) == ["sampler"]
    # the pools really are the same bags
    a, b = views.epoch_view(store, entropy, 2), views.epoch_view(store, partner, 2)
    assert sorted(a.pool["bag_id"]) == sorted(b.pool["bag_id"])


def test_overlap_counts_match_the_stored_selections(pair):
    store, entropy, partner, _ = pair
    for epoch in (1, 2):
        a, b = views.epoch_view(store, entropy, epoch), views.epoch_view(store, partner, epoch)
        overlap = views.selection_overlap(a, b)
        # reference: the selections table, independent of the saved arrays the views read
        chosen_a = set(store.selection(entropy, epoch)[0].tolist())
        chosen_b = set(store.selection(partner, epoch)[0].tolist())
        assert (overlap.chosen_a, overlap.chosen_b) == (len(chosen_a), len(chosen_b))
        assert overlap.both == len(chosen_a & chosen_b)
        assert overlap.jaccard == pytest.approx(len(chosen_a & chosen_b) / len(chosen_a | chosen_b))
        assert 0 < overlap.jaccard < 1  # the two samplers share some bags, never all
        only = overlap.only
        assert set(only.loc[only["chosen_by"] == "A", "bag_id"]) == chosen_a - chosen_b
        assert set(only.loc[only["chosen_by"] == "B", "bag_id"]) == chosen_b - chosen_a
        # each run's score of a bag is the one its own saved arrays hold, and the pick order is its own
        arrays_a, arrays_b = store.load_epoch_arrays(entropy, epoch), store.load_epoch_arrays(partner, epoch)
        row = only.iloc[0]
        position = {int(bag): i for i, bag in enumerate(arrays_a["pool_ids"])}[int(row["bag_id"])]
        assert row["score_a"] == pytest.approx(float(arrays_a["scores"][position]))
        assert row["score_b"] == pytest.approx(float(arrays_b["scores"][position]))
        owner = arrays_a if row["chosen_by"] == "A" else arrays_b
        assert row["pick"] == owner["pick_order"][position] + 1


def test_jaccard_by_hand_on_a_small_example(pair):
    store, entropy, partner, _ = pair
    a = views.epoch_view(store, entropy, 1)
    b = views.epoch_view(store, partner, 1)
    ids = a.pool["bag_id"].to_numpy()[:6]
    # A chose bags 0,1,2 and B chose 1,2,3,4 of these six; nothing else: |A∩B| = 2, |A∪B| = 5
    for view, chosen in ((a, ids[[0, 1, 2]]), (b, ids[[1, 2, 3, 4]])):
        frame = view.frame.copy()
        picked = frame["bag_id"].isin(chosen) & (frame["kind"] == "negative")
        frame["selected"] = picked
        frame["pick"] = np.where(
            picked, frame["bag_id"].map({bag: i for i, bag in enumerate(chosen)}).fillna(-1), -1
        ).astype(int)
        view.frame = frame
    overlap = views.selection_overlap(a, b)
    assert (overlap.chosen_a, overlap.chosen_b, overlap.both) == (3, 4, 2)
    assert overlap.jaccard == pytest.approx(2 / 5)
    assert overlap.only[["bag_id", "chosen_by", "pick"]].values.tolist() == [
        [ids[0], "A", 1],
        [ids[3], "B", 3],
        [ids[4], "B", 4],
    ]


def test_the_second_map_is_aligned_to_the_first(pair):
    store, entropy, partner, _ = pair
    a, b = views.epoch_view(store, entropy, 2), views.epoch_view(store, partner, 2)
    # a copy of A's map, rotated by 40 degrees, reflected, scaled by 3 and shifted, with its rows shuffled,
    # comes back exactly onto A's map
    angle = np.deg2rad(40)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.diag([1, -1])
    moved = a.frame.sample(frac=1, random_state=0).reset_index(drop=True)
    xy = moved[["x", "y"]].to_numpy() @ turn * 3 + [5, -2]
    moved["x"], moved["y"] = xy[:, 0], xy[:, 1]
    back = views.aligned_view(views.EpochView(a.run_id, 2, "pca", moved, a.class_names, a.contents), a)
    expected = a.frame.set_index("bag_id").loc[back.frame["bag_id"], ["x", "y"]].to_numpy()
    np.testing.assert_allclose(back.frame[["x", "y"]].to_numpy(), expected, atol=1e-4)  # positives too
    # the fit is over the negatives: positive bags thrown far away do not shrink the pool
    far = moved.copy()
    far.loc[far["kind"] == "positive", ["x", "y"]] *= 1000
    back = views.aligned_view(views.EpochView(a.run_id, 2, "pca", far, a.class_names, a.contents), a)
    negatives = back.frame["kind"] == "negative"
    expected = a.frame.set_index("bag_id").loc[back.frame.loc[negatives, "bag_id"], ["x", "y"]].to_numpy()
    np.testing.assert_allclose(back.frame.loc[negatives, ["x", "y"]].to_numpy(), expected, atol=1e-4)
    # the real second run: aligned, its bags sit closer to the same bags of the first map, and its own shape is
    # kept (distances between bags scale by one factor)
    aligned = views.aligned_view(b, a)
    ref = a.frame.set_index("bag_id").loc[b.frame["bag_id"], ["x", "y"]].to_numpy()
    pool = (b.frame["kind"] == "negative").to_numpy()
    before = np.linalg.norm(b.frame[["x", "y"]].to_numpy()[pool] - ref[pool])
    after = np.linalg.norm(aligned.frame[["x", "y"]].to_numpy()[pool] - ref[pool])
    assert after < before
    old, new = b.frame[["x", "y"]].to_numpy(), aligned.frame[["x", "y"]].to_numpy()
    ratio = np.linalg.norm(new[1:] - new[0], axis=1) / np.linalg.norm(old[1:] - old[0], axis=1)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)
    assert b.frame["x"].tolist() != aligned.frame["x"].tolist()  # the original view is not changed in place...
    np.testing.assert_array_equal(b.frame["x"].to_numpy(), old[:, 0])  # ...and keeps its own map


def test_inspect_shows_two_runs_side_by_side_from_a_link(pair, monkeypatch):
    store, entropy, partner, other_seed = pair
    monkeypatch.setenv("WEAKNEG_STORE", store.url)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.switch_page("app_pages/inspect.py")
    at.query_params["run"] = str(entropy)
    at.query_params["with"] = str(partner)
    at.run()
    no_exceptions(at)
    compare = next(s for s in at.selectbox if s.label == "Compare with")
    assert compare.value == partner
    assert set(compare.options) >= {"(none)"} and len(compare.options) == 2  # only the matching run is offered
    a, b = views.epoch_view(store, entropy, 2), views.epoch_view(store, partner, 2)
    overlap = views.selection_overlap(a, b)
    texts = " ".join(m.value for m in at.markdown) + " ".join(str(m.value) for m in at.metric)
    assert f"{overlap.jaccard:.2f}" in texts
    assert at.query_params["with"] == [str(partner)] or at.query_params["with"] == str(partner)
    # a run of another seed offers nothing to compare with
    at2 = AppTest.from_file(str(APP), default_timeout=120)
    at2.switch_page("app_pages/inspect.py")
    at2.query_params["run"] = str(other_seed)
    at2.run()
    no_exceptions(at2)
    assert not [s for s in at2.selectbox if s.label == "Compare with"]


def test_side_by_side_maps_share_ranges_that_hold_both(pair):
    store, entropy, partner, _ = pair
    a = views.epoch_view(store, entropy, 2)
    b = views.aligned_view(views.epoch_view(store, partner, 2), a)
    (x0, x1), (y0, y1) = views.shared_domain(a, b)
    for view in (a, b):
        assert x0 < view.pool["x"].min() and view.pool["x"].max() < x1
        assert y0 < view.pool["y"].min() and view.pool["y"].max() < y1
    points = views.map_points(b, domain=([x0, x1], [y0, y1]))
    assert points["x_range"] == [x0, x1] and points["y_range"] == [y0, y1]
