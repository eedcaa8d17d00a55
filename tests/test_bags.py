"""Bag invariants: each instance used once, labels match contents, label density, determinism."""

import numpy as np
import pytest

from weakneg.config import RunConfig
from weakneg.data import load_bags, make_bags, split_off
from weakneg.errors import ConfigError


def labels_with(n=600, classes=10, seed=0):
    return np.random.default_rng(seed).integers(0, classes, n)


def test_each_instance_at_most_once_and_labels_match_instances():
    instance_labels = labels_with()
    layout = make_bags(instance_labels, target=3, bag_size=5, rng=np.random.default_rng(1))
    flat = layout.members.ravel()
    assert len(np.unique(flat)) == len(flat)
    has_target = (instance_labels[layout.members] == 3).any(axis=1)
    np.testing.assert_array_equal(layout.labels, has_target.astype(int))
    # every target instance lands in a positive bag
    assert set(np.flatnonzero(instance_labels == 3)) <= set(flat)


def test_label_density_covers_one_to_bag_size():
    layout = make_bags(labels_with(20000, classes=4), target=0, bag_size=5, rng=np.random.default_rng(2))
    labels = labels_with(20000, classes=4)
    counts = (labels[layout.members[layout.labels == 1]] == 0).sum(axis=1)
    assert set(np.unique(counts)) == {1, 2, 3, 4, 5}
    # uniform on 1..5: each count appears about a fifth of the time
    assert np.allclose(np.bincount(counts, minlength=6)[1:] / len(counts), 0.2, atol=0.04)


def test_bags_are_deterministic_from_the_seed_and_differ_across_seeds():
    a = load_bags(RunConfig(dataset="digits", target_class=3, seed=5))
    b = load_bags(RunConfig(dataset="digits", target_class=3, seed=5))
    c = load_bags(RunConfig(dataset="digits", target_class=3, seed=6))
    np.testing.assert_array_equal(a.train.members, b.train.members)
    np.testing.assert_array_equal(a.test.members, b.test.members)
    assert not np.array_equal(a.train.members, c.train.members)


def test_digits_bags_contents_are_the_true_classes():
    bags = load_bags(RunConfig(dataset="digits", target_class="7"))
    assert bags.target == 7 and bags.target_name == "7"
    train = bags.train
    assert train.contents.shape == (len(train), 10)
    assert (train.contents.sum(1) == 5).all()
    np.testing.assert_array_equal(train.labels, (train.contents[:, 7] > 0).astype(int))
    x = train.inputs(np.arange(4))
    assert tuple(x.shape) == (4, 5, 1, 8, 8)
    assert train.bag_images(0).shape == (5, 8, 8, 1)


def test_train_and_test_bags_use_separate_instances():
    bags = load_bags(RunConfig(dataset="digits", target_class=1))
    assert bags.train.images is not bags.test.images
    assert len(bags.train.images) + len(bags.test.images) == 1797


def test_validation_split_is_stratified_and_disjoint():
    bags = load_bags(RunConfig(dataset="digits", target_class=2, val_fraction=0.2))
    assert bags.val is not None and bags.val.labels.sum() > 0 and (bags.val.labels == 0).sum() > 0
    assert not set(bags.val.ids) & set(bags.train.ids)


def test_split_off_keeps_every_bag_once():
    bags = load_bags(RunConfig(dataset="digits", target_class=2)).train
    kept, held = split_off(bags, 0.25, seed=0)
    assert sorted(np.concatenate([kept.ids, held.ids])) == sorted(bags.ids)


def test_bag_size_too_large_is_refused():
    with pytest.raises(ConfigError, match="bag_size 900 is larger than the data allows"):
        load_bags(RunConfig(dataset="digits", target_class=3, bag_size=900))


def test_subsets_share_one_normalised_copy_of_the_images():
    bags = load_bags(RunConfig(dataset="digits", target_class=2, val_fraction=0.2))
    assert bags.val._pixels.data_ptr() == bags.train._pixels.data_ptr()  # split_off made no second copy
    assert bags.train.subset([0, 1])._pixels.data_ptr() == bags.train._pixels.data_ptr()


def test_loaded_image_sets_are_bounded_and_keyed_by_the_resolved_root(tmp_path):
    from weakneg import data

    data.forget_image_sets()
    (tmp_path / "a").mkdir()
    for spelling in (tmp_path / "a", tmp_path / "a" / ".", tmp_path / "a" / ".." / "a"):
        load_bags(RunConfig(dataset="digits", target_class=1, data_root=str(spelling)))
    assert len(data.loaded_image_sets()) == 1
    for i in range(5):
        (tmp_path / str(i)).mkdir()
        load_bags(RunConfig(dataset="digits", target_class=1, data_root=str(tmp_path / str(i))))
    assert len(data.loaded_image_sets()) == data.IMAGE_CACHE_SIZE
    assert data.loaded_image_sets()[-1] == ("digits", str((tmp_path / "4").resolve()))


def test_every_target_class_shares_one_normalised_copy():
    a = load_bags(RunConfig(dataset="digits", target_class=2))
    b = load_bags(RunConfig(dataset="digits", target_class=7, bag_size=3))
    assert a.train._pixels.data_ptr() == b.train._pixels.data_ptr()
    assert a.test._pixels.data_ptr() == b.test._pixels.data_ptr()
    capped = load_bags(RunConfig(dataset="digits", target_class=2, max_instances=500))
    assert capped.train._pixels.shape[0] == 500 and capped.train._pixels.data_ptr() != a.train._pixels.data_ptr()
    by_hand = (b.train.images[b.train.members[0]] / 255.0 - b.train.mean) / b.train.std  # (3, 8, 8, 1)
    np.testing.assert_allclose(
        b.train.inputs(np.arange(1))[0].numpy(), by_hand.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5
    )
