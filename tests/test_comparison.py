"""comparison.py on a small store built by hand: every number below is computed by hand in the comments."""

import math

import pytest

from weakneg_core import comparison
from weakneg_core.config import RunConfig
from weakneg_core.store import FAILED, FINISHED

# (class, sampler, seed) -> final AP, AUC; one epoch each
RESULTS = {
    (0, "random", 0): (0.50, 0.60), (0, "random", 1): (0.60, 0.70),
    (0, "badge", 0): (0.70, 0.65), (0, "badge", 1): (0.50, 0.75),   # deltas AP +0.2, -0.1 -> mean +0.05: win
    (1, "random", 0): (0.80, 0.90), (1, "random", 1): (0.80, 0.80),
    (1, "badge", 0): (0.70, 0.95), (1, "badge", 1): (0.85, 0.85),   # deltas AP -0.1, +0.05 -> mean -0.025: loss
}


def _add(store, cls, sampler, seed, ap, auc, t_score=1.0, t_select=0.5, status=FINISHED, sweep="s1", **changes):
    cfg = RunConfig(target_class=cls, sampler=sampler, seed=seed, epochs=2, **changes)
    run_id = store.create_run(cfg.to_dict(), sweep_id=sweep)
    store.start_run(run_id, target_class=cls, target_name=f"digit {cls}")
    for epoch in (1, 2):  # the final epoch's metrics are the run's
        store.add_epoch(run_id, epoch, {"ap": ap if epoch == 2 else 0.0, "auc": auc if epoch == 2 else 0.0,
                                        "dprime": 1.0, "t_score": t_score, "t_select": t_select, "t_train": 2.0,
                                        "t_eval": 0.25})
    store.finish_run(run_id, status)
    return run_id


@pytest.fixture
def filled(store):
    for (cls, sampler, seed), (ap, auc) in RESULTS.items():
        _add(store, cls, sampler, seed, ap, auc, t_select=0.5 if sampler == "random" else 1.5)
    _add(store, 0, "badge", 2, 0.99, 0.99, status=FAILED)  # failed runs never count
    _add(store, 0, "badge", 0, 0.99, 0.99, pn_ratio=0.25)  # another setting: no random partner
    _add(store, 5, "random", 0, 0.1, 0.1, sweep="other")
    return store


def test_runs_frame_filters_and_sums_timings(filled):
    frame = comparison.runs_frame(filled, sweep_id="s1")
    assert len(frame) == 9  # 8 + the pn_ratio 0.25 run; the failed one and the other sweep left out
    row = frame[(frame.sampler == "badge") & (frame.seed == 0) & (frame.pn_ratio == 0.5) & (frame.target_class == 0)]
    assert row.iloc[0]["t_select"] == pytest.approx(3.0)  # 1.5 + 1.5 over two epochs
    assert row.iloc[0]["t_train"] == pytest.approx(4.0)
    assert row.iloc[0]["ap"] == pytest.approx(0.70) and row.iloc[0]["epochs_done"] == 2
    assert row.iloc[0]["target_name"] == "digit 0" and row.iloc[0]["duration"] >= 0
    assert set(comparison.runs_frame(filled, classes=["digit 1"]).target_class) == {1}
    assert set(comparison.runs_frame(filled, classes=[5]).sweep_id) == {"other"}
    some = frame.id.tolist()[:2]
    assert comparison.runs_frame(filled, run_ids=some).id.tolist() == some
    assert comparison.runs_frame(filled, run_ids=[]).empty
    assert comparison.runs_frame(filled, dataset="cifar10").empty


def test_per_class_mean_and_std_over_seeds(filled):
    table = comparison.per_class(comparison.runs_frame(filled, sweep_id="s1"))
    badge0 = table[(table.sampler == "badge") & (table.target_class == 0) & (table.pn_ratio == 0.5)].iloc[0]
    assert badge0.ap_mean == pytest.approx(0.60) and badge0.n_seeds == 2
    assert badge0.ap_std == pytest.approx(math.sqrt(2 * 0.1 ** 2))  # sample std of 0.7, 0.5
    assert badge0.auc_mean == pytest.approx(0.70)
    lone = table[table.pn_ratio == 0.25].iloc[0]
    assert lone.n_seeds == 1 and math.isnan(lone.ap_std)


def test_delta_wins_cost_and_table1(filled):
    frame = comparison.runs_frame(filled, sweep_id="s1")
    delta = comparison.delta_vs_random(frame)
    assert len(delta) == 4  # badge x 2 classes x 2 seeds; the pn_ratio 0.25 run has no random partner
    by = {(r.target_class, r.seed): r for r in delta.itertuples()}
    assert by[(0, 0)].delta_ap == pytest.approx(0.2) and by[(0, 1)].delta_ap == pytest.approx(-0.1)
    assert by[(1, 0)].delta_auc == pytest.approx(0.05) and by[(1, 1)].delta_auc == pytest.approx(0.05)

    won = comparison.wins(delta).set_index("sampler")
    assert won.at["badge", "improved_ap"] == 1 and won.at["badge", "classes"] == 2
    assert won.at["badge", "improved_auc"] == 2  # class 0 AUC: +0.05, +0.05; class 1: +0.05, +0.05 -> both win
    assert won.at["badge", "mean_delta_ap"] == pytest.approx((0.05 - 0.025) / 2)
    assert won.at["badge", "summary"] == "improved AP in 1 of 2 classes"

    costs = comparison.cost(frame).set_index("sampler")
    assert costs.at["random", "select_per_epoch_s"] == pytest.approx(1.5)  # (2 + 1) / 2 epochs
    # four badge runs at (2 + 3) / 2 = 2.5 s, the pn_ratio 0.25 one at (2 + 1) / 2 = 1.5 s
    assert costs.at["badge", "select_per_epoch_s"] == pytest.approx((4 * 2.5 + 1.5) / 5)
    assert costs.at["badge", "select_vs_random"] == pytest.approx(2.3 / 1.5)
    assert costs.at["badge", "runs"] == 5

    table = comparison.table1(frame[frame.pn_ratio == 0.5]).set_index("sampler")
    assert table.at["random", "mAP"] == pytest.approx((0.55 + 0.80) / 2)
    assert table.at["badge", "mAP"] == pytest.approx((0.60 + 0.775) / 2)
    assert table.at["badge", "improved"] == "1/2" and table.at["random", "improved"] == "-"


def test_empty_frames_keep_their_columns(store):
    frame = comparison.runs_frame(store)
    assert frame.empty and "ap" in frame.columns
    assert "ap_mean" in comparison.per_class(frame).columns
    assert comparison.wins(comparison.delta_vs_random(frame)).empty
    assert comparison.table1(frame).empty and comparison.cost(frame).empty
