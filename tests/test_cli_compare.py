"""`python -m weakneg compare`: the JSON keys the issue lists, the same numbers as paired_stats, one-line
errors with exit 2."""

import json

import pytest

from weakneg import comparison, paired_stats
from weakneg.cli import main

from compare_support import record, truth_store

CLASS_KEYS = {
    "setting",
    "class",
    "sampler",
    "n_seeds",
    "delta_mean",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "verdict",
}
SAMPLER_KEYS = {
    "sampler",
    "better",
    "worse",
    "classes",
    "sign_test_p",
    "wilcoxon_p",
    "rank_test_floor",
    "seeds_needed_0.01",
    "seeds_needed_0.02",
    "seeds_per_class_0.01",
    "classes_needed_0.01",
    "these_classes",
    "new_classes",
}
CLAIM_KEYS = {"mean_delta", "ci_low", "ci_high", "p", "verdict"}


def test_json_has_the_documented_keys_and_the_same_numbers(store, capsys):
    truth_store(store, effect=0.05, classes=3, seeds=4)
    assert main(["compare", "--sweep", "cmp", "--metric", "auc", "--json", "--store", store.url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"settings", "classes", "samplers"} <= set(out) and out["metric"] == "auc"
    assert all(CLASS_KEYS <= set(row) for row in out["classes"]) and len(out["classes"]) == 3
    assert SAMPLER_KEYS <= set(out["samplers"][0])
    expected = paired_stats.compare(comparison.runs_frame(store, sweep_id="cmp"), "auc")
    assert [r["p_adjusted"] for r in out["classes"]] == pytest.approx(expected["classes"]["p_adjusted"].tolist())
    sampler = out["samplers"][0]
    for claim in ("these_classes", "new_classes"):  # the two named claims, each with its own verdict
        assert CLAIM_KEYS <= set(sampler[claim])
        assert sampler[claim]["ci_low"] == pytest.approx(expected["samplers"].loc[0, f"{claim}_ci_low"])
        assert sampler[claim]["p"] == pytest.approx(expected["samplers"].loc[0, f"{claim}_p"])
    assert "verdict" not in sampler and "mean_delta" not in sampler  # no unnamed overall claim
    assert sampler["these_classes"]["verdict"] == "better" and sampler["new_classes"]["verdict"] == "too few classes"
    assert out["settings"][0]["runs"] == 24


def test_tables_name_settings_and_unpaired_runs(store, capsys):
    for seed in (0, 1):
        record(store, "random", 0, seed, 0.5, bag_size=5)
        record(store, "badge", 0, seed, 0.6 + seed / 100, bag_size=5)
        record(store, "random", 0, seed, 0.5, bag_size=10)
    lone = record(store, "grad_norm", 0, 3, 0.7, bag_size=10)
    ids = ",".join(str(r.id) for r in store.list_runs())
    assert main(["compare", "--runs", ids, "--store", store.url]) == 0
    text = capsys.readouterr().out
    assert "2 settings among these runs: bag_size 10 vs 5." in text
    assert "badge(label=predicted)" in text and "no detectable difference" in text
    assert "on THESE classes" in text and "on NEW classes" in text and "too few classes" in text
    assert text.rstrip().endswith(f"runs {lone}")


def test_seeds_needed_print_as_whole_numbers_beside_a_setting_without_them(store, capsys):
    """A mixed-setting comparison: one setting has seed spread (seeds needed), the other one seed (none). The
    column used to turn float and print 19.0000."""
    for seed, lift in ((0, 0.01), (1, 0.03), (2, 0.02)):
        record(store, "random", 0, seed, 0.5, bag_size=5)
        record(store, "badge", 0, seed, 0.5 + lift, bag_size=5)
    record(store, "random", 0, 0, 0.5, bag_size=10)
    record(store, "badge", 0, 0, 0.6, bag_size=10)
    assert main(["compare", "--sweep", "cmp", "--store", store.url]) == 0
    text = capsys.readouterr().out
    rows = [line.split("digits (bag_size=5)")[1].split() for line in text.splitlines() if "(bag_size=5)  " in line]
    # seed SD 0.01 (differences .01, .03, .02): 10 seeds for Δ 0.01 (TTestPower: 9.94), 5 for 0.02; no classes count
    assert rows[3] == ["10", "10", "-", "5"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--sweep", "nope"], "no sweep 'nope'"),
        (["--runs", "1,x"], "--runs takes run ids"),
        (["--dataset", "cifar10"], "no finished runs match"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(store, capsys, argv, message):
    assert main(["compare", *argv, "--store", store.url]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
