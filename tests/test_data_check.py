"""`data check` and the Launch page's panel: counts against independent pandas computations, problems named,
k at the chosen ratio, and the app reading only folders an operator allows."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from weakneg.cli import main
from weakneg.config import RunConfig, negatives_per_epoch
from weakneg.data import load_bags
from weakneg.errors import ConfigError
from weakneg.views.data_check import allowed_path, check_data

APP = Path(__file__).resolve().parents[1] / "app.py"


def write_table(path, bags=40, seed=0):
    """Bags of 1..9 instances; a positive bag holds 1..3 concept instances (instance_label 1)."""
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(bags):
        size, positive = int(rng.integers(1, 10)), b % 4 == 0
        concept = min(size, int(rng.integers(1, 4))) if positive else 0
        for i in range(size):
            rows.append(
                {
                    "bag_id": f"b{b}",
                    "f0": rng.normal(),
                    "f1": rng.normal(),
                    "label": int(positive),
                    "instance_label": int(i < concept),
                }
            )
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return frame


def test_check_counts_equal_an_independent_computation(tmp_path):
    frame = write_table(tmp_path / "t.csv")
    result = check_data(tmp_path / "t.csv", pn_ratio=0.25)
    sizes = frame.groupby("bag_id").size()
    assert result.ok and result.dataset == "table"
    assert (result.n_bags, result.n_instances) == (40, len(frame))
    assert result.sizes == (sizes.min(), float(sizes.median()), sizes.max())
    assert result.positives == {"positive": 10}
    per_bag = frame.groupby("bag_id").agg(label=("label", "first"), share=("instance_label", "mean"))
    assert result.label_density == pytest.approx(per_bag[per_bag.label == 1].share.mean())
    data = load_bags(RunConfig(dataset="table", model="mlp", dataset_options={"path": str(tmp_path / "t.csv")}))
    n_pos, pool = int(data.train.labels.sum()), int((data.train.labels == 0).sum())
    assert (result.n_pos_train, result.pool) == (n_pos, pool)  # the split a run would use
    assert result.k == negatives_per_epoch(n_pos, 0.25, pool) == min(round(n_pos / 0.25), pool)


def test_check_command_prints_the_summary_and_each_problem(tmp_path, capsys):
    write_table(tmp_path / "t.csv")
    assert main(["data", "check", str(tmp_path / "t.csv"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["ok"] and shown["n_bags"] == 40 and shown["target"] == "positive"
    frame = pd.read_csv(tmp_path / "t.csv")
    frame.loc[2, "f1"] = np.nan
    frame.drop(columns="label").to_csv(tmp_path / "t.csv", index=False)
    assert main(["data", "check", str(tmp_path / "t.csv")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("2 problem(s)")
    assert any("missing label column 'label'" in line for line in out)
    assert any("NaN or infinite features (rows 2" in line for line in out)


def test_check_a_mil_benchmark_by_name(capsys):
    assert main(["data", "check", "corel_dogs", "--pn-ratio", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "bags: 2,000   instances: 7,947" in out and "dog 100" in out
    assert "90 positive training bags, 180 of 1,710 negatives per epoch" in out  # 10 folds: 9 of 10 train


def test_app_reads_only_allowed_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("WEAKNEG_DATA_FOLDERS", raising=False)
    with pytest.raises(ConfigError, match="reading your own files from the app is off"):
        allowed_path(str(tmp_path / "t.csv"))
    monkeypatch.setenv("WEAKNEG_DATA_FOLDERS", str(tmp_path / "allowed"))
    (tmp_path / "allowed").mkdir()
    assert allowed_path(str(tmp_path / "allowed" / "t.csv")) == (tmp_path / "allowed" / "t.csv").resolve()
    with pytest.raises(ConfigError, match="outside the folders this app may read"):
        allowed_path(str(tmp_path / "allowed" / ".." / "t.csv"))


def test_launch_panel_checks_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("WEAKNEG_DATA_FOLDERS", str(tmp_path))
    monkeypatch.setenv("WEAKNEG_STORE", f"sqlite:///{tmp_path / 'runs.db'}")
    write_table(tmp_path / "t.csv")
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page("app_pages/launch.py")
    app.run()
    app.text_input(key="own_data_path").input(str(tmp_path / "t.csv")).run()
    assert not app.exception
    assert any("bags: 40" in code.value for code in app.code)
    app.text_input(key="own_data_path").input("/etc/passwd").run()
    assert any("outside the folders this app may read" in e.value for e in app.error)


def test_launch_panel_queues_a_run_on_the_checked_table(tmp_path, monkeypatch):
    from weakneg.store import RunStore

    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")  # queue only: no worker process in a unit test
    monkeypatch.setenv("WEAKNEG_DATA_FOLDERS", str(tmp_path))
    write_table(tmp_path / "t.csv")
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page("app_pages/launch.py")
    app.run()
    app.number_input(key="epochs").set_value(2).run()
    app.text_input(key="own_data_path").input(str(tmp_path / "t.csv")).run()
    app.button(key="launch_own").click().run()
    assert not app.exception
    (run,) = RunStore().list_runs()
    assert run.status == "queued" and run.dataset == "table" and run.config["model"] == "mlp"
    assert run.config["epochs"] == 2 and run.config["target_class"] == "positive"
    assert run.config["dataset_options"]["path"] == str((tmp_path / "t.csv").resolve())
    assert run.config["dataset_options"]["fingerprint"].startswith("sha256:")


def test_a_run_on_own_image_bags_from_launch_to_inspect(tmp_path, monkeypatch):
    """Launch panel -> queued run -> a real worker (in this process) -> Inspect draws the real images."""
    from test_user_images_audio import write_image_bags

    from weakneg import jobs
    from weakneg.store import RunStore

    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")
    monkeypatch.setenv("WEAKNEG_DATA_FOLDERS", str(tmp_path))
    path, _, _ = write_image_bags(tmp_path)
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page("app_pages/launch.py")
    app.run()
    app.number_input(key="epochs").set_value(1).run()
    app.text_input(key="own_data_path").input(str(path)).run()
    app.button(key="launch_own").click().run()
    (run,) = RunStore().list_runs()
    assert run.dataset == "image_bags" and run.config["model"] == "simple_cnn"
    assert jobs.worker_main(run.id, RunStore().url) == 0
    finished = RunStore().get_run(run.id)
    assert finished.status == "finished"
    inspect = AppTest.from_file(str(APP), default_timeout=120)
    inspect.switch_page("app_pages/inspect.py")
    inspect.query_params["run"] = str(run.id)
    inspect.run()
    assert not inspect.exception, [e.value for e in inspect.exception]
    assert any(s.value.startswith(f"The {finished.k} bags random chose at epoch") for s in inspect.subheader)
    assert len(inspect.get("image")) >= 1  # the bags' real images, as thumbnails
