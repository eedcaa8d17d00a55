"""comparison.py on small stores built by hand: identity, settings, pairing, per-class means, Table 1 and cost;
every expected number is computed by hand in the comments."""

import json
import math

import pytest

from weakneg import comparison
from weakneg.config import RunConfig
from weakneg.store import FAILED, FINISHED, RunRecord

from compare_support import record

# (class, sampler, seed) -> final AP, AUC
RESULTS = {
    (0, "random", 0): (0.50, 0.60),
    (0, "random", 1): (0.60, 0.70),
    (0, "badge", 0): (0.70, 0.65),
    (0, "badge", 1): (0.50, 0.75),  # deltas AP +0.2, -0.1
    (1, "random", 0): (0.80, 0.90),
    (1, "random", 1): (0.80, 0.80),
    (1, "badge", 0): (0.70, 0.95),
    (1, "badge", 1): (0.85, 0.85),  # deltas AP -0.1, +0.05
}


def _add(store, cls, sampler, seed, ap, auc, t_score=1.0, t_select=0.5, status=FINISHED, sweep="s1", **changes):
    cfg = RunConfig(target_class=cls, sampler=sampler, seed=seed, epochs=2, **changes)
    run_id = store.create_run(cfg.to_dict(), sweep_id=sweep)
    store.start_run(run_id, target_class=cls, target_name=f"digit {cls}", device="cpu")
    for epoch in (1, 2):  # the final epoch's metrics are the run's
        store.add_epoch(
            run_id,
            epoch,
            {
                "ap": ap if epoch == 2 else 0.0,
                "auc": auc if epoch == 2 else 0.0,
                "dprime": 1.0,
                "t_score": t_score,
                "t_select": t_select,
                "t_train": 2.0,
                "t_eval": 0.25,
            },
        )
    store.finish_run(run_id, status)
    return run_id


@pytest.fixture
def filled(store):
    for (cls, sampler, seed), (ap, auc) in RESULTS.items():
        _add(
            store,
            cls,
            sampler,
            seed,
            ap,
            auc,
            t_score=0.0 if sampler == "random" else 1.0,
            t_select=0.5 if sampler == "random" else 1.5,
        )
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
    assert row.iloc[0]["sampler_id"] == "badge(label=predicted)" and row.iloc[0]["device"] == "cpu"
    assert set(frame["setting"]) == {"digits (pn_ratio=0.5)", "digits (pn_ratio=0.25)"}
    assert set(comparison.runs_frame(filled, classes=["digit 1"]).target_class) == {1}
    assert set(comparison.runs_frame(filled, classes=[5]).sweep_id) == {"other"}
    some = frame.id.tolist()[:2]
    assert comparison.runs_frame(filled, run_ids=some).id.tolist() == some
    assert comparison.runs_frame(filled, run_ids=[]).empty
    assert comparison.runs_frame(filled, dataset="cifar10").empty


def test_identity_keeps_what_changes_results_and_drops_what_cannot():
    def run(config, device):
        return RunRecord(id=1, kind="run", status=FINISHED, stored_status=FINISHED, config=config, device=device)

    base = run(RunConfig(bag_size=5, device="auto", data_root="/a", save_embeddings="all").to_dict(), "cuda")
    ident = comparison.identity(base)
    assert ident["device"] == "cuda"  # the device the run used, not 'auto'
    assert ident["bag_size"] == 5 and ident["lr"] == 1e-3 and ident["max_instances"] == 0
    for gone in ("data_root", "save_embeddings", "sampler", "sampler_params", "seed", "target_class"):
        assert gone not in ident
    moved = run({**base.config, "data_root": "/b", "save_embeddings": "none", "seed": 4}, "cuda")
    assert comparison.identity(moved) == ident
    assert comparison.identity(run(base.config, None))["device"] == "auto"  # never recorded
    assert comparison.identity(run({**base.config, "augment": True}, "cuda")) != ident
    assert comparison.NOT_RESULTS == ("data_root", "save_embeddings")


def test_sampler_identity_fills_defaults():
    assert comparison.sampler_id("badge", {}) == "badge(label=predicted)"
    assert comparison.sampler_id("badge", {"label": "predicted"}) == "badge(label=predicted)"
    assert comparison.sampler_id("badge", {"label": "known"}) == "badge(label=known)"
    assert comparison.sampler_id("random", {}) == "random"
    assert comparison.sampler_id("gone_sampler", {"x": 1}) == "gone_sampler(x=1)"


def test_settings_notice_names_what_differs(store):
    record(store, "random", 0, 0, 0.5, bag_size=5)
    record(store, "random", 0, 0, 0.5, bag_size=10)
    record(store, "random", 0, 0, 0.5, bag_size=10, lr=0.0001)
    frame = comparison.runs_frame(store)
    assert comparison.settings_notice(frame) == (
        "3 settings among these runs: bag_size 10 vs 5; lr 0.0001 vs 0.001."
        " Runs of different settings are never averaged or paired."
    )
    assert comparison.settings_notice(frame[frame.setting_key == frame.setting_key[0]]) is None
    assert len({json.loads(k)["bag_size"] for k in frame.setting_key}) == 2


def test_paired_deltas_and_unpaired_runs(filled):
    frame = comparison.runs_frame(filled, sweep_id="s1")
    delta = comparison.paired_deltas(frame, "ap")
    assert len(delta) == 4  # badge x 2 classes x 2 seeds; the pn_ratio 0.25 run has no random partner
    by = {(r.target_class, r.seed): r.delta for r in delta.itertuples()}
    assert by[(0, 0)] == pytest.approx(0.2) and by[(0, 1)] == pytest.approx(-0.1)
    assert comparison.paired_deltas(frame, "auc")["delta"].tolist() == pytest.approx([0.05] * 4)
    lone = frame.loc[frame.pn_ratio == 0.25, "id"].tolist()
    assert comparison.unpaired_runs(frame) == lone


def test_per_class_means_and_t_intervals(filled):
    table = comparison.per_class(comparison.runs_frame(filled, sweep_id="s1"))
    badge0 = table[
        (table.sampler == "badge(label=predicted)")
        & (table.target_class == 0)
        & (table.setting == "digits (pn_ratio=0.5)")
    ].iloc[0]
    assert badge0.ap_mean == pytest.approx(0.60) and badge0.n_seeds == 2
    assert badge0.ap_std == pytest.approx(math.sqrt(2 * 0.1**2))  # sample std of 0.7, 0.5
    # t interval: 0.6 +- t_{0.975,1} * 0.1414 / sqrt(2) = 0.6 +- 12.7062 * 0.1
    assert badge0.ap_ci_high - 0.6 == pytest.approx(1.270620, rel=1e-5)
    lone = table[table.setting == "digits (pn_ratio=0.25)"].iloc[0]
    assert lone.n_seeds == 1 and math.isnan(lone.ap_std) and math.isnan(lone.ap_ci_low)


def test_table1_cells(filled):
    frame = comparison.runs_frame(filled, sweep_id="s1")
    table = comparison.table1(frame[frame.pn_ratio == 0.5]).set_index("sampler")
    assert list(table.columns) == ["setting", "digit 0 AP", "digit 0 AUC", "digit 1 AP", "digit 1 AUC"]
    assert table.at["random", "digit 1 AP"] == "0.800 ± 0.000"  # 0.8 and 0.8
    # 0.55 +- 12.7062 * 0.0707 / 1.4142 = 0.55 +- 0.635
    assert table.at["random", "digit 0 AP"] == "0.550 ± 0.635"
    lone = comparison.table1(frame[frame.pn_ratio == 0.25])
    assert lone.iloc[0]["digit 0 AP"] == "0.990"  # one seed: the mean alone


def test_cost_pairs_timings_and_keeps_maps_apart(filled):
    frame = comparison.runs_frame(filled, sweep_id="s1")
    costs = comparison.cost(frame[frame.pn_ratio == 0.5]).set_index("sampler")
    # random: score 0, select 0.5, train 2, eval 0.25 per epoch -> 2.75; badge: 1 + 1.5 + 2 + 0.25 = 4.75
    assert costs.at["random", "scoring s/epoch"] == pytest.approx(0.0)
    assert costs.at["random", "total s/epoch"] == pytest.approx(2.75)
    assert costs.at["badge(label=predicted)", "total s/epoch"] == pytest.approx(4.75)
    assert costs.at["badge(label=predicted)", "extra s/epoch vs random"] == pytest.approx(2.0)
    assert costs.at["badge(label=predicted)", "paired runs"] == 4
    assert costs.at["random", "extra s/epoch vs random"] == 0.0
    _add(filled, 0, "random", 0, 0.5, 0.5, t_score=9.0, save_embeddings="none")  # maps not saved: apart
    mixed = comparison.cost(comparison.runs_frame(filled, sweep_id="s1"))
    assert set(mixed["maps saved"]) == {"all", "none"}
    kept = mixed.set_index(["maps saved", "sampler"])
    assert kept.at[("all", "badge(label=predicted)"), "extra s/epoch vs random"] == pytest.approx(2.0)
    assert math.isnan(kept.at[("none", "random"), "extra low"])


def test_empty_frames_keep_their_columns(store):
    frame = comparison.runs_frame(store)
    assert frame.empty and "ap" in frame.columns and "setting_key" in frame.columns
    assert "ap_mean" in comparison.per_class(frame).columns
    assert comparison.paired_deltas(frame).empty and comparison.unpaired_runs(frame) == []
    assert comparison.table1(frame).empty and comparison.cost(frame).empty


def test_a_real_run_records_the_device_it_used(store):
    from weakneg.train import run_experiment

    cfg = RunConfig(
        dataset="digits",
        target_class=3,
        sampler="random",
        epochs=1,
        max_instances=300,
        device="auto",
        save_embeddings="none",
    )
    run_experiment(cfg, store)
    row = comparison.runs_frame(store).iloc[0]
    assert row["device"] == "cpu" and json.loads(row["setting_key"])["device"] == "cpu"  # not 'auto'
