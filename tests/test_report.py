"""report.py on a hand-built sweep: the files exist, hold the comparison's numbers, and the chart is a PNG."""

import pandas as pd
import pytest

from weakneg_core.config import RunConfig
from weakneg_core.errors import WeaknegError
from weakneg_core.report import md_table, write_report
from weakneg_core.store import FINISHED
from weakneg_core.sweep import SweepConfig

AP = {(0, "random"): 0.40, (0, "entropy"): 0.50, (1, "random"): 0.70, (1, "entropy"): 0.60}


@pytest.fixture
def sweep_store(store):
    sweep = SweepConfig(grid={"classes": [0, 1], "samplers": ["random", "entropy"]})
    store.create_sweep("rep", sweep.to_dict(), "local", 4)
    for (cls, sampler), ap in AP.items():
        run_id = store.create_run(RunConfig(target_class=cls, sampler=sampler, epochs=1).to_dict(), sweep_id="rep")
        store.start_run(run_id, target_name=f"c{cls}")
        store.add_epoch(run_id, 1, {"ap": ap, "auc": ap + 0.1, "dprime": 0.5, "t_score": 0.2, "t_select": 0.1,
                                    "t_train": 1.0, "t_eval": 0.1})
        store.finish_run(run_id, FINISHED)
    store.update_sweep("rep", status=FINISHED)
    return store


def test_report_files_hold_the_comparison(sweep_store, tmp_path):
    written = write_report(sweep_store, "rep", tmp_path / "out")
    assert set(written) == {"runs", "per_class", "delta_vs_random", "wins", "cost", "table1", "chart", "markdown"}
    delta = pd.read_csv(written["delta_vs_random"]).set_index("target_class")
    assert delta.loc[0, "delta_ap"] == pytest.approx(0.10) and delta.loc[1, "delta_ap"] == pytest.approx(-0.10)
    wins = pd.read_csv(written["wins"])
    assert wins.loc[0, "summary"] == "improved AP in 1 of 2 classes"
    assert written["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = written["markdown"].read_text()
    assert "# Sweep rep" in text and "improved AP in 1 of 2 classes" in text and "delta_chart.png" in text
    assert "| 0 | c0 | 0.500 | 0.400 |" in text  # per-class AP pivot: entropy, random columns (one seed: no ±)
    assert len(pd.read_csv(written["runs"])) == 4


def test_report_errors_are_one_line(store):
    with pytest.raises(WeaknegError, match="no sweep 'nope'"):
        write_report(store, "nope")
    store.create_sweep("empty", SweepConfig().to_dict(), "local", 0)
    with pytest.raises(WeaknegError, match="no finished runs yet"):
        write_report(store, "empty")


def test_markdown_table_escapes_and_formats():
    table = md_table(pd.DataFrame({"a": ["x|y"], "b": [0.123456], "c": [float("nan")]}))
    assert table.splitlines() == ["| a | b | c |", "|---|---|---|", "| x\\|y | 0.1235 | - |"]
