"""report.py on a hand-built sweep: the files exist, hold paired_stats' numbers, and the charts are PNGs."""

import pandas as pd
import pytest

from weakneg import comparison, paired_stats
from weakneg.errors import WeaknegError
from weakneg.report import md_table, write_report
from weakneg.store import FINISHED
from weakneg.sweep import SweepConfig

from compare_support import record

# (class, sampler) -> final AP per seed 0, 1, 2; curves rise by 0.1 per epoch to it over 3 epochs
AP = {
    (0, "random"): [0.40, 0.42, 0.44],
    (0, "entropy"): [0.50, 0.53, 0.53],
    (0, "full"): [0.60, 0.60, 0.60],
    (1, "random"): [0.70, 0.72, 0.74],
    (1, "entropy"): [0.60, 0.61, 0.66],
}


@pytest.fixture
def sweep_store(store):
    store.create_sweep("rep", SweepConfig(grid={"classes": [0, 1]}).to_dict(), "local", 15)
    for (cls, sampler), values in AP.items():
        for seed, ap in enumerate(values):
            record(store, sampler, cls, seed, ap, sweep_id="rep", curve=[ap - 0.2, ap - 0.1])
    store.set_sweep_status("rep", FINISHED)
    return store


def test_report_files_hold_the_comparison(sweep_store, tmp_path):
    written = write_report(sweep_store, "rep", tmp_path / "out")
    assert {
        "runs",
        "per_class",
        "table1",
        "cost",
        "curves",
        "time_to_full",
        "deltas_ap",
        "classes_ap",
        "samplers_ap",
        "deltas_auc",
        "classes_auc",
        "samplers_auc",
        "figure1",
        "curves_chart",
        "markdown",
    } == set(written)
    expected = paired_stats.compare(comparison.runs_frame(sweep_store, sweep_id="rep"), "ap")
    classes = pd.read_csv(written["classes_ap"])
    assert set(classes["sampler"]) == {"entropy", "full"}  # full is compared with random too
    classes = classes[classes["sampler"] == "entropy"].set_index("target_class")
    # class 0: entropy - random = 0.10, 0.11, 0.09 -> mean 0.10; class 1: -0.10, -0.11, -0.08 -> -0.0967
    assert classes.loc[0, "delta_mean"] == pytest.approx(0.10) and classes.loc[1, "delta_mean"] == pytest.approx(
        -0.29 / 3
    )
    assert pd.read_csv(written["classes_ap"])["p_adjusted"].tolist() == pytest.approx(
        expected["classes"]["p_adjusted"].tolist(), nan_ok=True
    )
    samplers = pd.read_csv(written["samplers_ap"])
    for claim in ("these_classes", "new_classes"):
        assert samplers[f"{claim}_verdict"].tolist() == expected["samplers"][f"{claim}_verdict"].tolist()
        assert samplers[f"{claim}_p"].tolist() == pytest.approx(
            expected["samplers"][f"{claim}_p"].tolist(), nan_ok=True
        )
    assert written["figure1"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert written["curves_chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = written["markdown"].read_text(encoding="utf-8")
    assert "# Sweep rep" in text and "figure1.png" in text and "curves.png" in text
    assert expected["samplers"].loc[0, "summary"] in text
    assert "on **these 2 classes**" in text and "on **new classes** like these: **too few classes**" in text
    assert "| random |" in text and "0.420 ± 0.050" in text  # Table 1: 0.42 +- 4.3027 * 0.02 / sqrt(3)
    reach = pd.read_csv(written["time_to_full"]).set_index("sampler")
    # full's final AP 0.60 -> target 0.57; entropy's mean curve at class 0: 0.32, 0.42, 0.52: never; full: epoch 3
    assert reach.loc["full", "first_epoch"] == 3 and pd.isna(reach.loc["entropy", "first_epoch"])
    assert len(pd.read_csv(written["runs"])) == 15


def test_report_errors_are_one_line(store):
    with pytest.raises(WeaknegError, match="no sweep 'nope'"):
        write_report(store, "nope")
    store.create_sweep("empty", SweepConfig().to_dict(), "local", 0)
    with pytest.raises(WeaknegError, match="no finished runs yet"):
        write_report(store, "empty")


def test_markdown_table_escapes_and_formats():
    table = md_table(pd.DataFrame({"a": ["x|y"], "b": [0.123456], "c": [float("nan")]}))
    assert table.splitlines() == ["| a | b | c |", "|---|---|---|", "| x\\|y | 0.1235 | - |"]
