"""A sweep's comparison written to a folder: CSV tables, a Markdown summary, Figure 1 (PNG) and curves (PNG).
The numbers are paired_stats.compare's, the same the `compare` command and the Compare page show."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import comparison, curves, paired_stats, paths
from .errors import WeaknegError
from .store import RunStore, SweepRecord
from .views import compare as compare_view

METRICS = ("ap", "auc")


def write_report(store: RunStore, sweep_id: str, out: str | Path | None = None) -> dict[str, Path]:
    """Write runs.csv, per_class.csv, table1.csv, cost.csv, deltas_<m>.csv, classes_<m>.csv, samplers_<m>.csv
    (m = ap, auc), curves.csv, time_to_full.csv, figure1.png, curves.png and report.md into `out` (default
    $WEAKNEG_HOME/reports/<sweep id>). Returns name -> path."""
    sweep = store.get_sweep(sweep_id)
    if sweep is None:
        raise WeaknegError(f"no sweep {sweep_id!r} in {store.url}; `python -m weakneg sweeps` lists them")
    frame = comparison.runs_frame(store, sweep_id=sweep_id)
    if frame.empty:
        raise WeaknegError(
            f"sweep {sweep_id!r} has no finished runs yet; `python -m weakneg sweeps` shows its progress"
        )
    folder = Path(out) if out else paths.home() / "reports" / sweep_id
    folder.mkdir(parents=True, exist_ok=True)
    results = {m: paired_stats.compare(frame, m) for m in METRICS}
    epochs = curves.epoch_frame(store, frame)
    tables = {
        "runs": frame,
        "per_class": comparison.per_class(frame),
        "table1": comparison.table1(frame),
        "cost": comparison.cost(frame),
        "curves": curves.curves(epochs, "ap"),
        "time_to_full": curves.time_to_full(epochs),
    }
    for m, result in results.items():
        tables.update(
            {f"deltas_{m}": result["deltas"], f"classes_{m}": result["classes"], f"samplers_{m}": result["samplers"]}
        )
    written: dict[str, Path] = {}
    for name, table in tables.items():
        written[name] = folder / f"{name}.csv"
        table.to_csv(written[name], index=False)
    written["figure1"] = figure1(results["ap"]["classes"], folder / "figure1.png", "ap", title=f"sweep {sweep_id}")
    written["curves_chart"] = curves_chart(tables["curves"], folder / "curves.png", "ap")
    written["markdown"] = folder / "report.md"
    written["markdown"].write_text(
        markdown(sweep, frame, results, tables, written["figure1"].name, written["curves_chart"].name), encoding="utf-8"
    )
    return written


def figure1(classes: pd.DataFrame, path: Path, metric: str = "ap", title: str = "") -> Path:
    """The paper's Figure 1 with intervals: per setting and sampler, each class's mean paired difference vs
    random with its 95% t-interval (error bars; a hollow marker where one seed gives no interval), classes in
    class order in every panel, "better in N of M classes" in the panel title."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, safe in any process
    import matplotlib.pyplot as plt

    panels = list(classes.groupby(["setting", "sampler"])) if not classes.empty else []
    width = max(7.0, 1.5 + 0.45 * (classes["class"].nunique() if not classes.empty else 1))
    fig, axes = plt.subplots(max(1, len(panels)), 1, figsize=(width, 3.4 * max(1, len(panels))), squeeze=False)
    if not panels:
        axes[0, 0].text(
            0.5, 0.5, "no sampler has a random run to pair with", ha="center", transform=axes[0, 0].transAxes
        )
    for ax, ((setting, sampler), rows) in zip(axes[:, 0], panels):
        rows = rows.sort_values("target_class").reset_index(drop=True)
        x = np.arange(len(rows))
        lower = (rows["delta_mean"] - rows["ci_low"]).to_numpy(dtype=float)
        upper = (rows["ci_high"] - rows["delta_mean"]).to_numpy(dtype=float)
        has = ~np.isnan(lower)
        ax.errorbar(
            x[has],
            rows["delta_mean"][has],
            yerr=[lower[has], upper[has]],
            fmt="o",
            capsize=3,
            color="#1d4ed8",
            label="mean ± 95% t-interval over seeds",
        )
        if (~has).any():
            ax.plot(x[~has], rows["delta_mean"][~has], "o", mfc="none", color="#64748b", label="one seed: no interval")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(x, [str(c) for c in rows["class"]], rotation=30, ha="right")
        ax.set_ylabel(f"{metric.upper()} - random")
        better = int((rows["verdict"] == paired_stats.BETTER).sum())
        ax.set_title(
            f"{title + ': ' if title else ''}{sampler} [{setting}]\nbetter in {better} of {len(rows)} "
            f"classes (Holm-adjusted paired t-test)",
            fontsize="medium",
        )
        ax.legend(fontsize="small", loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def curves_chart(table: pd.DataFrame, path: Path, metric: str = "ap") -> Path:
    """Per class and setting (one panel each), per sampler: the mean curve over runs and a
    band of ± 1 SD; the legend says how many runs each band holds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(table.groupby(["setting", "target_name"]).groups) if not table.empty else []
    cols = min(4, max(1, len(keys)))
    rows = max(1, math.ceil(len(keys) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 3.0 * rows), squeeze=False)
    for ax, (setting, name) in zip(axes.flat, keys):
        panel = table[(table["setting"] == setting) & (table["target_name"] == name)]
        for sampler, line in panel.groupby("sampler"):
            ax.plot(line["epoch"], line["mean"], marker=".", label=f"{sampler} (n={int(line['runs'].max())})")
            ax.fill_between(line["epoch"], line["low"], line["high"], alpha=0.2)
        several = table["setting"].nunique() > 1
        ax.set_title(f"{name} [{setting}]" if several else str(name), fontsize="medium")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"test {metric.upper()}")
        ax.legend(fontsize="x-small")
    for ax in axes.flat[len(keys) :]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def markdown(
    sweep: SweepRecord,
    frame: pd.DataFrame,
    results: dict,
    tables: dict[str, pd.DataFrame],
    figure_name: str,
    curves_name: str,
) -> str:
    ap = results["ap"]
    lines = [
        f"# Sweep {sweep.id}",
        "",
        f"Status **{sweep.status}** on the `{sweep.backend}` backend; {len(frame)} finished runs of "
        f"{sweep.n_runs}. Seeds: {', '.join(map(str, sorted(frame['seed'].unique())))}.",
        "",
    ]
    if ap["notice"]:
        lines += [f"**{ap['notice']}**", ""]
    if ap["unpaired_runs"]:
        lines += [
            f"Runs with no `random` run of the same setting, class and seed (left out of the paired "
            f"statistics): {', '.join(map(str, ap['unpaired_runs']))}.",
            "",
        ]
    for metric, result in results.items():
        label = metric.upper()
        lines += [f"## {label} vs random, per sampler", "", md_table(compare_view.sampler_table(result)), ""]
        lines += [" ".join(compare_view.CLAIM_WORDS.values()), ""]
        lines += [f"- {line}" for line in compare_view.verdict_lines(result)]
        lines += [
            "",
            f"## {label} vs random, per class (paired over seeds; Holm over classes)",
            "",
            md_table(compare_view.class_table(result)),
            "",
        ]
    lines += [
        f"![Figure 1: per-class ΔAP vs random with 95% intervals]({figure_name})",
        "",
        "## Table 1: AP and AUC per class (mean ± 95% t-interval half-width over seeds)",
        "",
        md_table(tables["table1"]),
        "",
        "## Curves: test AP per epoch (mean ± 1 SD over runs)",
        "",
        f"![curves]({curves_name})",
        "",
    ]
    if not tables["time_to_full"].empty:
        lines += [
            "## Epoch at which each sampler first reaches 95% of `full`'s final AP",
            "",
            md_table(tables["time_to_full"]),
            "",
        ]
    lines += [
        "## Cost per sampler (seconds per epoch; extra vs random paired by setting, class and seed)",
        "",
        md_table(tables["cost"]),
        "",
    ]
    return "\n".join(lines)


def md_table(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table (no extra dependency)."""
    if frame.empty:
        return "_(nothing to show)_"

    def cell(value) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return "-" if math.isnan(value) else f"{value:.4g}"
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])
