"""MIL checks in the server's process (the read-only demo) are bounded: one at a time per process, a second
visitor refused with a message instead of a second training; a result already computed for the same settings
(by a visitor, by the `milcheck` command, or as a job) is served without training again."""

import json
import threading

import pytest

from weakneg import milcheck
from weakneg.cli import main
from weakneg.milcheck import here
from weakneg.store import FINISHED


def fake_result(settings, marker="computed"):
    return {
        "settings": settings.to_dict(),
        "marker": marker,
        "tests": [{"test": name, "verdict": "respects"} for name in milcheck.TESTS],
    }


def test_a_second_check_while_one_runs_is_refused_and_a_kept_result_is_served(tmp_path):
    first = milcheck.CheckSettings(head="softmax_max", seed=1)
    second = milcheck.CheckSettings(head="mean_softmax", seed=1)
    started, release, calls, outcome = threading.Event(), threading.Event(), [], {}

    def slow(settings):  # stands in for ~10 s of training; blocks until the test lets it finish
        calls.append(settings.head)
        started.set()
        assert release.wait(30)
        return fake_result(settings)

    visitor = threading.Thread(target=lambda: outcome.update(first=here.run_here(first, tmp_path, compute=slow)))
    visitor.start()
    try:
        assert started.wait(30)
        with pytest.raises(milcheck.Busy, match="try again in a minute"):
            here.run_here(second, tmp_path, compute=slow)
        with pytest.raises(milcheck.Busy):  # the same settings too: nothing is kept until the first ends
            here.run_here(first, tmp_path, compute=slow)
    finally:
        release.set()
        visitor.join(30)
    assert calls == ["softmax_max"]  # the refused requests never trained
    result, reused = outcome["first"]
    assert result["marker"] == "computed" and reused is False

    def must_not_run(settings):
        raise AssertionError("a kept result was computed again")

    again, reused = here.run_here(first, tmp_path, compute=must_not_run)
    assert reused is True and again == result
    kept = json.loads((tmp_path / f"{here.settings_key(first)}.json").read_text())
    assert kept["settings"] == first.to_dict()  # on disk: a restarted server serves it too
    other_seed = milcheck.CheckSettings(head="softmax_max", seed=2)
    assert here.kept_result(other_seed, tmp_path) is None  # another seed is another result
    assert here.run_here(second, tmp_path, compute=fake_result)[1] is False  # free again after the first ended


def test_results_from_the_command_and_from_jobs_are_served(tmp_path, store, monkeypatch):
    monkeypatch.setattr(
        milcheck.check,
        "run_test",
        lambda name, settings: {
            "test": name,
            "verdict": "respects",
            "train_auc": 1,
            "clean_auc": 1,
            "test_auc": 1,
            "drop": 0,
            "tolerance": 0,
            "explanation": "-",
        },
    )
    assert main(["milcheck", "--head", "softmax_max", "--seed", "4"]) == 0  # the operator, before class
    settings = milcheck.CheckSettings(head="softmax_max", seed=4)
    assert here.kept_result(settings)["tests"][0]["verdict"] == "respects"
    assert main(["milcheck", "--head", "attention", "--seed", "4", "--test", "poison"]) == 0
    assert here.kept_result(milcheck.CheckSettings(head="attention", seed=4)) is None  # only part of the checks

    job = milcheck.CheckSettings(head="mean_softmax", seed=5)
    run_id = store.create_run(milcheck.job_config(job), kind="milcheck")
    store.start_run(run_id)
    store.finish_run(run_id, FINISHED, result=fake_result(job, marker="job"))
    assert here.kept_result(job, tmp_path, store)["marker"] == "job"
    assert here.kept_result(milcheck.CheckSettings(head="mean_softmax", seed=5, epochs=3), tmp_path, store) is None


def test_an_unwritable_cache_keeps_results_in_memory(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    settings = milcheck.CheckSettings(head="softmax_mean", seed=7)
    assert here.run_here(settings, blocked / "milcheck", compute=fake_result)[1] is False
    assert here.run_here(settings, blocked / "milcheck", compute=lambda s: 1 / 0)[1] is True


def test_results_kept_in_memory_are_bounded_oldest_first(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setattr(here, "KEPT_IN_MEMORY", 3)
    monkeypatch.setattr(here, "_kept", {})
    seeds = range(5)
    for seed in seeds:
        here.run_here(milcheck.CheckSettings(head="softmax_mean", seed=seed), blocked / "milcheck", compute=fake_result)
    kept = [
        here.kept_result(milcheck.CheckSettings(head="softmax_mean", seed=seed), blocked / "milcheck") for seed in seeds
    ]
    assert [k is not None for k in kept] == [False, False, True, True, True]
