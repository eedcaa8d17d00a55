"""Configuration files: `run --config` and `sweep --config` (every flag has a key, typed flags win), one line naming
the key and the file for a bad one, and `show --config`, whose file reproduces the run: the same configuration
and, for a short digits run, the same metrics epoch by epoch."""

from __future__ import annotations

import json
import tomllib

import pytest

from weakneg.cli import build_parser, main
from weakneg.cli.config_flags import file_keys, with_config_file
from weakneg.config import RunConfig
from weakneg.config_file import to_toml
from weakneg.store import RunStore


def run_cli(capfd, *args) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as stop:
        code = stop.code
    out, err = capfd.readouterr()
    return code, out, err


def parsed(*argv):
    parser = build_parser()
    return with_config_file(parser, list(argv), parser.parse_args(list(argv)))


def test_every_run_and_sweep_flag_has_a_key():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    run_keys = file_keys("run", sub["run"])
    # the run's own fields are keys of the same name: the file `show --config` prints is a run file
    assert set(RunConfig().to_dict()) <= set(run_keys)
    assert {"data", "data_format", "download", "store", "track", "tracking_uri"} <= set(run_keys)
    sweep_keys = file_keys("sweep", sub["sweep"])
    assert {"classes", "samplers", "seeds", "grid", "set", "sampler_params", "dataset_options", "backend"} <= set(
        sweep_keys
    )
    assert "config" not in run_keys and "json" not in sweep_keys


def test_typed_flags_win_over_the_file(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        'dataset = "digits"\ntarget_class = 3\nseed = 1\nepochs = 4\naugment = true\n'
        '[sampler_params]\nlabel = "predicted"\ntemperature = 2\n'
        "[dataset_options]\nclasses = ['a', 'b']\nfolds = 5\n"
    )
    args = parsed("run", "--config", str(path), "--seed", "3", "--sampler-param", "label=known")
    assert (args.seed, args.epochs, args.target_class, args.augment) == (3, 4, "3", True)
    from weakneg.config import parse_pairs

    assert parse_pairs(args.sampler_param) == {"label": "known", "temperature": 2}
    assert parse_pairs(args.dataset_option) == {"classes": ["a", "b"], "folds": 5}


def test_a_sweep_file_holds_the_grid(tmp_path, capfd):
    path = tmp_path / "sweep.toml"
    path.write_text(
        'dataset = "digits"\nclasses = [1, 2]\nsamplers = ["random", "badge"]\nseeds = [0, 1, 2]\n'
        "[grid]\nlr = [0.001, 0.0001]\n[set]\nepochs = 1\nmax_instances = 300\n"
        '[sampler_params.badge]\nlabel = "known"\n'
    )
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    code, out, err = run_cli(capfd, "sweep", "--config", str(path), "--dry-run", "--json", "--store", store)
    assert code == 0, err
    assert json.loads(out)["runs"] == 2 * 2 * 3 * 2
    code, out, err = run_cli(capfd, "sweep", "--config", str(path), "--seeds", "5", "--dry-run", "--json")
    assert code == 0, err
    assert json.loads(out)["runs"] == 2 * 2 * 1 * 2  # the typed --seeds replaces the file's list
    assert not (tmp_path / "runs.db").exists()  # a dry run writes nothing


@pytest.mark.parametrize(
    "text, named",
    [
        ("epoch = 3\n", "unknown key 'epoch'"),
        ('epochs = "ten"\n', "key 'epochs' must be an integer, got 'ten'"),
        ("epochs = 2.5\n", "key 'epochs' must be an integer, got 2.5"),
        ("lr = true\n", "key 'lr' must be a number, got true"),
        ('augment = "yes"\n', "key 'augment' must be true or false"),
        ("dataset_options = 3\n", "key 'dataset_options' must be a table"),
        ("[seed]\nx = 1\n", "key 'seed' must be an integer"),
        ("epochs = \n", "is not valid TOML"),
    ],
)
def test_a_bad_key_is_named_with_the_file_and_nothing_is_written(text, named, tmp_path, capfd, isolated_home):
    path = tmp_path / "bad.toml"
    path.write_text("target_class = 3\n" + text)
    store = tmp_path / "runs.db"
    code, out, err = run_cli(capfd, "run", "--config", str(path), "--store", f"sqlite:///{store}")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert str(path) in err and named in err, err
    assert not store.exists() and not isolated_home.exists()


def test_a_missing_file_is_one_line(tmp_path, capfd):
    code, _, err = run_cli(capfd, "sweep", "--config", str(tmp_path / "nope.toml"))
    assert code == 2 and "no such configuration file" in err and len(err.strip().splitlines()) == 1


def test_toml_written_reads_back_as_the_same_values():
    values = {
        "dataset": "table",
        "target_class": 'tumör "x"',
        "lr": 5e-07,
        "epochs": 3,
        "augment": False,
        "data_root": None,
        "sampler_params": {},
        "dataset_options": {"classes": ["a", "b"], "path": "/x/y.csv", "split_column": None, "folds": 5},
    }
    back = tomllib.loads(to_toml(values, header="a header\nline two"))
    expected = {k: v for k, v in values.items() if v is not None}
    expected["dataset_options"] = {k: v for k, v in values["dataset_options"].items() if v is not None}
    assert back == expected


def test_show_config_reproduces_the_run(tmp_path, capfd):
    store_url = f"sqlite:///{tmp_path / 'runs.db'}"
    first = tmp_path / "first.toml"
    first.write_text('dataset = "digits"\ntarget_class = 3\nsampler = "margin"\nepochs = 2\nlr = 0.002\n')
    code, _, err = run_cli(capfd, "run", "--config", str(first), "--seed", "4", "--store", store_url)
    assert code == 0, err
    code, printed, err = run_cli(capfd, "show", "1", "--config", "--store", store_url)
    assert code == 0, err
    assert printed.startswith("# run 1 (finished)")
    reproduced = tmp_path / "printed.toml"
    reproduced.write_text(printed)
    code, _, err = run_cli(capfd, "run", "--config", str(reproduced), "--store", store_url)
    assert code == 0, err
    store = RunStore(store_url)
    one, two = store.get_run(1), store.get_run(2)
    assert one.config == two.config
    assert one.config["seed"] == 4 and one.config["lr"] == 0.002 and one.config["sampler"] == "margin"
    metrics = [[(e.epoch, e.ap, e.auc, e.train_loss) for e in store.epochs(i)] for i in (1, 2)]
    assert metrics[0] == metrics[1] and len(metrics[0]) == 2
    code, again, _ = run_cli(capfd, "show", "2", "--config", "--store", store_url)
    assert again.splitlines()[1:] == printed.splitlines()[1:]  # only the header's run id differs
