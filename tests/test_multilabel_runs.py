"""Multi-label runs in the store: a worker killed before its checkpoint resumes to exactly the uninterrupted run;
`compare` pairs each class of a multi-label run with random's; `multilabel-vs-binary` puts a multi-label run
beside the one-class runs of the same setting and seed (AP per class, total cost)."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from weakneg import comparison, jobs, paired_stats
from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.store import FINISHED, LOCAL, RunStore
from weakneg.train import run_experiment
from weakneg.store.epoch_record import CLASSES_FILE
from weakneg.views.multilabel import side_by_side

ROOT = Path(__file__).resolve().parent.parent
CFG = RunConfig(dataset="digits", target_class="1,2,7", sampler="badge", epochs=3, bag_size=2, seed=4)

KILLER = """
import os, signal, sys
from weakneg import jobs, train

run_id, url = int(sys.argv[1]), sys.argv[2]
E = train.MultiLabelExperiment
checkpoint = E._checkpoint

def checkpointing(self, epoch, *rest):
    if epoch == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # epoch 2 is recorded (row and per-class file), its checkpoint is not
    checkpoint(self, epoch, *rest)

E._checkpoint = checkpointing
from weakneg.milcheck import jobs as _milcheck  # noqa: F401  (what the worker command imports)
sys.exit(jobs.worker_main(run_id, url))
"""


def outcome(store, run_id):
    run = store.get_run(run_id)
    epochs = [{k: v for k, v in e.to_dict().items() if not k.startswith("t_")} for e in store.epochs(run_id)]
    files = [store.load_arrays(run_id, CLASSES_FILE.format(epoch=e["epoch"])) for e in epochs]
    return run, epochs, files


@pytest.fixture
def maps_by_pca(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "1")


def test_a_killed_multilabel_worker_resumes_to_exactly_the_uninterrupted_run(store, maps_by_pca):
    reference = RunStore(store.url.replace("runs.db", "reference.db"))
    ref_id = jobs.submit(CFG, reference)
    jobs.wait(reference, [ref_id], timeout_s=600, poll_s=0.3)
    run_id = store.create_run(CFG.to_dict())
    assert store.claim_run(run_id, backend=LOCAL)
    log = open(store.run_dir(run_id) / "worker.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-c", KILLER, str(run_id), store.url], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    store.update_run(run_id, pid=process.pid)
    assert process.wait(timeout=600) == -signal.SIGKILL
    assert len(store.epochs(run_id)) == 2 and store.has_artifact(run_id, CLASSES_FILE.format(epoch=2))
    assert main(["resume", str(run_id), "--store", store.url]) == 0
    deadline = time.monotonic() + 600
    while store.get_run(run_id).stored_status not in (FINISHED, "failed") and time.monotonic() < deadline:
        time.sleep(0.5)  # what the worker writes (on a loaded machine the shown status can lag its start)
    assert "resumes after epoch 1" in (store.run_dir(run_id) / "worker.log").read_text()
    (run, epochs, files), (ref, ref_epochs, ref_files) = outcome(store, run_id), outcome(reference, ref_id)
    assert run.status == ref.status == FINISHED
    assert [{k: v for k, v in e.items() if k != "run_id"} for e in epochs] == [
        {k: v for k, v in e.items() if k != "run_id"} for e in ref_epochs
    ]
    assert run.result == ref.result and run.final_ap == ref.final_ap
    for got, want in zip(files, ref_files, strict=True):
        assert got.keys() == want.keys()
        for key in got:
            np.testing.assert_array_equal(got[key], want[key])


def test_compare_pairs_each_class_of_a_multilabel_run_and_puts_it_beside_one_class_runs(store, capsys):
    base = dict(dataset="digits", bag_size=2, epochs=2, save_embeddings="none", seed=0)
    ids = {}
    for sampler in ("random", "margin"):
        for target in ("1,2", "1,", "2,"):
            result = run_experiment(RunConfig(target_class=target, sampler=sampler, **base), store)
            assert result.status == FINISHED
            ids[sampler, target] = result.run_id
    frame = comparison.runs_frame(store)
    multi = frame[frame["setting"].str.contains("multilabel_classes=2")]
    assert len(multi) == 4 and set(multi["target_name"]) == {"1", "2"}  # two runs x two classes
    for sampler in ("random", "margin"):
        run = store.get_run(ids[sampler, "1,2"])
        for name in ("1", "2"):
            row = multi[(multi["sampler"] == sampler) & (multi["target_name"] == name)]
            assert row["ap"].item() == pytest.approx(run.result["per_class"][name]["ap"])
            assert row["target_class"].item() == int(name)
    deltas = comparison.paired_deltas(frame)
    multi_deltas = deltas[deltas["setting"].str.contains("multilabel_classes=2")]
    for name in ("1", "2"):
        want = (
            store.get_run(ids["margin", "1,2"]).result["per_class"][name]["ap"]
            - store.get_run(ids["random", "1,2"]).result["per_class"][name]["ap"]
        )
        assert multi_deltas[multi_deltas["target_name"] == name]["delta"].item() == pytest.approx(want)
    result = paired_stats.compare(frame, "ap")
    assert len(result["settings"]) == 2  # one model for two classes, and the one-class models: never averaged
    samplers = result["samplers"]
    assert len(samplers) == 2 and set(samplers["sampler"]) == {"margin"}  # each setting's claims stand alone
    for setting, group in deltas.groupby("setting"):
        mine = samplers[samplers["setting"] == setting]
        assert mine["classes"].item() == 2  # the two claims of a setting read only its own classes' differences
        assert mine["these_classes_mean_delta"].item() == pytest.approx(group["delta"].mean())
    assert main(["compare", "--store", store.url, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["settings"]) == 2

    view = side_by_side(store)
    assert set(view.classes["class"]) == {"1", "2"} and set(view.classes["kind"]) == {"one-class"}
    for r in view.classes.itertuples():
        one = store.get_run(r.run)
        assert one.result["per_class"][r[1]]["ap"] == pytest.approx(r.ap)
        assert r.delta == pytest.approx(r.multilabel_ap - r.ap)
    for r in view.cost.itertuples():
        runs = [store.get_run(ids[r.sampler, t]) for t in ("1,", "2,")]
        seconds = sum(x.finished_at - x.started_at for x in runs)
        own = store.get_run(r.multilabel_run)
        assert r.runs == 2 and r.runs_s == pytest.approx(seconds)
        assert r.ratio == pytest.approx(seconds / (own.finished_at - own.started_at))
    assert main(["multilabel-vs-binary", "--store", store.url]) == 0
    out = capsys.readouterr().out
    assert "AP per class" in out and "total cost" in out and "one-class" in out
    assert main(["multilabel-vs-binary", "--store", store.url, "--runs", str(ids["margin", "1,"])]) == 2
