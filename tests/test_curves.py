"""curves.py on hand-built runs: means and bands per epoch, early-stopped runs counted up to their last epoch, and
the epoch at which each sampler reaches 95% of full's final AP."""

import math

import pytest

from weakneg import comparison, curves

from compare_support import record


@pytest.fixture
def runs(store):
    record(store, "random", 0, 0, 0.50, curve=[0.30, 0.40], epochs=3)
    record(store, "random", 0, 1, 0.60, curve=[0.40, 0.50], epochs=3)
    record(store, "badge", 0, 0, 0.70, curve=[0.50], epochs=3)  # stopped early after 2 of 3 epochs
    record(store, "badge", 0, 1, 0.75, curve=[0.60, 0.72], epochs=3)
    record(store, "full", 0, 0, 0.80, curve=[0.70, 0.78], epochs=3)
    return curves.epoch_frame(store, comparison.runs_frame(store))


def test_mean_band_and_counts_per_epoch(runs):
    table = curves.curves(runs, "ap").set_index(["sampler", "epoch"])
    random2 = table.loc[("random", 2)]
    assert random2["mean"] == pytest.approx(0.45) and random2["runs"] == 2
    assert random2["sd"] == pytest.approx(math.sqrt(0.005))  # sample SD of 0.40, 0.50
    assert random2["low"] == pytest.approx(0.45 - math.sqrt(0.005))
    badge = "badge(label=predicted)"
    assert table.loc[(badge, 2), "mean"] == pytest.approx((0.70 + 0.72) / 2) and table.loc[(badge, 2), "runs"] == 2
    assert table.loc[(badge, 3), "mean"] == pytest.approx(0.75) and table.loc[(badge, 3), "runs"] == 1
    assert table.loc[(badge, 3), "low"] == table.loc[(badge, 3), "high"] == pytest.approx(0.75)  # one run: no band
    loss = curves.curves(runs, "train_loss").set_index(["sampler", "epoch"])
    assert loss.loc[("random", 2), "mean"] == pytest.approx(0.5)  # recorded as 1 / epoch


def test_time_to_full(runs):
    reach = curves.time_to_full(runs).set_index("sampler")
    # full's final AP 0.80 -> target 0.76; badge's mean curve 0.55, 0.71, 0.75: never; full: 0.70, 0.78 -> epoch 2
    assert reach.loc["full", "first_epoch"] == 2 and reach.loc["full", "target_ap"] == pytest.approx(0.76)
    assert math.isnan(reach.loc["badge(label=predicted)", "first_epoch"])
    assert curves.time_to_full(runs[runs["sampler"] != "full"]).empty
