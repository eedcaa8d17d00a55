"""Multi-label stratification (data/stratify.py): the positives each side asks of a class, worked by hand; exact
side sizes; and the test folds of a user's multi-label table without a split of its own, which share out every
class (a run of any classes on the table tests on the same bags) where a binary run's folds follow its class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weakneg.config import RunConfig
from weakneg.data import load_bags
from weakneg.data.natural import fold_of_bags
from weakneg.data.stratify import class_asks, stratified_sides
from weakneg.data.user import user_data_options


def test_each_side_asks_its_share_by_largest_remainder_and_one_of_a_class_that_has_enough():
    asks = class_asks(np.array([2, 100, 1, 7, 3]), np.array([20.0, 180.0]))
    # 2 bags at 10%: quotas 0.2 / 1.8 give 0 / 2, then one each; 100: 10 / 90; a single bag trains; 7: 0.7 -> 1
    np.testing.assert_array_equal(asks, [[1, 10, 0, 1, 1], [1, 90, 1, 6, 2]])
    folds = class_asks(np.array([5, 4, 12]), np.array([3.0, 3.0, 3.0, 3.0, 2.0]))
    # 5 bags over folds of 3,3,3,3,2 (of 14): quotas 1.07 x4 and 0.71 -> 1 each; 4 bags: 0.86 x4, 0.57 -> the
    # four largest remainders; 12: 2.57 x4, 1.71 -> 2,2,2,2,1 and the three largest remainders (0.71, then the
    # first two 0.57s) get one more
    np.testing.assert_array_equal(folds, [[1, 1, 3], [1, 1, 3], [1, 1, 2], [1, 1, 2], [1, 0, 2]])
    assert (folds.sum(0) == [5, 4, 12]).all()


def test_sides_have_exactly_their_sizes_and_the_same_seed_gives_the_same_sides():
    carries = np.random.default_rng(0).random((101, 6)) < [0.02, 0.05, 0.2, 0.4, 0.6, 0.9]
    sides = stratified_sides(carries, [21, 20, 20, 20, 20], seed=3)
    assert np.bincount(sides).tolist() == [21, 20, 20, 20, 20]
    np.testing.assert_array_equal(sides, stratified_sides(carries, [21, 20, 20, 20, 20], seed=3))
    assert not np.array_equal(sides, stratified_sides(carries, [21, 20, 20, 20, 20], seed=4))
    with pytest.raises(ValueError, match="do not add up to the 101 bags"):
        stratified_sides(carries, [50, 50], seed=0)


CLASSES = ["bird", "car", "dog", "rain"]
FREQUENCY = [0.5, 0.3, 0.12, 0.04]  # rain: 8 of 200 bags


@pytest.fixture(scope="module")
def unsplit_table(tmp_path_factory):
    """A user's instance table of 200 bags with label lists and no split column: `folds` decides the test bags."""
    rng = np.random.default_rng(11)
    carried = rng.random((200, 4)) < FREQUENCY
    rows = []
    for b, row in enumerate(carried):
        label = ";".join(c for c, on in zip(CLASSES, row) if on)
        for _ in range(2):
            rows.append({"bag_id": f"b{b}", "f1": rng.normal(), "f2": rng.normal() + row.sum(), "label": label})
    path = tmp_path_factory.mktemp("unsplit") / "bags.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return user_data_options(path), carried


def test_a_multilabel_tables_test_fold_shares_out_every_class(unsplit_table):
    (dataset, options), carried = unsplit_table
    data = load_bags(RunConfig(dataset=dataset, target_class="all", dataset_options=options))
    assert len(data.test) == 40  # fold 0 of 5
    positives = carried.sum(0)
    on_test = (np.asarray(data.test.contents) > 0).sum(0)
    assert (np.abs(on_test - positives / 5) <= 1).all(), (on_test, positives / 5)  # every class, rain included
    one_class = load_bags(RunConfig(dataset=dataset, target_class="rain,", dataset_options=options))
    np.testing.assert_array_equal(one_class.test.ids, data.test.ids)  # whichever classes a run trains
    for fold in range(5):  # every fold, not only the one this run tests on
        in_fold = fold_of_bags(carried, 5, 0) == fold
        assert (np.abs(carried[in_fold].sum(0) - positives / 5) <= 1).all()


def test_a_binary_run_on_the_table_keeps_folds_stratified_by_its_own_class(unsplit_table):
    (dataset, options), carried = unsplit_table
    binary = load_bags(RunConfig(dataset=dataset, target_class="rain", dataset_options=options))
    expected = np.flatnonzero(fold_of_bags(carried[:, 3].astype(np.int64), 5, 0) == 0)
    np.testing.assert_array_equal(np.sort(binary.test.ids), expected)
    assert int(binary.test.labels.sum()) in (1, 2)  # 8 rain bags over 5 folds, round robin
