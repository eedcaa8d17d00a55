"""The local backend for real: worker processes from jobs.py, the CLI's progress and JSON, background launch
and cancel."""

import json
import os
import time

from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.store import ACTIVE, CANCELLED, FINISHED, RUNNING
from weakneg.sweep import SweepConfig, cancel_sweep, launch_background, progress


def test_local_sweep_from_the_cli_then_its_report(store, tmp_path, capsys):
    code = main(
        [
            "sweep",
            "--dataset",
            "digits",
            "--classes",
            "4",
            "--samplers",
            "random",
            "--seeds",
            "0",
            "--epochs",
            "1",
            "--set",
            "save_embeddings=none",
            "--max-concurrent",
            "2",
            "--sweep-id",
            "cli-local",
            "--json",
            "--store",
            store.url,
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured
    summary = json.loads(captured.out)
    assert summary["status"] == FINISHED and summary["finished"] == 1 and summary["backend"] == "local"
    assert "sweep cli-local: 1/1 done (1 finished" in captured.err  # the overall progress
    runs = store.list_runs(sweep_id="cli-local")
    assert [r.seed for r in runs] == [0]
    assert all(r.status == FINISHED and r.pid != os.getpid() for r in runs)  # ran in worker processes

    assert main(["sweep", "--sweep-id", "cli-local", "--json", "--store", store.url]) == 0  # resume: nothing to do
    again = json.loads(capsys.readouterr().out)
    assert again["skipped_finished"] == 1 and store.count_runs(sweep_id="cli-local") == 1

    assert main(["report", "cli-local", "--out", str(tmp_path / "rep"), "--json", "--store", store.url]) == 0
    written = json.loads(capsys.readouterr().out)
    assert (tmp_path / "rep" / "figure1.png").read_bytes()[:4] == b"\x89PNG"
    assert "| random | " in open(written["markdown"]).read()  # Table 1 row

    assert main(["sweeps", "--json", "--store", store.url]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["sweep_id"] == "cli-local" and listed[0]["finished"] == 1


def test_background_sweep_can_be_cancelled(store):
    sweep = SweepConfig(
        base=RunConfig(epochs=30, save_embeddings="none"), grid={"classes": [5], "seeds": [0, 1, 2]}, max_concurrent=1
    )
    sweep_id, pid = launch_background(sweep, store, sweep_id="bg")
    deadline = time.monotonic() + 120
    while not any(r.status == RUNNING and r.pid for r in store.list_runs(sweep_id="bg")):
        assert time.monotonic() < deadline, "the background sweep never started a run"
        time.sleep(0.3)
    state = cancel_sweep(store, sweep_id, grace_s=2)  # a worker still starting up is killed after 2 s
    assert state["status"] == CANCELLED and not state["active"]
    runs = store.list_runs(sweep_id="bg")
    assert len(runs) == 3 and all(r.status not in ACTIVE for r in runs)
    assert all(r.status == CANCELLED for r in runs)  # 30 epochs take far longer than this test
    for _ in range(100):  # the driver sees the cancellation and exits
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the sweep driver is still running after the cancel")
    assert progress(store, "bg")["status"] == CANCELLED
