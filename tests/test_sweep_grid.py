"""Sweep grids: expansion, validation messages, the 10,000-run confirmation (engine and CLI)."""

import itertools

import pytest

from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.errors import ConfigError
from weakneg.sweep import CONFIRM_AT, SweepConfig, SweepTooLarge, progress


def test_grid_is_the_product_of_the_lists():
    sweep = SweepConfig(
        base=RunConfig(epochs=2), grid={"classes": [0, "3"], "samplers": ["random", "full"], "seeds": [0, 1, 2]}
    )
    configs = sweep.expand()
    assert sweep.size() == len(configs) == 2 * 2 * 3
    got = {(c.target_class, c.sampler, c.seed) for c in configs}
    assert got == set(itertools.product([0, 3], ["random", "full"], [0, 1, 2]))  # "3" resolved to the index 3
    assert all(c.epochs == 2 for c in configs)


def test_classes_all_expands_from_the_dataset():
    configs = SweepConfig(grid={"classes": "all", "samplers": ["random"]}).expand()
    assert sorted(c.target_class for c in configs) == list(range(10))  # digits has 10 classes
    assert SweepConfig(grid={"classes": ["all"], "pn_ratios": [0.5, 0.25]}).size() == 20


@pytest.mark.parametrize(
    "grid, message",
    [
        ({"samplers": []}, "'samplers' is an empty list"),
        ({"samplers": ["random", "no_such_sampler"]}, "unknown sampler 'no_such_sampler'"),
        ({"classes": [0, 42]}, "out of range"),
        ({"classes": ["shoe"]}, "unknown target class 'shoe'"),
        ({"colour": ["red"]}, "unknown sweep field 'colour'"),
        ({"seeds": 3}, "needs a list"),
        ({"seeds": [1, 1]}, "repeats a value"),
        ({"pn_ratios": [0.5, -1]}, "pn_ratio must be a number > 0"),
        ({"classes": ["all", 1]}, "either 'all' or a list"),
    ],
)
def test_invalid_grids_say_what_to_fix(grid, message):
    with pytest.raises(ConfigError, match=message):
        SweepConfig(grid=grid).expand()


def test_invalid_sweep_settings():
    with pytest.raises(ConfigError, match="unknown backend 'slurm'"):
        SweepConfig(backend="slurm").validate()
    with pytest.raises(ConfigError, match="retries must be"):
        SweepConfig(retries=-1).validate()
    with pytest.raises(ConfigError, match="num_gpus must be"):
        SweepConfig(num_gpus=-0.5).validate()
    SweepConfig(backend="ray", num_gpus=0.25, num_cpus=0.5).validate()  # fractions are fine
    with pytest.raises(ConfigError, match="unknown sweep setting"):
        SweepConfig.from_dict({"bakend": "ray"})


def test_big_grid_needs_confirmation():
    sweep = SweepConfig(grid={"classes": "all", "seeds": list(range(CONFIRM_AT // 10))})
    assert sweep.size() == CONFIRM_AT
    with pytest.raises(SweepTooLarge, match="10,000 runs"):
        sweep.expand()
    assert len(sweep.expand(confirm=True)) == CONFIRM_AT
    assert len(SweepConfig(grid={"classes": "all", "seeds": list(range(CONFIRM_AT // 10 - 1))}).expand()) < CONFIRM_AT


def test_round_trip_through_a_dict():
    sweep = SweepConfig(
        base=RunConfig(epochs=1), grid={"classes": [1], "samplers": ["random"]}, backend="ray", num_gpus=0.5
    )
    again = SweepConfig.from_dict(sweep.to_dict())
    assert again.to_dict() == sweep.to_dict() and again.base.epochs == 1


def test_cli_refuses_a_huge_grid_without_yes(store, capsys):
    args = ["sweep", "--dataset", "digits", "--classes", "all", "--seeds", *map(str, range(1000)), "--store", store.url]
    assert main(args) == 2
    assert "--yes" in capsys.readouterr().err
    assert store.list_sweeps() == [] and store.count_runs() == 0  # nothing written
    assert main(args + ["--dry-run", "--json"]) == 0
    assert '"runs": 10000' in capsys.readouterr().out


def test_cli_one_line_errors(store, capsys):
    assert main(["sweep", "--classes", "0", "--samplers", "random", "nope", "--store", store.url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown sampler 'nope'" in err
    assert main(["sweep", "--samplers", "random", "--store", store.url]) == 2
    assert "--classes" in capsys.readouterr().err
    assert main(["sweep", "--sweep-id", "nope", "--store", store.url]) == 2
    assert "no sweep 'nope' to resume" in capsys.readouterr().err
    assert main(["sweep", "--classes", "0", "--grid", "lr=0.1,", "--store", store.url]) == 2  # "" is not a number
    with pytest.raises(Exception, match="no sweep"):
        progress(store, "nope")


def test_each_sampler_gets_its_own_parameters():
    sweep = SweepConfig(
        base=RunConfig(epochs=1),
        grid={"classes": [1], "samplers": ["random", "badge", "mix"], "seeds": [0, 1]},
        sampler_params={"badge": {"label": "known"}, "mix": {"w_similarity": 2}},
    )
    by_sampler = {c.sampler: c.sampler_params for c in sweep.expand()}
    assert by_sampler == {"random": {}, "badge": {"label": "known"}, "mix": {"w_similarity": 2.0}}  # int -> float
    assert isinstance(by_sampler["mix"]["w_similarity"], float)
    again = SweepConfig.from_dict(sweep.to_dict())
    assert [c.to_dict() for c in again.expand()] == [c.to_dict() for c in sweep.expand()]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"badge": {"label": "foo"}}, "parameter label must be one of known, predicted, got 'foo'"),
        ({"mix": {"w_diversity": -1}}, "w_diversity must be a finite number at least 0"),
        ({"badge": {"colour": 1}}, "colour"),
        ({"margin": {"label": "known"}}, "'margin', which this sweep does not run"),
        ({"nope": {}}, "unknown sampler 'nope'"),
        ({"badge": "label=known"}, "must be KEY: VALUE pairs"),
    ],
)
def test_bad_sampler_parameters_are_refused(params, message):
    sweep = SweepConfig(grid={"classes": [1], "samplers": ["random", "badge", "mix"]}, sampler_params=params)
    with pytest.raises(ConfigError, match=message):
        sweep.validate()


def test_sweeps_saved_before_per_sampler_parameters_still_load():
    old = {
        "base": RunConfig(epochs=1, sampler="grad_norm", sampler_params={"label": "known"}).to_dict(),  # shared
        "grid": {"target_class": [1], "sampler": ["grad_norm", "badge"]},
        "backend": "local",
        "retries": 1,
        "max_concurrent": 0,
        "num_cpus": 1.0,
        "num_gpus": 0.0,
        "address": None,
    }
    sweep = SweepConfig.from_dict(old)
    assert sweep.sampler_params == {}
    assert [c.sampler_params for c in sweep.expand()] == [{"label": "known"}] * 2
    mixed = SweepConfig.from_dict({**old, "sampler_params": {"badge": {"label": "predicted"}}})  # own over shared
    assert {c.sampler: c.sampler_params["label"] for c in mixed.expand()} == {
        "grad_norm": "known",
        "badge": "predicted",
    }


def test_cli_sampler_parameters(store, capsys):
    grid = ["sweep", "--classes", "1", "--samplers", "random", "badge", "--epochs", "1", "--store", store.url]
    assert main(grid + ["--sampler-param", "badge:label=foo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "label must be one of known, predicted, got 'foo'" in err
    assert main(grid + ["--sampler-param", "label=known"]) == 2
    assert "SAMPLER:KEY=VALUE" in capsys.readouterr().err
    assert store.list_sweeps() == [] and store.count_runs() == 0  # nothing written
    assert main(grid + ["--sampler-param", "badge:label=known", "--dry-run", "--json"]) == 0
    assert '"runs": 2' in capsys.readouterr().out


def test_a_sweep_stored_before_per_sampler_parameters_resumes(store, capsys):
    from weakneg.store import FINISHED

    old = SweepConfig(base=RunConfig(epochs=1), grid={"classes": [1], "samplers": ["random"]}).to_dict()
    del old["sampler_params"]  # what sweeps stored before the field existed
    store.create_sweep("old", old, "local", n_runs=1)
    (cfg,) = SweepConfig.from_dict(old).expand()
    run_id = store.create_run(cfg.to_dict(), sweep_id="old")
    store.start_run(run_id)
    store.finish_run(run_id, FINISHED)
    assert main(["sweep", "--sweep-id", "old", "--store", store.url]) == 0  # the same sweep: nothing to run again
    assert "1 already finished before" in capsys.readouterr().out


def test_the_same_sweep_id_with_other_sampler_parameters_is_refused(store, capsys):
    stored = SweepConfig(grid={"classes": [1], "samplers": ["badge"]}, sampler_params={"badge": {"label": "known"}})
    store.create_sweep("tuned", stored.to_dict(), "local", n_runs=1)
    args = ["sweep", "--sweep-id", "tuned", "--classes", "1", "--samplers", "badge", "--store", store.url]
    assert main(args + ["--sampler-param", "badge:label=predicted"]) == 2
    assert "already exists with a different grid" in capsys.readouterr().err
    assert store.count_runs() == 0
