"""The command line: a run end to end, list and show, and every bad input exits 2 with one line, writing nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from weakneg.cli import main
from weakneg.store import RunStore

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, env_home):
    env = {**os.environ, "WEAKNEG_HOME": str(env_home)}
    return subprocess.run(
        [sys.executable, "-m", "weakneg", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_run_json_list_and_show(isolated_home):
    done = cli(
        "run",
        "--dataset",
        "digits",
        "--target-class",
        "3",
        "--sampler",
        "random",
        "--epochs",
        "2",
        "--json",
        env_home=isolated_home,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "finished" and result["epochs"] == 2 and 0 <= result["ap"] <= 1
    assert 0 <= result["auc"] <= 1 and len(result["history"]) == 2
    listed = cli("list", "--json", env_home=isolated_home)
    assert [r["id"] for r in json.loads(listed.stdout)] == [result["run_id"]]
    shown = cli("show", str(result["run_id"]), env_home=isolated_home)
    assert "finished" in shown.stdout and "t_score" in shown.stdout
    assert (isolated_home / "runs.db").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "nope", "--target-class", "3"], "unknown dataset 'nope'"),
        (["--sampler", "nope", "--target-class", "3"], "unknown sampler 'nope'"),
        (["--target-class", "10"], "target class 10 is out of range"),
        (["--target-class", "eleven"], "unknown target class 'eleven'"),
        (["--target-class", "3", "--pn-ratio", "0"], "pn_ratio must be a number > 0"),
        (["--target-class", "3", "--pn-ratio", "-1"], "pn_ratio must be a number > 0"),
        (["--target-class", "3", "--epochs", "0"], "epochs must be an integer >= 1"),
        (["--target-class", "3", "--bag-size", "900"], "larger than the data allows"),
        (["--target-class", "3", "--epochs", "x"], "invalid int value"),
        (["--target-class", "3", "--dataset", "cifar10"], "CIFAR-10 not found"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(isolated_home, capsys, args, message):
    try:
        code = main(["run", "--dataset", "digits", *args])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0], err
    assert (
        not (isolated_home / "runs.db").exists() or RunStore(f"sqlite:///{isolated_home / 'runs.db'}").count_runs() == 0
    )


def test_show_unknown_run(isolated_home):
    done = cli("show", "42", env_home=isolated_home)
    assert done.returncode == 2 and "no run 42" in done.stderr
