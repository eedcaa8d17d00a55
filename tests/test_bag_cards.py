"""Bag cards read what the run saved: the bag membership of its epoch-0 arrays (only the shown bags' own files are
read, no data set is built) and each epoch's per-instance evidence, with the driving instance marked."""

import dataclasses
import pickle

import numpy as np
import pytest

from idx_support import write_fashion_root
from test_user_images_audio import write_clips, write_image_bags
from weakneg import data as data_module, views
from weakneg.config import RunConfig
from weakneg.data import load_bags, loaded_image_sets
from weakneg.data.thumbnails import cifar10_rows, idx_rows
from weakneg.data.user import user_data_options
from weakneg.train import run_experiment


def refuse_building(monkeypatch, dataset):
    """Building this data set's bags raises: a card that rebuilds anything fails the test."""

    def build(*args, **kwargs):
        raise AssertionError(f"{dataset} was built in a page request")

    spec = data_module.DATASETS[dataset]
    monkeypatch.setitem(data_module.DATASETS, dataset, dataclasses.replace(spec, build=build))


def cards(store, run_id, bag_ids, epoch=1):
    run = store.get_run(run_id)
    view = views.epoch_view(store, run_id, epoch)
    membership = views.membership_of(store, run_id)
    evidence = views.evidence_of(store, run_id, epoch)
    return views.bag_previews(run, view, bag_ids, membership=membership, evidence=evidence), view


def test_a_digits_card_reads_the_saved_membership_and_builds_nothing(store, monkeypatch):
    cfg = RunConfig(
        dataset="digits", target_class=4, sampler="entropy", epochs=1, max_instances=500, seed=7, head="attention"
    )
    expected = load_bags(cfg).train  # the reference, built before building is refused
    result = run_experiment(cfg, store)
    data_module.forget_image_sets()
    refuse_building(monkeypatch, "digits")
    view = views.epoch_view(store, result.run_id, 1)
    chosen = view.pool[view.pool["selected"]].sort_values("pick")
    picked = chosen["bag_id"].head(3).tolist() + [int(view.frame["bag_id"].iloc[-1])]  # 3 picks and a positive
    previews, _ = cards(store, result.run_id, picked)
    assert [p["bag_id"] for p in previews] == picked and not any(p["rebuilt"] for p in previews)
    assert loaded_image_sets() == []  # no image set loaded (or cached) by the cards
    for preview in previews:
        position = int(np.flatnonzero(expected.ids == preview["bag_id"])[0])
        images = expected.bag_images(position)  # (5, 8, 8, 1): max_instances keeps rows 0..499 of a shuffle
        instances = preview["instances"]
        assert len(instances) == len(images) and instances["drives"].sum() == 1
        driver = int(np.flatnonzero(instances["drives"])[0])
        strip = preview["image"]  # RGB, 9x scale, a 6-pixel band under the thumbnails
        scale, tile = 72 // 8, 72 + 2
        assert strip.shape == (72 + 6, 5 * 72 + 4 * 2, 3)
        for i, image in enumerate(images):
            np.testing.assert_array_equal(strip[:72:scale, i * tile : i * tile + 72 : scale, 0], image[:, :, 0])
            band = strip[-1, i * tile + 36]
            assert tuple(band) == (views.bag_cards.DRIVER_COLOUR if i == driver else (255, 255, 255))


def test_a_card_of_a_run_saved_before_membership_rebuilds_and_says_so(store, monkeypatch):
    cfg = RunConfig(dataset="digits", target_class=2, sampler="random", epochs=1, max_instances=400, seed=8)
    result = run_experiment(cfg, store)
    arrays = store.load_epoch_arrays(result.run_id, 0)
    old = {k: v for k, v in arrays.items() if k not in ("members", "instance_sources")}  # as saved before
    store.save_epoch_arrays(result.run_id, 0, **old)
    assert views.membership_of(store, result.run_id) is None
    view = views.epoch_view(store, result.run_id, 1)
    bag = int(view.pool["bag_id"].iloc[0])
    with monkeypatch.context() as patch:
        refuse_building(patch, "digits")
        with pytest.raises(AssertionError, match="built in a page request"):  # the fallback rebuilds the bags
            cards(store, result.run_id, [bag])
    previews, _ = cards(store, result.run_id, [bag])
    expected = load_bags(cfg).train
    images = expected.bag_images(int(np.flatnonzero(expected.ids == bag)[0]))
    assert previews[0]["rebuilt"] and previews[0]["image"].shape[:2] == (72 + 6, 5 * 72 + 8)
    np.testing.assert_array_equal(previews[0]["image"][:72:9, :72:9, 0], images[0, :, :, 0])


def test_user_image_bags_card_reads_only_the_shown_files(store, tmp_path, monkeypatch):
    path, frame, pixels = write_image_bags(tmp_path)
    dataset, options = user_data_options(path, options={"image_size": 16})
    cfg = RunConfig(dataset=dataset, target_class=0, sampler="grad_norm", epochs=1, dataset_options=options)
    result = run_experiment(cfg, store)
    refuse_building(monkeypatch, dataset)
    view = views.epoch_view(store, result.run_id, 1)
    bag = int(view.pool.sort_values("pick")["bag_id"].iloc[-1])
    opened = []
    from PIL import Image

    original = Image.open
    monkeypatch.setattr(Image, "open", lambda file, *a, **k: opened.append(str(file)) or original(file, *a, **k))
    previews, _ = cards(store, result.run_id, [bag])
    names = frame[frame.bag_id == f"slide{bag}"].path.tolist()
    assert sorted(opened) == sorted(str((tmp_path / n).resolve()) for n in names)  # the bag's files, nothing else
    strip = previews[0]["image"]
    for i, name in enumerate(names):  # 16-pixel images at 4x
        np.testing.assert_array_equal(strip[:64:4, i * 66 : i * 66 + 64 : 4], pixels[name])


def test_an_audio_card_plays_the_saved_clip_without_building(store, tmp_path, monkeypatch):
    path = write_clips(tmp_path)
    dataset, options = user_data_options(path)
    cfg = RunConfig(
        dataset=dataset,
        model="audio_cnn",
        target_class="dog",
        sampler="random",
        epochs=1,
        dataset_options=options,
        head="attention",
    )
    built = load_bags(cfg).train
    result = run_experiment(cfg, store)
    refuse_building(monkeypatch, dataset)
    view = views.epoch_view(store, result.run_id, 1)
    bag = int(view.pool["bag_id"].iloc[0])
    previews, _ = cards(store, result.run_id, [bag])
    position = int(np.flatnonzero(built.ids == bag)[0])
    samples, rate = built.waveform(position)
    np.testing.assert_array_equal(previews[0]["waveform"], samples)
    assert previews[0]["sample_rate"] == rate == 16000 and previews[0]["name"] == str(built.names[position])
    assert previews[0]["log_mel"].shape == built.log_mel(position).shape[::-1]
    assert len(previews[0]["instances"]) == 66 and "attention" in previews[0]["instances"]  # one per 160 ms


def test_image_rows_are_read_from_the_data_sets_own_files(tmp_path):
    root = write_fashion_root(tmp_path)
    from weakneg.data.images import load_fashion_mnist

    everything = load_fashion_mnist(root, {}).train_images
    rows = np.array([399, 3, 17, 3])
    np.testing.assert_array_equal(
        idx_rows(root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz", rows), everything[rows, :, :, 0]
    )
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batches = np.random.default_rng(0).integers(0, 256, (2, 10_000, 3 * 32 * 32), dtype=np.uint8)
    for i, batch in enumerate(batches):
        with open(folder / f"data_batch_{i + 1}", "wb") as handle:
            pickle.dump({b"data": batch, b"labels": [0] * 10_000}, handle)
    rows = np.array([10_005, 2, 19_999])
    got = cifar10_rows(tmp_path, {}, rows)
    flat = batches.reshape(20_000, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(got, flat[rows])
    # no rows asked for: an empty batch of the same shape, not None (found by mypy; None reads as "no images")
    empty = cifar10_rows(tmp_path, {}, np.zeros(0, dtype=np.int64))
    assert empty.shape == (0,) + got.shape[1:] and empty.dtype == got.dtype


def test_what_the_chosen_negatives_contain_on_a_users_table(store, tmp_path):
    """A 0/1 table: every negative carries no class, and the chart says so (it was empty); a bag table with one 0/1
    column per class: each bag's labels, and the bags with none, shared as counted by hand from the files written."""
    from test_user_table import instance_frame
    import pandas as pd

    frame = instance_frame()
    frame.to_csv(tmp_path / "bags.csv", index=False)
    dataset, options = user_data_options(tmp_path / "bags.csv")
    result = run_experiment(
        RunConfig(
            dataset=dataset,
            target_class="positive",
            sampler="entropy",
            epochs=1,
            model="mlp",
            dataset_options=options,
            pn_ratio=1.0,
        ),
        store,
    )
    table = views.class_composition(views.epoch_view(store, result.run_id, 1)).set_index("class")
    assert table.index.tolist() == ["no class"]
    assert table.loc["no class", "selected"] == 1 and table.loc["no class", "pool"] == 1

    names = sorted(set(frame.bag_id))
    bags = pd.DataFrame(
        {
            "bag_id": names,
            "cat": [int(i % 3 == 0) for i in range(len(names))],
            "dog": [int(i % 2 == 0) for i in range(len(names))],
        }
    )
    bags.to_csv(tmp_path / "labels.csv", index=False)
    frame.drop(columns="label").to_csv(tmp_path / "instances.csv", index=False)
    dataset, options = user_data_options(tmp_path / "instances.csv", options={"bags": "labels.csv"})
    result = run_experiment(
        RunConfig(
            dataset=dataset,
            target_class="cat",
            sampler="entropy",
            epochs=1,
            model="mlp",
            dataset_options=options,
            pn_ratio=1.0,
        ),
        store,
    )
    view = views.epoch_view(store, result.run_id, 1)
    table = views.class_composition(view).set_index("class")
    by_name = bags.set_index("bag_id")
    pool = view.pool
    dog = np.array([by_name.loc[names[b], "dog"] for b in pool["bag_id"]])  # bag ids are positions in file order
    chosen = pool["selected"].to_numpy()
    assert set(table.index) == {"dog", "no class"} and dog.any() and (~dog.astype(bool)).any()
    assert table.loc["dog", "pool"] == pytest.approx(dog.mean())  # one label per bag here: shares of bags
    assert table.loc["dog", "selected"] == pytest.approx(dog[chosen].mean())
    assert table.loc["no class", "selected"] == pytest.approx(1 - dog[chosen].mean())
    row = int(
        np.flatnonzero(
            (view.frame["kind"] == "negative").to_numpy()
            & ~np.isin(view.frame["bag_id"], [b for b in range(len(names)) if by_name.loc[names[b], "dog"]])
        )[0]
    )
    assert view.describe([row]) == ["no class"]


def test_the_inspect_page_opens_a_linked_bag_card_without_building_the_data(store, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from test_app_pages import APP

    cfg = RunConfig(
        dataset="digits", target_class=6, sampler="badge", epochs=1, max_instances=300, seed=9, head="attention"
    )
    result = run_experiment(cfg, store)
    view = views.epoch_view(store, result.run_id, 1)
    bag = int(view.pool[view.pool["selected"]].sort_values("pick")["bag_id"].iloc[0])
    evidence = views.evidence_of(store, result.run_id, 1).instances(bag)
    driver = evidence[evidence["drives"]].iloc[0]
    monkeypatch.setenv("WEAKNEG_STORE", store.url)
    monkeypatch.setenv("WEAKNEG_ARTIFACTS", str(store.artifacts_root))
    data_module.forget_image_sets()
    refuse_building(monkeypatch, "digits")
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page("app_pages/inspect.py")
    app.query_params.update({"run": str(result.run_id), "epoch": "1", "bag": str(bag)})
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    captions = [c.value for c in app.caption]
    assert f"Bag {bag}" in [s.value for s in app.subheader]
    assert (
        f"driving instance: #{int(driver['instance'])} of 5 (p(positive) {driver['p_positive']:.3f}, "
        f"attention {driver['attention']:.2f})"
    ) in captions
    assert any(c.startswith("Highlighted: the instance with the largest attention × log-odds") for c in captions)
    assert not any("rebuilt" in c for c in captions) and loaded_image_sets() == []


def test_a_card_whose_files_are_gone_says_so(store, tmp_path):
    path, frame, _ = write_image_bags(tmp_path)
    dataset, options = user_data_options(path, options={"image_size": 16})
    result = run_experiment(
        RunConfig(dataset=dataset, target_class=0, sampler="random", epochs=1, dataset_options=options), store
    )
    view = views.epoch_view(store, result.run_id, 1)
    bag = int(view.pool["bag_id"].iloc[0])
    (tmp_path / frame[frame.bag_id == f"slide{bag}"].path.iloc[0]).unlink()
    previews, _ = cards(store, result.run_id, [bag])
    assert (
        "image" not in previews[0] and "1 of" in previews[0]["unreadable"] and "(missing)" in previews[0]["unreadable"]
    )
    assert len(previews[0]["instances"]) == len(frame[frame.bag_id == f"slide{bag}"])  # the evidence still shows


def test_fashion_mnist_cards_read_the_images_file_once_for_all_cards(store, tmp_path, monkeypatch):
    root = write_fashion_root(tmp_path / "data")
    cfg = RunConfig(
        dataset="fashion_mnist",
        data_root=str(root),
        target_class=0,
        sampler="entropy",
        epochs=1,
        max_instances=300,
        seed=3,
    )
    expected = load_bags(cfg).train
    result = run_experiment(cfg, store)
    data_module.forget_image_sets()
    refuse_building(monkeypatch, "fashion_mnist")
    import gzip

    from weakneg.data import thumbnails

    opened, original = [], gzip.open
    monkeypatch.setattr(thumbnails.gzip, "open", lambda path, *a, **k: opened.append(path) or original(path, *a, **k))
    view = views.epoch_view(store, result.run_id, 1)
    bags = view.pool["bag_id"].head(6).tolist()
    previews, _ = cards(store, result.run_id, bags)
    assert len(previews) == 6 and len(opened) == 1 and loaded_image_sets() == []
    for preview in previews:
        images = expected.bag_images(int(np.flatnonzero(expected.ids == preview["bag_id"])[0]))  # (5, 28, 28, 1)
        for i, image in enumerate(images):  # 28-pixel images at 2x, a 2-pixel gap
            np.testing.assert_array_equal(preview["image"][:56:2, i * 58 : i * 58 + 56 : 2, 0], image[:, :, 0])
