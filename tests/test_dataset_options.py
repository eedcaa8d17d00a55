"""Declared dataset options: an unknown key or a bad value is refused up front, with one line naming the
dataset's options, and nothing is written (run, sweep, data check, jobs.submit); `datasets` lists them."""

import pandas as pd
import pytest

from weakneg import jobs
from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.data import DATASETS, class_names, load_bags
from weakneg.data.options import DatasetOption
from weakneg.errors import ConfigError
from weakneg.store import RunStore


def run_main(args):
    try:
        return main(args)
    except SystemExit as exit_:
        return exit_.code


def no_store(home):
    return not (home / "runs.db").exists() or RunStore(f"sqlite:///{home / 'runs.db'}").count_runs() == 0


BAD = [  # (dataset, options, words the one line holds)
    ("corel_dogs", ["fodls=5"], ["no option(s) fodls", "options: folds, fold, standardize"]),
    ("corel_dogs", ["folds=1"], ["option folds must be a whole number from 2", "options: folds, fold, standardize"]),
    ("corel_dogs", ["folds=5", "fold=5"], ["option fold must be in 0..4", "options: folds, fold, standardize"]),
    ("musk1", ["standardize=maybe"], ["option standardize must be true or false", "got 'maybe'"]),
    ("digits", ["download=true"], ["no option(s) download", "digits's options: none"]),
    ("soundscapes", ["n_train=0"], ["option n_train must be a whole number from 1", "n_test"]),
    ("soundscapes", ["n_train=2.5"], ["option n_train must be a whole number"]),
    ("soundscapes", ["familes=bd,sn"], ["no option(s) familes", "families"]),
]


@pytest.mark.parametrize("dataset, options, words", BAD)
def test_cli_run_refuses_a_bad_option_with_one_line_naming_the_options(isolated_home, capsys, dataset, options, words):
    flags = [part for option in options for part in ("--dataset-option", option)]
    code = run_main(["run", "--dataset", dataset, "--target-class", "0", "--epochs", "1", *flags])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert all(word in err[0] for word in words), err[0]
    assert no_store(isolated_home)


def test_sweep_refuses_a_bad_option_before_writing(isolated_home, capsys):
    code = run_main(
        [
            "sweep",
            "--dataset",
            "corel_dogs",
            "--classes",
            "0",
            "--samplers",
            "random",
            "--seeds",
            "0",
            "1",
            "--set",
            "model=mlp",
            "--set",
            'dataset_options={"fold": 12}',
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "option fold must be in 0..9" in err[0], err
    assert "options: folds, fold, standardize" in err[0]
    assert not (isolated_home / "runs.db").exists()


def test_data_check_refuses_a_bad_option(isolated_home, capsys):
    code = run_main(["data", "check", "musk1", "--dataset-option", "folds=ten"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "option folds must be a whole number" in err[0], err


def test_user_table_option_typo_is_named_before_reading(isolated_home, tmp_path, capsys):
    frame = pd.DataFrame(
        {"bag_id": [0, 0, 1, 2, 2, 3], "x": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "label": [1, 1, 0, 1, 1, 0]}
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    code = run_main(
        [
            "run",
            "--data",
            str(tmp_path / "t.csv"),
            "--target-class",
            "0",
            "--epochs",
            "1",
            "--dataset-option",
            "bag_colum=bag_id",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "no option(s) bag_colum" in err[0] and "bag_column" in err[0], err
    assert no_store(isolated_home)


def test_jobs_submit_refuses_a_bad_option_and_queues_nothing(isolated_home):
    store = RunStore()
    with pytest.raises(ConfigError, match="no option\\(s\\) fols"):
        jobs.submit(RunConfig(dataset="musk1", model="mlp", dataset_options={"fols": 3}), store, start=False)
    assert store.count_runs() == 0


def test_good_options_pass_and_are_used():
    data = load_bags(RunConfig(dataset="musk1", model="mlp", dataset_options={"folds": 4, "fold": 3}))
    assert len(data.test.labels) in (23, 24)  # a quarter of 92 bags: the option reached the loader
    assert class_names("soundscapes", options={"families": ["bd", "sn"]}) == ["bd", "sn"]


def test_declared_defaults_match_what_the_loaders_use():
    from weakneg.data.augment import AugmentSettings
    from weakneg.data.mil import DEFAULT_OPTIONS
    from weakneg.data.soundscapes import SoundscapeSettings

    sound = DATASETS["soundscapes"].options
    assert {k: sound[k].default for k in ("n_train", "n_test", "seed", "max_events", "noise_db")} == {
        "n_train": 600,
        "n_test": 300,
        "seed": 0,
        "max_events": 4,
        "noise_db": -50.0,
    }
    assert SoundscapeSettings.from_options({}) == SoundscapeSettings()
    assert sound["time_mask"].default == AugmentSettings().time_mask == 192
    assert DEFAULT_OPTIONS["folds"] == DATASETS["corel_dogs"].options["folds"].default == 10
    assert DATASETS["table"].options["folds"].default == 5


def test_every_dataset_declares_typed_options_with_help():
    for name, spec in DATASETS.items():
        for key, option in spec.options.items():
            assert isinstance(option, DatasetOption) and option.help, (name, key)
            if option.default is not None and option.kind not in ("names",):
                assert option.accepts(option.default), (name, key, option.default)


def test_datasets_lists_each_datasets_options(capsys):
    assert run_main(["datasets"]) == 0
    out = capsys.readouterr().out
    corel = out[out.index("corel_dogs") :]
    assert "folds=10" in corel.splitlines()[1] and "fold=0" in corel.splitlines()[2]
    assert "n_train=600" in out[out.index("soundscapes") :]
    assert "digits" in out and "(no dataset options)" in out[out.index("digits") : out.index("fashion_mnist")]
    assert "bag_column=bag_id" in out[out.index("your own data") :]


def test_sweep_takes_dataset_options_and_refuses_bad_ones(isolated_home, capsys):
    code = run_main(
        [
            "sweep",
            "--dataset",
            "corel_dogs",
            "--classes",
            "0",
            "--samplers",
            "random",
            "--seeds",
            "0",
            "--set",
            "model=mlp",
            "--dataset-option",
            "folds=5",
            "--dataset-option",
            "fold=7",
            "--dry-run",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "option fold must be in 0..4 (folds=5), got 7" in err[0], err
    code = run_main(
        [
            "sweep",
            "--dataset",
            "corel_dogs",
            "--classes",
            "0",
            "--samplers",
            "random",
            "badge",
            "--seeds",
            "0",
            "1",
            "--set",
            "model=mlp",
            "--dataset-option",
            "folds=5",
            "--dry-run",
        ]
    )
    assert code == 0 and capsys.readouterr().out.startswith("4 runs")


def test_samplers_on_corel_dogs_through_a_sweep_and_compare(isolated_home, capsys):
    """The imbalanced MIL sets through the comparisons machinery: a sweep over seeds, then paired statistics."""
    import json

    code = run_main(
        [
            "sweep",
            "--dataset",
            "corel_dogs",
            "--classes",
            "0",
            "--samplers",
            "random",
            "badge",
            "--seeds",
            "0",
            "1",
            "--pn-ratios",
            "0.5",
            "--dataset-option",
            "folds=5",
            "--set",
            "model=mlp",
            "--set",
            "epochs=1",
            "--set",
            "save_embeddings=none",
            "--set",
            "device=cpu",
            "--max-concurrent",
            "1",
            "--sweep-id",
            "corel",
            "--json",
        ]
    )
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["finished"] == 4
    assert run_main(["compare", "--sweep", "corel", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["runs_compared"] == 4
    rows = [r for r in result["classes"] if r["sampler"].startswith("badge")]
    assert len(rows) == 1 and rows[0]["n_seeds"] == 2 and rows[0]["class"] == "dog"
    runs = RunStore().list_runs()
    assert {r.config["dataset_options"]["folds"] for r in runs} == {5}
    assert all(r.k < r.pool_size / 5 for r in runs)  # most negatives left out at P-N ratio 0.5


def test_a_stored_run_with_the_old_download_flag_still_resumes_but_new_input_is_refused():
    stored = {**RunConfig(dataset="digits", target_class="3").to_dict(), "dataset_options": {"download": True}}
    cfg = RunConfig.from_dict(stored).validate()  # a run the release before declared options recorded
    assert cfg.dataset_options == {}
    with pytest.raises(ConfigError, match="dataset 'digits' has no option"):
        RunConfig(dataset="digits", target_class="3", dataset_options={"download": True}).validate()
    kept = RunConfig.from_dict({**stored, "dataset": "fashion_mnist", "dataset_options": {"download": True}})
    assert kept.dataset_options == {"download": True}  # a dataset with files to fetch keeps it
