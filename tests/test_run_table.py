"""The run table's logic without a browser: every config field and metric as a column, readable headers, '-' for
missing values, search by any field, names, tags and notes, archive, delete (rows and artifacts; a running run
is cancelled first), and read-only mode refusing every change."""

import subprocess
import time

import numpy as np
import pytest
from app_support import record_runs

from weakneg import jobs, limits, run_actions, views
from weakneg.config import RunConfig
from weakneg.errors import ConfigError
from weakneg.store import CANCELLED, RUNNING


@pytest.fixture
def lab(store):
    ids = record_runs(store, 8)
    return store, ids


def test_rows_carry_config_and_metrics_and_display_dash_for_missing(lab):
    store, ids = lab
    queued = store.create_run(
        RunConfig(
            dataset="digits", target_class=2, sampler="badge", sampler_params={"label": "known"}, lr=0.01
        ).to_dict()
    )
    rows = views.run_rows(store, more=True).set_index("id", drop=False)
    assert list(rows.columns) == views.ALL_COLUMNS
    assert rows.loc[queued, "params"] == '{"label": "known"}' and rows.loc[queued, "lr"] == 0.01
    assert np.isnan(rows.loc[queued, "ap"]) and rows.loc[ids[0], "ap"] == store.get_run(ids[0]).final_ap
    shown = views.display_rows(rows, ["name", "ap", "auc", "duration_s", "tags", "pn_ratio", "archived"])
    assert list(shown.columns) == ["name", "AP", "ROC-AUC", "duration", "tags", "P-N ratio", "archived"]
    assert shown.loc[queued, ["name", "AP", "ROC-AUC", "duration", "tags"]].tolist() == ["-"] * 5
    assert shown.loc[ids[0], "AP"] == f"{store.get_run(ids[0]).final_ap:.3f}"
    assert "None" not in shown.to_string() and "nan" not in shown.to_string()


def test_search_by_any_field_names_tags_and_numbers(lab):
    store, ids = lab
    run_actions.label_run(store, ids[2], name="first try", tags=["baseline", "digits"], notes="lr too high?")
    run_actions.add_tags(store, [ids[3], ids[2]], ["keep"])
    assert store.get_run(ids[2]).tags == ["baseline", "digits", "keep"]
    rows = views.run_rows(store, more=True)
    found = lambda query: sorted(views.search_runs(rows, query)["id"])  # noqa: E731
    assert found("tags:keep") == sorted([ids[2], ids[3]])
    assert found("tags:baseline keep") == [ids[2]]
    assert found("notes:high") == [ids[2]] and found("TRY") == [ids[2]]
    assert found("sampler:margin") == sorted(r.id for r in store.list_runs() if r.sampler == "margin")
    best = max(r.final_ap for r in store.list_runs())
    assert found(f"AP>={best}") == [r.id for r in store.list_runs() if r.final_ap == best]
    assert found("seed=0") == sorted(ids)
    with pytest.raises(ValueError, match="unknown field 'colour'"):
        found("colour:red")
    assert views.parse_tags(" a, b  c,,a ") == ["a", "b", "c"]


def test_names_are_checked_and_cleared(lab):
    store, ids = lab
    with pytest.raises(ConfigError, match="at most 200 characters"):
        run_actions.label_run(store, ids[0], name="x" * 201)
    run_actions.label_run(store, ids[0], name="  kept  ")
    assert store.get_run(ids[0]).name == "kept"
    run_actions.label_run(store, ids[0], name="")
    assert store.get_run(ids[0]).name is None
    with pytest.raises(ConfigError, match="no run 999"):
        run_actions.label_run(store, 999, name="x")


def test_archive_hides_and_delete_removes_rows_and_artifacts(lab):
    store, ids = lab
    run_actions.archive(store, [ids[0]])
    assert views.run_rows(store, more=True).set_index("id").loc[ids[0], "archived"]
    store.save_epoch_arrays(ids[1], 1, pool_ids=np.arange(3))
    store.add_selection(ids[1], 1, np.array([1, 2]), np.array([0.5, 0.4]))
    folder = store.run_dir(ids[1], create=False)
    assert folder.is_dir()
    assert run_actions.delete_runs(store, [ids[1]]) == [ids[1]]
    assert store.get_run(ids[1]) is None and not folder.exists() and store.epochs(ids[1]) == []
    assert len(store.selection(ids[1], 1)[0]) == 0


def test_deleting_a_sweeps_runs_keeps_its_progress_true(lab):
    from weakneg.sweep import progress

    store, ids = lab  # record_runs puts these 8 finished runs in sweep "lab-sweep"
    store.create_sweep("lab-sweep", {}, "local", n_runs=8)
    store.create_sweep("other", {}, "local", n_runs=3)
    alone = store.create_run(RunConfig(dataset="digits", target_class=1).to_dict())
    run_actions.delete_runs(store, [ids[0], ids[5], alone])
    state = progress(store, "lab-sweep")
    assert (state["n_runs"], state["done"], state["finished"]) == (6, 6, 6)  # 6/6 done, not 6/8
    assert store.get_sweep("other").n_runs == 3  # a run outside the sweep changes nothing there


def test_a_running_run_is_cancelled_before_it_is_deleted(store):
    run_id = store.create_run(RunConfig(dataset="digits", target_class=1).to_dict())
    worker = subprocess.Popen(["sleep", "60"], start_new_session=True)  # stands in for the run's worker process
    try:
        store.set_status(run_id, RUNNING, pid=worker.pid, heartbeat=time.time(), host=None)
        statuses = []

        def cancel(store_, id_):
            statuses.append(jobs.cancel(store_, id_, grace_s=0.3))
            return statuses[-1]

        run_actions.delete_runs(store, [run_id], cancel=cancel)
        assert statuses == [CANCELLED] and worker.wait(5) is not None  # the worker was killed
        assert store.get_run(run_id) is None
    finally:
        if worker.poll() is None:
            worker.kill()


def test_read_only_mode_refuses_every_change(lab, monkeypatch):
    store, ids = lab
    monkeypatch.setenv("WEAKNEG_READONLY", "1")
    for action in (
        lambda: run_actions.label_run(store, ids[0], name="x"),
        lambda: run_actions.archive(store, ids),
        lambda: run_actions.delete_runs(store, ids),
    ):
        with pytest.raises(limits.ReadOnly, match="read-only demo"):
            action()
    assert store.count_runs() == 8 and store.get_run(ids[0]).name is None
