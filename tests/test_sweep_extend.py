"""More seeds for a finished sweep: `sweep --extend ID --seeds ...` trains the new runs into the same sweep and its
comparison; seeds already there are refused with one line and nothing changed; Compare's button does the same
through `sweep.add_seeds`."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from weakneg import comparison, paired_stats
from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.errors import ConfigError
from weakneg.store import FINISHED, QUEUED, RunStore
from weakneg.sweep import SweepConfig, with_seeds

ROOT = Path(__file__).resolve().parents[1]


def test_with_seeds_adds_new_seeds_and_refuses_repeats():
    sweep = SweepConfig(grid={"classes": [0], "samplers": ["random", "entropy"], "seeds": [0, 1]})
    assert with_seeds(sweep, [2, 3]).grid["seed"] == [0, 1, 2, 3]
    assert with_seeds(SweepConfig(grid={"classes": [0]}), [5]).grid["seed"] == [0, 5]  # the base seed was 0
    with pytest.raises(
        ConfigError, match=r"seeds 1 are already in this sweep \(its seeds: 0, 1\); add new ones, e.g. 2-3"
    ):
        with_seeds(sweep, [1, 7])
    with pytest.raises(ConfigError, match="repeat"):
        with_seeds(sweep, [4, 4])
    with pytest.raises(ConfigError, match="give the seeds to add"):
        with_seeds(sweep, [])


@pytest.mark.slow  # six real runs in worker processes
def test_extend_a_finished_sweep_from_the_cli(store, capsys):
    grid = ["--dataset", "digits", "--classes", "4", "--samplers", "random", "entropy", "--epochs", "1"]
    common = ["--max-concurrent", "2", "--json", "--store", store.url]
    assert (
        main(["sweep", *grid, "--set", "save_embeddings=none", "--seeds", "0", "1", "--sweep-id", "ext", *common]) == 0
    )
    capsys.readouterr()
    first = {r.id for r in store.list_runs(sweep_id="ext")}

    assert main(["sweep", "--extend", "ext", "--seeds", "2", *common]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert "sweep ext: 2 new runs for seeds 2" in captured.err
    assert summary["skipped_finished"] == 4 and summary["finished"] == 6 and summary["status"] == FINISHED
    runs = store.list_runs(sweep_id="ext")
    assert first < {r.id for r in runs} and sorted(r.seed for r in runs) == [0, 0, 1, 1, 2, 2]
    sweep = store.get_sweep("ext")
    assert sweep.config["grid"]["seed"] == [0, 1, 2] and sweep.n_runs == 6
    result = paired_stats.compare(comparison.runs_frame(store, sweep_id="ext"))
    assert result["classes"]["n_seeds"].tolist() == [3]  # the new seed joined the comparison

    # a seed the sweep has: one line, exit 2, nothing changed
    assert main(["sweep", "--extend", "ext", "--seeds", "2", "3", "--store", store.url]) == 2
    err = capsys.readouterr().err
    assert "seeds 2 are already in this sweep (its seeds: 0, 1, 2)" in err and len(err.strip().splitlines()) == 1
    assert store.get_sweep("ext").config["grid"]["seed"] == [0, 1, 2] and store.count_runs(sweep_id="ext") == 6
    # the grid is the sweep's own
    assert main(["sweep", "--extend", "ext", "--seeds", "3", "--classes", "5", "--store", store.url]) == 2
    assert "--extend takes only --seeds" in capsys.readouterr().err
    assert main(["sweep", "--extend", "nope", "--seeds", "3", "--store", store.url]) == 2
    assert "no sweep 'nope'" in capsys.readouterr().err


def _finished_sweep(store: RunStore) -> None:
    """Sweep 'done' (class 0, random and entropy, seed 0, 1 epoch) recorded as finished, runs exactly its grid's."""
    sweep = SweepConfig(
        base=RunConfig(epochs=1), grid={"classes": [0], "samplers": ["random", "entropy"], "seeds": [0]}
    )
    configs = sweep.expand()
    store.create_sweep("done", sweep.to_dict(), "local", len(configs))
    for cfg, ap in zip(configs, (0.4, 0.6)):
        run_id = store.create_run(cfg.to_dict(), sweep_id="done")
        store.start_run(run_id, target_name="0")
        store.add_epoch(run_id, 1, {"ap": ap, "auc": ap})
        store.finish_run(run_id, FINISHED)
    store.set_sweep_status("done", FINISHED)


def _compare_page(params: dict) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    app.switch_page("app_pages/compare.py")
    for key, value in params.items():
        app.query_params[key] = value
    return app.run()


def test_the_compare_button_adds_seeds_to_the_sweep(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")  # the driver queues the new runs; no training in this test
    store = RunStore()
    _finished_sweep(store)
    app = _compare_page({"sweep": "done"})
    assert not app.exception and "optional stopping" in app.warning[-1].value
    assert app.button(key="extend_sweep").disabled  # nothing typed yet
    app.text_input(key="extend_seeds").input("0").run()
    app.button(key="extend_sweep").click().run()
    assert "seeds 0 are already in this sweep" in app.error[0].value
    assert store.get_sweep("done").config["grid"]["seed"] == [0]  # refused: nothing changed
    app.text_input(key="extend_seeds").input("1-2").run()
    app.button(key="extend_sweep").click().run()
    assert not app.exception and "4 new runs queued in sweep done" in app.success[0].value
    sweep = store.get_sweep("done")
    assert sweep.config["grid"]["seed"] == [0, 1, 2] and sweep.n_runs == 6
    assert sweep.stored_status in (QUEUED, "running")  # its background driver takes it from here


def test_a_read_only_server_offers_no_seeds(monkeypatch):
    monkeypatch.setenv("WEAKNEG_READONLY", "1")
    store = RunStore()
    _finished_sweep(store)
    app = _compare_page({"sweep": "done"})
    assert not app.exception and app.button(key="extend_sweep").disabled
    assert app.text_input(key="extend_seeds").disabled
