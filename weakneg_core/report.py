"""A sweep's comparison written to a folder: CSV tables, a Markdown summary and a PNG of the per-class deltas."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import comparison, paths
from .errors import WeaknegError
from .store import RunStore


def write_report(store: RunStore, sweep_id: str, out: str | Path | None = None) -> dict[str, Path]:
    """Write runs.csv, per_class.csv, delta_vs_random.csv, wins.csv, cost.csv, table1.csv, report.md and
    delta_chart.png into `out` (default $WEAKNEG_HOME/reports/<sweep id>). Returns name -> path."""
    sweep = store.get_sweep(sweep_id)
    if sweep is None:
        raise WeaknegError(f"no sweep {sweep_id!r} in {store.url}; `python -m weakneg_core sweeps` lists them")
    frame = comparison.runs_frame(store, sweep_id=sweep_id)
    if frame.empty:
        raise WeaknegError(f"sweep {sweep_id!r} has no finished runs yet; `python -m weakneg_core sweeps` shows "
                           f"its progress")
    folder = Path(out) if out else paths.home() / "reports" / sweep_id
    folder.mkdir(parents=True, exist_ok=True)
    delta = comparison.delta_vs_random(frame)
    tables = {"runs": frame, "per_class": comparison.per_class(frame), "delta_vs_random": delta,
              "wins": comparison.wins(delta), "cost": comparison.cost(frame), "table1": comparison.table1(frame)}
    written: dict[str, Path] = {}
    for name, table in tables.items():
        written[name] = folder / f"{name}.csv"
        table.to_csv(written[name], index=False)
    written["chart"] = delta_chart(delta, folder / "delta_chart.png", title=f"sweep {sweep_id}: delta vs random")
    written["markdown"] = folder / "report.md"
    written["markdown"].write_text(markdown(sweep, tables, written["chart"].name))
    return written


def delta_chart(delta: pd.DataFrame, path: Path, title: str = "delta vs random") -> Path:
    """Grouped bars: per class, each sampler's mean delta AP and AUC vs random over seeds (error bar: std)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, safe in any process
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, 1.0 + 0.9 * _n_classes(delta)), 7), sharex=True)
    if delta.empty:
        axes[0].text(0.5, 0.5, "no sampler has a random run to compare with", ha="center", transform=axes[0].transAxes)
    else:
        summary = (delta.groupby(["target_class", "target_name", "sampler"])[["delta_ap", "delta_auc"]]
                   .agg(["mean", "std"]).reset_index())
        classes = summary[["target_class", "target_name"]].drop_duplicates().sort_values("target_class")
        samplers = sorted(summary["sampler"].unique())
        width = 0.8 / len(samplers)
        x = np.arange(len(classes))
        for ax, metric in zip(axes, ("delta_ap", "delta_auc")):
            for i, sampler in enumerate(samplers):
                rows = summary[summary["sampler"] == sampler].set_index("target_class").reindex(classes["target_class"])
                ax.bar(x + (i - (len(samplers) - 1) / 2) * width, rows[(metric, "mean")].to_numpy(), width,
                       yerr=rows[(metric, "std")].fillna(0).to_numpy(), capsize=2, label=sampler)
            ax.axhline(0, color="black", linewidth=0.8)
            ax.set_ylabel(f"{metric.replace('delta_', '').upper()} - random")
        axes[1].set_xticks(x, [str(n) for n in classes["target_name"]], rotation=30, ha="right")
        axes[0].legend(ncol=min(len(samplers), 5), fontsize="small")
    axes[0].set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _n_classes(delta: pd.DataFrame) -> int:
    return max(1, delta["target_class"].nunique()) if not delta.empty else 1


def markdown(sweep: dict, tables: dict[str, pd.DataFrame], chart_name: str) -> str:
    frame, per_class = tables["runs"], tables["per_class"]
    config = sweep["config"] or {}
    lines = [f"# Sweep {sweep['id']}", "",
             f"Status **{sweep['status']}** on the `{sweep['backend']}` backend; {len(frame)} finished runs of "
             f"{sweep['n_runs']}. Dataset(s): {', '.join(sorted(map(str, frame['dataset'].unique())))}; "
             f"epochs: {', '.join(map(str, sorted(frame['epochs'].unique())))}; "
             f"seeds: {', '.join(map(str, sorted(frame['seed'].unique())))}.", "",
             f"Grid: `{_compact(config.get('grid', {}))}`", "",
             "## Samplers (paper Table 1 style: means over classes of the per-class means over seeds)", "",
             md_table(tables["table1"]), "",
             "## Wins vs random (mean delta over seeds > 0)", "", md_table(tables["wins"]), "",
             f"![per-class delta vs random]({chart_name})", "",
             "## Per class: AP mean ± std over seeds", "", md_table(_ap_pivot(per_class)), "",
             "## Cost per sampler (seconds)", "", md_table(tables["cost"]), ""]
    return "\n".join(lines)


def _ap_pivot(per_class: pd.DataFrame) -> pd.DataFrame:
    if per_class.empty:
        return per_class
    cells = per_class.assign(cell=[f"{m:.3f} ± {s:.3f}" if not math.isnan(s) else f"{m:.3f}"
                                   for m, s in zip(per_class["ap_mean"], per_class["ap_std"])])
    return cells.pivot_table(index=["target_class", "target_name"], columns="sampler", values="cell",
                             aggfunc="first").reset_index()


def _compact(grid: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in grid.items())


def md_table(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table (no extra dependency)."""
    if frame.empty:
        return "_(nothing to show)_"

    def cell(value) -> str:
        if isinstance(value, float):
            return "-" if math.isnan(value) else f"{value:.4g}"
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])
