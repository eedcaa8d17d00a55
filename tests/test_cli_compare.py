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
    "mean_delta",
    "ci_low",
    "ci_high",
    "verdict",
    "seeds_needed_0.01",
    "seeds_needed_0.02",
}


def test_json_has_the_documented_keys_and_the_same_numbers(store, capsys):
    truth_store(store, effect=0.05, classes=3, seeds=4)
    assert main(["compare", "--sweep", "cmp", "--metric", "auc", "--json", "--store", store.url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"settings", "classes", "samplers"} <= set(out) and out["metric"] == "auc"
    assert all(CLASS_KEYS <= set(row) for row in out["classes"]) and len(out["classes"]) == 3
    assert SAMPLER_KEYS <= set(out["samplers"][0])
    expected = paired_stats.compare(comparison.runs_frame(store, sweep_id="cmp"), "auc")
    assert [r["p_adjusted"] for r in out["classes"]] == pytest.approx(expected["classes"]["p_adjusted"].tolist())
    assert out["samplers"][0]["ci_low"] == pytest.approx(expected["samplers"].loc[0, "ci_low"])
    assert out["samplers"][0]["verdict"] == "better" and out["settings"][0]["runs"] == 24


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
    assert text.rstrip().endswith(f"runs {lone}")


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
