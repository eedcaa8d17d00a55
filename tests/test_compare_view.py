"""What Compare draws and writes, checked without a browser: Figure 1 in class order in every panel, curves ticked
at whole epochs, tables that say why an interval or a rank test is missing (never None), both claims in words."""

import pandas as pd

from weakneg import comparison, curves, paired_stats
from weakneg.views import compare as view

from compare_support import record, truth_store


def _result(store):
    return paired_stats.compare(comparison.runs_frame(store), "ap")


def test_figure1_orders_classes_by_class_in_every_panel(store):
    # class 1 gains most, class 0 least: sorting by the difference would draw 0, 2, 1 or 1, 2, 0
    for cls, lift in ((0, 0.01), (1, 0.05), (2, 0.03)):
        for seed in (0, 1):
            record(store, "random", cls, seed, 0.5)
            record(store, "badge", cls, seed, 0.5 + lift + 0.002 * seed)
            record(store, "entropy", cls, seed, 0.5 - lift + 0.002 * seed)
    figure = view.delta_figure(_result(store))
    assert [list(trace.x) for trace in figure.data] == [["digit 0", "digit 1", "digit 2"]] * 2
    assert figure.layout.xaxis.categoryarray == ("digit 0", "digit 1", "digit 2")


def test_curves_tick_whole_epochs_only(store):
    for seed in (0, 1):
        record(store, "random", 0, seed, 0.6, curve=[0.4, 0.5])
    frame = comparison.runs_frame(store)
    figure = view.curves_figure(curves.curves(curves.epoch_frame(store, frame), "ap"), "AP")
    axis = figure.layout.xaxis
    assert axis.tick0 == 1 and axis.dtick == 1 and axis.tickformat == "d"  # 3 epochs: ticks 1, 2, 3, never 1.5


def test_tables_say_why_a_number_is_missing(store):
    truth_store(store, effect=0.02, classes=4, seeds=3, rng_seed=2)
    record(store, "random", 5, 0, 0.5)  # a fifth class with one seed: no interval for it
    record(store, "badge", 5, 0, 0.52)
    result = _result(store)
    table = view.sampler_table(result)
    row = table.iloc[0]
    assert row["sign test p"] == row["Wilcoxon p"] == "cannot decide (smallest p 0.0625)"  # 5 classes: 2^-4
    assert row["these classes: mean ΔAP [95% CI]"].count("[") == 1
    assert not table.astype(str).isin(["None", "nan", "NaN"]).any().any()
    classes = view.class_table(result)
    assert classes.set_index("class").loc["digit 5", "95% CI"] == "one seed: no interval"
    assert not classes.astype(str).isin(["None", "nan", "NaN"]).any().any()


def test_verdict_lines_name_each_claim_and_what_it_would_take(store):
    truth_store(store, effect=0.02, classes=4, seeds=3, rng_seed=2)
    result = _result(store)
    (line,) = view.verdict_lines(result)
    row = result["samplers"].iloc[0]
    assert f"on **these 4 classes**: **{row['these_classes_verdict']}**" in line
    assert "on **new classes** like these: **too few classes** (4 compared, 5 needed" in line
    assert f"{row['seeds_needed_0.01']} seeds per class on these classes" in line
    assert f"{row['seeds_per_class_0.01']} for each class's own verdict, Holm counted" in line


def test_interval_text():
    assert view.interval_text(0.0123, 0.004, 0.0206) == "+0.0123 [+0.0040, +0.0206]"
    assert view.interval_text(0.01, float("nan"), float("nan")).startswith("+0.0100 (no interval")
    assert view.interval_text(float("nan"), float("nan"), float("nan")) == "-"
    assert view.next_seeds(pd.DataFrame({"seed": [0, 1, 3]})) == "4-7"


def test_seeds_needed_agree_with_the_interval_beside_them(store):
    """The old page printed "2 seeds give 80% power at ΔAP 0.01" beside an interval of ± 0.04: the seeds needed
    now come from the same pooled seed SD as the these-classes interval, so a half-width above 0.01 at n seeds
    asks for more than n seeds."""
    truth_store(store, effect=0.0, classes=4, seeds=3, seed_sd=0.03, rng_seed=6)
    row = _result(store)["samplers"].iloc[0]
    half = (row["these_classes_ci_high"] - row["these_classes_ci_low"]) / 2
    assert half > 0.01 and row["seeds_needed_0.01"] > 3


def test_class_names_holding_markup_are_drawn_as_written(store):
    """Plotly renders tags in labels and titles: a class named like a link must show as text, not become one."""
    name = '<a href="https://evil.example">cat</a> <b>x</b>'
    for seed in (0, 1):
        record(store, "random", 0, seed, 0.6, curve=[0.4, 0.5])
        record(store, "badge", 0, seed, 0.62 + 0.01 * seed, curve=[0.45, 0.55])
    result = _result(store)
    result["classes"]["class"] = name
    escaped = '&lt;a href="https://evil.example"&gt;cat&lt;/a&gt; &lt;b&gt;x&lt;/b&gt;'
    assert list(view.delta_figure(result).data[0].x) == [escaped]
    table = curves.curves(curves.epoch_frame(store, comparison.runs_frame(store)), "ap").assign(target_name=name)
    assert [a.text for a in view.curves_figure(table, "AP").layout.annotations] == [escaped]
