"""What the Compare page shows: paired_stats.compare's numbers as readable tables and charts with intervals.
The page only lays these out; the CLI and the report show the same numbers (docs/definitions.md)."""

from __future__ import annotations

import pandas as pd

from .. import paired_stats

CLASS_LABELS = {
    "class": "class",
    "sampler": "sampler",
    "n_seeds": "paired seeds",
    "delta_mean": "mean Δ",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "p_value": "p (paired t)",
    "p_adjusted": "p (Holm)",
    "verdict": "verdict",
}
SAMPLER_LABELS = {
    "sampler": "sampler",
    "verdict": "verdict",
    "mean_delta": "mean Δ over classes",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "better": "better in",
    "worse": "worse in",
    "no_difference": "no detectable difference in",
    "too_few_seeds": "too few seeds in",
    "classes": "classes",
    "sign_test_p": "sign test p",
    "wilcoxon_p": "Wilcoxon p",
    "pooled_sd": "seed SD of Δ",
    "seeds_needed_0.01": "seeds for Δ 0.01",
    "seeds_needed_0.02": "seeds for Δ 0.02",
}


def sampler_table(result: dict) -> pd.DataFrame:
    """Per setting and sampler, with readable column names (the setting column only when there are several)."""
    table = result["samplers"]
    keep = (["setting"] if len(result["settings"]) > 1 else []) + list(SAMPLER_LABELS)
    return table[keep].rename(columns=SAMPLER_LABELS)


def class_table(result: dict) -> pd.DataFrame:
    table = result["classes"]
    keep = (["setting"] if len(result["settings"]) > 1 else []) + list(CLASS_LABELS)
    return table[keep].rename(columns=CLASS_LABELS)


def verdict_lines(result: dict) -> list[str]:
    """One sentence per sampler: the counts, the mean difference with its interval, the verdict, seeds needed."""
    metric = result["metric"].upper()
    lines = []
    for row in result["samplers"].to_dict("records"):
        where = f" [{row['setting']}]" if len(result["settings"]) > 1 else ""
        interval = "no interval" if pd.isna(row["ci_low"]) else f"95% CI {row['ci_low']:+.4f} to {row['ci_high']:+.4f}"
        needed = ", ".join(f"Δ{metric} {e}: {_count(row[f'seeds_needed_{e}'])}" for e in paired_stats.EFFECTS)
        lines.append(
            f"**{row['sampler']}**{where}: **{row['verdict']}** (mean Δ{metric} {row['mean_delta']:+.4f}, "
            f"{interval}); {row['summary']}. Seeds needed at 80% power: {needed}."
        )
    return lines


def delta_figure(result: dict):
    """Figure 1: per class, each sampler's mean paired Δ vs random with its 95% t-interval as error bars (points,
    not bars, so a difference inside the noise looks like one); classes sorted by the mean Δ."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    classes = result["classes"]
    metric = result["metric"].upper()
    panels = list(classes.groupby(["setting", "sampler"])) if not classes.empty else []
    titles = [
        f"{sampler}{' [' + setting + ']' if len(result['settings']) > 1 else ''}: better in "
        f"{int((rows['verdict'] == paired_stats.BETTER).sum())} of {len(rows)} classes"
        for (setting, sampler), rows in panels
    ]
    fig = make_subplots(rows=max(1, len(panels)), cols=1, subplot_titles=titles or None, vertical_spacing=0.12)
    for i, (_, rows) in enumerate(panels, start=1):
        rows = rows.sort_values("delta_mean")
        fig.add_trace(
            go.Scatter(
                x=[str(c) for c in rows["class"]],
                y=rows["delta_mean"],
                mode="markers",
                marker={"size": 9},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (rows["ci_high"] - rows["delta_mean"]).tolist(),
                    "arrayminus": (rows["delta_mean"] - rows["ci_low"]).tolist(),
                },
                customdata=rows[["n_seeds", "p_adjusted", "verdict"]].to_numpy(),
                showlegend=False,
                hovertemplate="%{x}: Δ %{y:+.4f}<br>%{customdata[0]} seeds, Holm p %{customdata[1]:.3g}<br>"
                "%{customdata[2]}<extra></extra>",
            ),
            row=i,
            col=1,
        )
        fig.add_hline(y=0, line_color="#334155", row=i, col=1)
        fig.update_yaxes(title_text=f"Δ{metric} vs random", row=i, col=1)
        fig.update_xaxes(type="category", row=i, col=1)
    fig.update_layout(height=120 + 280 * max(1, len(panels)), margin={"t": 40})
    return fig


def curves_figure(table: pd.DataFrame, label: str):
    """Mean curve per sampler with a ± 1 SD band, one panel per class; the legend says how many runs a band holds."""
    import plotly.graph_objects as go
    from plotly.colors import qualitative
    from plotly.subplots import make_subplots

    keys = list(table.groupby(["setting", "target_name"]).groups) if not table.empty else []
    cols = min(3, max(1, len(keys)))
    rows = max(1, -(-len(keys) // cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[str(name) for _, name in keys] or None)
    colours = {s: qualitative.Plotly[i % 10] for i, s in enumerate(sorted(table["sampler"].unique()))} if keys else {}
    traces, at_rows, at_cols = [], [], []  # added in one call: one add_trace per trace re-validates the figure
    for index, (setting, name) in enumerate(keys):
        r, c = index // cols + 1, index % cols + 1
        panel = table[(table["setting"] == setting) & (table["target_name"] == name)]
        for sampler, line in panel.groupby("sampler"):
            colour = colours[sampler]
            traces.append(
                go.Scatter(
                    x=list(line["epoch"]) + list(line["epoch"])[::-1],
                    y=list(line["high"]) + list(line["low"])[::-1],
                    fill="toself",
                    fillcolor=colour,
                    opacity=0.2,
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=sampler,
                )
            )
            traces.append(
                go.Scatter(
                    x=line["epoch"],
                    y=line["mean"],
                    mode="lines+markers",
                    line={"color": colour},
                    name=f"{sampler} (n={int(line['runs'].max())})",
                    legendgroup=sampler,
                    showlegend=index == 0,
                    customdata=line["runs"],
                    hovertemplate="epoch %{x}: %{y:.4f} (%{customdata} runs)<extra>" + sampler + "</extra>",
                )
            )
            at_rows += [r, r]
            at_cols += [c, c]
    if traces:
        fig.add_traces(traces, rows=at_rows, cols=at_cols)
    fig.update_yaxes(title_text=label, col=1)
    fig.update_layout(height=100 + 260 * rows, margin={"t": 40})
    return fig


def _count(value) -> str:
    return "-" if value is None or pd.isna(value) else str(int(value))
