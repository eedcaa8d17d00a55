"""MLflow: `export mlflow` and `run --track mlflow`, written to a local SQLite tracking store (mlflow-skinny 3.18
refuses a `file:` store unless MLFLOW_ALLOW_FILE_STORE is set; SQLite needs no server) and read back with
MLflow's own client. Exporting twice updates the same MLflow runs: no duplicates, no repeated epochs."""

from __future__ import annotations

import json
import sys

import pytest

from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.store import DIRECT, RunStore
from weakneg.train import run_experiment

from mlflow.tracking import MlflowClient  # noqa: E402  (mlflow-skinny is in requirements.txt)


def run_cli(capfd, *args) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as stop:
        code = stop.code
    out, err = capfd.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A store with a two-run sweep (random and margin, digits class 3, 2 epochs) and one run outside it."""
    folder = tmp_path_factory.mktemp("swept")
    store = RunStore(f"sqlite:///{folder / 'runs.db'}")
    base = RunConfig(dataset="digits", target_class=3, epochs=2, save_embeddings="none")
    store.create_sweep("s1", {"base": base.to_dict(), "grid": {"sampler": ["random", "margin"]}}, DIRECT, 2)
    for sampler in ("random", "margin"):
        cfg = base.replace(sampler=sampler)
        run_id = store.create_run(cfg.to_dict(), sweep_id="s1", backend=DIRECT)
        run_experiment(cfg, store, run_id)
    store.set_sweep_status("s1", "finished")
    cfg = base.replace(sampler="entropy", seed=7)
    run_experiment(cfg, store, store.create_run(cfg.to_dict(), backend=DIRECT))
    return store


def runs_of(client, experiment="weakneg"):
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id]) if found else []


def test_export_runs_writes_params_metrics_tags_and_files(swept, tmp_path, capfd):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code, out, err = run_cli(capfd, "export", "mlflow", "--runs", "1-3", "--tracking-uri", uri, "--store", swept.url)
    assert code == 0, err
    assert "3 MLflow run(s): 3 new, 0 updated" in out
    client = MlflowClient(tracking_uri=uri)
    found = {r.data.tags["weakneg.run_id"]: r for r in runs_of(client)}
    assert sorted(found) == ["1", "2", "3"]
    for run_id in (1, 2, 3):
        row, mlflow_run = swept.get_run(run_id), found[str(run_id)]
        tags, params, metrics = mlflow_run.data.tags, mlflow_run.data.params, mlflow_run.data.metrics
        assert tags["sampler"] == row.sampler and tags["dataset"] == "digits" and tags["class"] == "3"
        assert tags["seed"] == str(row.seed) and tags["status"] == "finished"
        assert tags["sweep"] == (row.sweep_id or "") and tags["weakneg.store_id"] == swept.store_id
        assert params["sampler"] == row.sampler and float(params["lr"]) == row.config["lr"]
        assert params["epochs"] == "2" and params["data_root"] == "null"
        assert mlflow_run.info.status == "FINISHED"
        assert metrics["final_ap"] == pytest.approx(row.final_ap) and metrics["final_auc"] == pytest.approx(
            row.final_auc
        )
        history = client.get_metric_history(mlflow_run.info.run_id, "ap")
        epochs = swept.epochs(run_id)
        assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [
            (e.epoch, pytest.approx(e.ap)) for e in epochs
        ]
        files = {f.path for f in client.list_artifacts(mlflow_run.info.run_id, "weakneg")}
        assert files == {"weakneg/run.json", "weakneg/epochs.csv"}
        local = client.download_artifacts(mlflow_run.info.run_id, "weakneg/run.json", str(tmp_path))
        assert json.loads(open(local).read())["config"] == row.config


def test_exporting_twice_updates_instead_of_duplicating(swept, tmp_path, capfd):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ("export", "mlflow", "--sweep", "s1", "--tracking-uri", uri, "--store", swept.url, "--json")
    code, out, err = run_cli(capfd, *args)
    assert code == 0, err
    first = json.loads(out)
    assert [e["new"] for e in first] == [True, True, True] and first[0]["weakneg"] == "s1"
    code, out, err = run_cli(capfd, *args)
    assert code == 0, err
    second = json.loads(out)
    assert [e["mlflow"] for e in second] == [e["mlflow"] for e in first] and not any(e["new"] for e in second)
    client = MlflowClient(tracking_uri=uri)
    runs = runs_of(client)
    assert len(runs) == 3  # the sweep's parent and its two runs, once each
    parent = next(r for r in runs if r.data.tags.get("weakneg.sweep_id") == "s1")
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(r.data.tags["sampler"] for r in children) == ["margin", "random"]
    for child in children:
        assert sorted(m.step for m in client.get_metric_history(child.info.run_id, "ap")) == [1, 2]
    report = {f.path for f in client.list_artifacts(parent.info.run_id, "report")}
    assert {"report/report.md", "report/runs.csv", "report/per_class.csv"} <= report


def test_track_mlflow_logs_each_epoch_live_and_export_then_updates(tmp_path, capfd):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    store_url = f"sqlite:///{tmp_path / 'runs.db'}"
    code, _, err = run_cli(
        capfd, "run", "--target-class", "5", "--epochs", "3", "--track", "mlflow", "--tracking-uri", uri,
        "--store", store_url, "--save-embeddings", "none",
    )  # fmt: skip
    assert code == 0, err
    client = MlflowClient(tracking_uri=uri)
    (tracked,) = runs_of(client)
    assert tracked.info.status == "FINISHED" and tracked.data.tags["weakneg.run_id"] == "1"
    history = client.get_metric_history(tracked.info.run_id, "ap")
    assert sorted(m.step for m in history) == [1, 2, 3]
    store = RunStore(store_url)
    assert sorted((m.step, m.value) for m in history) == [(e.epoch, pytest.approx(e.ap)) for e in store.epochs(1)]
    code, out, err = run_cli(capfd, "export", "mlflow", "--runs", "1", "--tracking-uri", uri, "--store", store_url)
    assert code == 0 and "0 new, 1 updated" in out, err
    assert len(runs_of(client)) == 1 and len(client.get_metric_history(tracked.info.run_id, "ap")) == 3


def test_unknown_runs_are_refused_before_mlflow_is_written(swept, tmp_path, capfd):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code, _, err = run_cli(capfd, "export", "mlflow", "--runs", "2", "99", "--tracking-uri", uri, "--store", swept.url)
    assert code == 2 and "no run 99" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "mlflow.db").exists()
    code, _, err = run_cli(capfd, "export", "mlflow", "--runs", "5-3", "--store", swept.url)
    assert code == 2 and "range '5-3' is empty" in err


def test_a_missing_mlflow_names_the_extra_and_writes_nothing(tmp_path, capfd, monkeypatch, isolated_home):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what `import mlflow` meets where it is not installed
    store = tmp_path / "runs.db"
    for args in (
        ("run", "--target-class", "3", "--epochs", "1", "--track", "mlflow", "--store", f"sqlite:///{store}"),
        ("export", "mlflow", "--runs", "1", "--store", f"sqlite:///{store}"),
    ):
        code, _, err = run_cli(capfd, *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "pip install 'weakneg[mlflow]'" in err
    assert not store.exists() and not isolated_home.exists()


def test_the_command_line_does_not_import_mlflow_until_a_command_needs_it():
    import subprocess

    code = (
        "import sys, weakneg.cli; weakneg.cli.build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow' or m == 'weakneg.tracking.mlflow_runs'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


@pytest.mark.parametrize(
    "uri, message",
    [
        ("file:///{tmp}/mlruns", "refuses a file store"),
        ("nosuch://x", "MLflow at nosuch://x: Model registry functionality is unavailable"),
    ],
)
def test_a_tracking_uri_mlflow_cannot_use_is_one_line_before_anything_is_written(
    uri, message, tmp_path, capfd, isolated_home
):
    uri = uri.replace("/{tmp}", str(tmp_path))
    store = tmp_path / "runs.db"
    code, _, err = run_cli(capfd, "run", "--target-class", "3", "--epochs", "1", "--track", "mlflow",
                           "--tracking-uri", uri, "--store", f"sqlite:///{store}")  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
    assert not store.exists() and not (tmp_path / "mlruns").exists() and not isolated_home.exists()
