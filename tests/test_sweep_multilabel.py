"""`sweep --multilabel`: one multi-label model per grid point (samplers x seeds ...) for the classes given, its
cost estimated as such, and its runs read class by class by `compare`."""

import json

import pytest

from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.errors import ConfigError
from weakneg.store import FINISHED
from weakneg.sweep import SweepConfig
from weakneg.sweep.estimates import cost_key

GRID = {"sampler": ["random", "badge"], "seed": [0, 1]}


@pytest.mark.parametrize(
    "classes, target",
    [("all", "all"), ([1, "4"], "1,4"), (["3"], "3,")],  # "3,": one class in a multi-label model
)
def test_each_grid_point_is_one_multilabel_run_of_the_classes(classes, target):
    sweep = SweepConfig(RunConfig(dataset="digits"), {"target_class": classes, **GRID}, multilabel=True)
    configs = sweep.expand()
    assert sweep.size() == len(configs) == 4
    assert {c.target_class for c in configs} == {target}
    assert sorted((c.sampler, c.seed) for c in configs) == sorted((s, e) for s in GRID["sampler"] for e in GRID["seed"])
    binary = SweepConfig(RunConfig(dataset="digits"), {"target_class": classes, **GRID})
    assert binary.size() == 4 * (10 if classes == "all" else len(classes))  # without it: a run per class


def test_the_setting_is_part_of_the_sweep_and_checked():
    sweep = SweepConfig(RunConfig(dataset="digits"), {"target_class": "all"}, multilabel=True)
    assert SweepConfig.from_dict(sweep.to_dict()).multilabel is True
    with pytest.raises(ConfigError, match="multilabel must be true or false"):
        SweepConfig(RunConfig(dataset="digits"), {"target_class": "all"}, multilabel="yes").validate()
    # a multi-label run's cost is its own: never read from the binary runs of the same setting
    assert cost_key(RunConfig(target_class="all")) != cost_key(RunConfig(target_class=3))
    assert cost_key(RunConfig(target_class=3)) == cost_key(RunConfig(target_class=5))


def test_a_multilabel_sweep_runs_estimates_and_compares_per_class(store, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WEAKNEG_HOME", str(tmp_path / "home"))
    args = ["sweep", "--dataset", "digits", "--classes", "all", "--samplers", "random", "margin", "--seeds", "0"]
    args += ["--epochs", "1", "--multilabel", "--set", "save_embeddings=none", "--store", store.url, "--json"]
    assert main([*args, "--dry-run"]) == 0
    guess = json.loads(capsys.readouterr().out)
    assert guess["runs"] == 2 and guess["probed_settings"] == 2 and guess["estimated_wall_seconds"] > 0
    assert main([*args, "--sweep-id", "ml", "--max-concurrent", "2"]) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == FINISHED and summary["finished"] == 2
    runs = store.list_runs(sweep_id="ml")
    assert all(r.config["target_class"] == "all" and r.result["multilabel"] for r in runs)
    assert main(["compare", "--sweep", "ml", "--json", "--store", store.url]) == 0
    compared = json.loads(capsys.readouterr().out)
    # margin against random, class by class of the one model (one seed: each class's difference, no verdict yet)
    assert {row["class"] for row in compared["classes"]} == {str(c) for c in range(10)}
    assert {row["sampler"] for row in compared["classes"]} == {"margin"}
