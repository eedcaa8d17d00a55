"""The engine functions behind the pages, checked against the store and the bags computed independently."""

import numpy as np
import pandas as pd
import pytest
from app_support import REAL

from weakneg import views
from weakneg.config import RunConfig
from weakneg.data import load_bags
from weakneg.errors import ConfigError
from weakneg.store import RunRecord


def test_run_rows_progress_filters_and_kinds(lab_store):
    store, real = lab_store
    rows = views.run_rows(store)
    assert len(rows) == 200 and list(rows.columns) == views.RUN_COLUMNS
    assert rows["id"].tolist() == sorted(rows["id"], reverse=True)  # newest first
    first = rows.set_index("id").loc[real]
    assert first["progress"] == 1.0 and first["epochs"] == "3/3" and first["class"] == "3"
    assert first.ap == pytest.approx(store.epochs(real)[-1].ap)
    assert set(views.run_rows(store, sampler=["margin"])["sampler"]) == {"margin"}
    assert len(views.run_rows(store, sampler=["margin", "random"])) == 100
    assert views.run_rows(store, kind="milcheck").empty


def test_run_detail_curves_and_time_split(lab_store):
    store, real = lab_store
    detail = views.run_detail(store, real)
    run = store.get_run(real)
    assert detail["counts"] == f"{run.n_pos} positive bags, {run.k} of {run.pool_size} negatives per epoch"
    assert not detail["active"] and len(detail["epochs"]) == 3
    curves = views.curves(detail["epochs"])
    assert curves[curves["metric"] == "AP"]["value"].tolist() == [e.ap for e in store.epochs(real)]
    split = views.time_split(detail["epochs"]).set_index("phase")
    assert split.loc["training", "seconds"] == pytest.approx(sum(e.t_train for e in store.epochs(real)))
    assert split["share"].sum() == pytest.approx(1.0)
    assert views.run_detail(store, 10_000) is None


def test_epoch_view_matches_the_store_and_the_bags(lab_store):
    store, real = lab_store
    assert views.inspect_epochs(store, real) == [1, 2, 3]
    view = views.epoch_view(store, real, 2)
    run = store.get_run(real)
    pool, positives = view.pool, view.frame[view.frame["kind"] == "positive"]
    assert view.method == "pca" and len(pool) == run.pool_size and len(positives) == run.n_pos
    chosen, scores = store.selection(real, 2)
    assert sorted(pool[pool["selected"]]["bag_id"]) == sorted(chosen.tolist())
    in_order = pool[pool["selected"]].sort_values("pick")
    assert in_order["bag_id"].tolist() == chosen.tolist()
    np.testing.assert_allclose(in_order["score"], scores, rtol=1e-6)
    # times selected through epoch 2, counted here from the raw selections
    counted = {}
    for epoch in (1, 2):
        for bag in store.selection(real, epoch)[0]:
            counted[int(bag)] = counted.get(int(bag), 0) + 1
    assert pool.set_index("bag_id")["times_selected"].to_dict() == {
        int(b): counted.get(int(b), 0) for b in pool["bag_id"]
    }
    # true classes inside each bag, from the instance labels of a fresh rebuild of the bags
    bags = load_bags(REAL)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    _, _, labels, _ = train_test_split(
        digits.images, digits.target, test_size=0.3, stratify=digits.target, random_state=0
    )
    keep = np.sort(np.random.default_rng([REAL.seed, 3]).permutation(len(labels))[: REAL.max_instances])
    labels = labels[keep]
    position = {int(b): i for i, b in enumerate(bags.train.ids)}
    for row, bag_id in zip(view.contents[:20], view.frame["bag_id"][:20]):
        expected = np.bincount(labels[bags.train.members[position[int(bag_id)]]], minlength=10)
        np.testing.assert_array_equal(row, expected)
    assert (view.class_count("3")[: len(pool)] == 0).all() and (view.class_count("3")[len(pool) :] > 0).all()


def test_class_composition_by_hand(lab_store):
    store, real = lab_store
    view = views.epoch_view(store, real, 3)
    table = views.class_composition(view).set_index("class")
    assert "3" not in table.index  # the target never appears in a negative bag
    assert table["selected"].sum() == pytest.approx(1.0) and table["pool"].sum() == pytest.approx(1.0)
    pool_rows = (view.frame["kind"] == "negative").to_numpy()
    chosen = pool_rows & view.frame["selected"].to_numpy()
    sevens = view.class_count("7")
    assert table.loc["7", "selected"] == pytest.approx(sevens[chosen].sum() / view.contents[chosen].sum())
    assert table.loc["7", "lift"] == pytest.approx(table.loc["7", "selected"] / table.loc["7", "pool"])


def test_selection_changes_count_kept_bags(lab_store):
    store, real = lab_store
    changes = views.selection_changes(store, real).set_index("epoch")
    one, two = (set(store.selection(real, e)[0].tolist()) for e in (1, 2))
    assert changes.loc[2, "kept"] == len(one & two) and changes.loc[2, "new"] == len(two - one)
    assert changes.loc[2, "overlap"] == pytest.approx(len(one & two) / len(one | two))
    assert np.isnan(changes.loc[1, "kept"])


def test_bag_previews_show_the_bags_images(lab_store):
    store, real = lab_store
    view = views.epoch_view(store, real, 1)
    run = store.get_run(real)
    picked = view.pool.sort_values("pick")["bag_id"].tail(2).tolist() + [int(view.frame["bag_id"].iloc[-1])]
    previews = views.bag_previews(run, view, picked[::-1] + picked)  # picks first in pick order, shown once
    assert [p["bag_id"] for p in previews] == picked and previews[-1]["kind"] == "positive"
    row = int(np.flatnonzero(view.frame["bag_id"] == picked[0])[0])
    counts = view.contents[row]
    assert previews[0]["classes"] == ", ".join(f"{c}×{n}" if n > 1 else str(c) for c, n in enumerate(counts) if n)
    bags = views.run_bags(run)
    position = int(np.flatnonzero(bags.train.ids == picked[0])[0])
    images = bags.train.bag_images(position)  # (5, 8, 8, 1)
    strip = previews[0]["image"]
    scale = 72 // 8
    assert strip.shape == (8 * scale, 5 * 8 * scale + 4 * 2)
    np.testing.assert_array_equal(strip[::scale, : 8 * scale : scale], images[0, :, :, 0])
    np.testing.assert_array_equal(strip[::scale, 8 * scale + 2 : 16 * scale + 2 : scale], images[1, :, :, 0])


def test_launch_counts_from_the_real_bags():
    cfg = RunConfig(dataset="digits", target_class="5", pn_ratio=0.3, seed=2)
    bags = load_bags(cfg)
    n_pos, pool = int(bags.train.labels.sum()), int((bags.train.labels == 0).sum())
    counts = views.launch_counts(cfg)
    assert (counts.n_pos, counts.pool, counts.k) == (n_pos, pool, min(round(n_pos / 0.3), pool))
    assert counts.text == f"{n_pos:,} positive bags, {counts.k:,} of {pool:,} negatives per epoch"
    assert views.launch_counts(cfg.replace(sampler="full")).k == pool
    with pytest.raises(ConfigError, match="larger than the data allows"):
        views.launch_counts(cfg.replace(bag_size=400))
    ready, missing = views.dataset_choices()
    assert "digits" in ready and set(ready).isdisjoint(missing)
    assert set(views.models_for("digits")) == {"simple_cnn", "resnet18"}


def test_audio_bag_previews_give_the_clip_and_its_log_mel():
    from weakneg.models import MODELS

    model = next(name for name, spec in MODELS.items() if spec.modality == "audio")
    cfg = RunConfig(dataset="soundscapes", target_class=0, model=model, dataset_options={"n_train": 16, "n_test": 8})
    run = RunRecord(id=1, kind="run", status="finished", stored_status="finished", config=cfg.to_dict())
    bags = views.run_bags(run).train
    ids = bags.ids[:2]
    frame = pd.DataFrame(
        {
            "bag_id": ids,
            "kind": "negative",
            "x": 0.0,
            "y": 0.0,
            "selected": True,
            "pick": [1, 0],
            "score": [0.5, 0.7],
            "prob": 0.1,
            "times_selected": 1,
        }
    )
    view = views.EpochView(1, 1, "pca", frame, views.run_bags(run).class_names, bags.contents[:2])
    previews = views.bag_previews(run, view, list(ids))
    assert [p["bag_id"] for p in previews] == [ids[1], ids[0]]  # pick order
    samples, rate = bags.waveform(1)
    np.testing.assert_array_equal(previews[0]["waveform"], samples)
    assert previews[0]["sample_rate"] == rate == 16000 and previews[0]["name"] == str(bags.names[1])
    log_mel = bags.log_mel(1)  # (frames, mels)
    picture = previews[0]["log_mel"]
    assert picture.shape == (log_mel.shape[1], log_mel.shape[0]) and picture.dtype == np.uint8


def test_spectrogram_image_puts_low_frequencies_at_the_bottom():
    log_mel = np.zeros((100, 16), dtype=np.float32)  # (frames, mels)
    log_mel[:, 0] = 10.0  # loud lowest mel bin
    log_mel[50:, 15] = 10.0  # the highest bin, in the second half of the clip
    picture = views.spectrogram_image(log_mel)
    assert picture.shape == (16, 100)
    assert (picture[-1] == 255).all() and (picture[0, 50:] == 255).all() and (picture[0, :50] == 0).all()
    assert (picture[1:-1] == 0).all()
