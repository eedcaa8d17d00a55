"""Store creation is atomic (issue 26 item 2): any number of processes opening a new store at once all succeed,
each can write at once, and the store ends with one schema at the newest revision and one id. 16 processes per
fresh store, 20 fresh stores (forked from this process, which has the modules imported: each child only opens
the store and records a run); then a few real concurrent first `run`s on a fresh store."""

import multiprocessing
import subprocess
import sys

import pytest

from weakneg import migrations
from weakneg.store import RunStore

WORKERS, ROUNDS = 16, 20


def open_and_record(url: str, queue) -> None:
    try:
        store = RunStore(url)
        run_id = store.create_run({"dataset": "digits", "seed": 0})
        queue.put(("ok", store.store_id, run_id))
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which fails the test with it
        queue.put(("error", f"{type(error).__name__}: {error}", None))


def test_sixteen_processes_create_one_store_twenty_times(tmp_path):
    fork = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'fresh{round_}.db'}"
        queue = fork.Queue()
        children = [fork.Process(target=open_and_record, args=(url, queue)) for _ in range(WORKERS)]
        for child in children:
            child.start()
        outcomes = [queue.get(timeout=120) for _ in children]
        for child in children:
            child.join(timeout=60)
        errors = [message for kind, message, _ in outcomes if kind == "error"]
        assert errors == [], f"round {round_}: {errors[:3]}"
        assert [child.exitcode for child in children] == [0] * WORKERS
        assert len({store_id for _, store_id, _ in outcomes}) == 1  # one store, made once
        assert sorted(run_id for _, _, run_id in outcomes) == list(range(1, WORKERS + 1))
        store = RunStore(url)
        assert migrations.current(store.engine) == migrations.head() and store.count_runs() == WORKERS


@pytest.mark.slow
def test_concurrent_first_runs_on_a_fresh_store_all_finish(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    command = [sys.executable, "-m", "weakneg", "run", "--dataset", "digits", "--target-class", "3"]
    command += ["--epochs", "1", "--save-embeddings", "none", "--store", url, "--json"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0] * 4, [err[-300:] for _, err in results]
    store = RunStore(url)
    assert sorted(r.status for r in store.list_runs()) == ["finished"] * 4
