"""What the Compare page shows: paired_stats.compare's numbers as readable tables and charts with intervals.
The page only lays these out; the CLI and the report show the same numbers (docs/definitions.md)."""

from __future__ import annotations

import html

import pandas as pd

from .. import claims, paired_stats

CLASS_LABELS = {
    "class": "class",
    "sampler": "sampler",
    "n_seeds": "paired seeds",
    "delta_mean": "mean Δ",
    "p_value": "p (paired t)",
    "p_adjusted": "p (Holm)",
    "verdict": "verdict",
}
CLAIM_WORDS = {
    "these_classes": (
        "**These classes**: is the sampler better on average over exactly the classes compared? The mean over "
        "classes of the per-class mean Δ, with a t built on the seed-to-seed spread pooled within classes. More "
        "seeds sharpen it; it says nothing about other classes."
    ),
    "new_classes": (
        "**New classes**: would it be better on classes like these, not yet tried? A t over the class means "
        f"(classes as a sample). It needs classes, not seeds: below {claims.MIN_CLASSES} classes it gives no verdict "
        "(`too few classes`)."
    ),
}
PEEKING_WARNING = (
    "Adding seeds after looking at a verdict, and stopping when it says better or worse, is optional stopping: "
    "looking after every seed from 2 to 10 calls a sampler that changes nothing better or worse in about 18% of "
    "comparisons, not 5% (simulated: 2, 4 or 10 classes). Decide the number of seeds first (the seeds needed "
    "above), then add them all at once, and read the verdict once."
)


def sampler_table(result: dict) -> pd.DataFrame:
    """Per setting and sampler, readable: both claims (verdict, mean Δ with its 95% interval as text, p), the
    per-class counts, the rank tests where they can decide (else their floor), and the seeds and classes needed.
    Intervals are text so that a missing one says why instead of showing None."""
    metric = result["metric"].upper()
    several = len(result["settings"]) > 1
    rows = []
    for r in result["samplers"].to_dict("records"):
        row = {"setting": r["setting"]} if several else {}
        row["sampler"] = r["sampler"]
        for claim, label in (("these_classes", "these classes"), ("new_classes", "new classes")):
            row[f"{label}: verdict"] = r[f"{claim}_verdict"]
            row[f"{label}: mean Δ{metric} [95% CI]"] = interval_text(
                r[f"{claim}_mean_delta"], r[f"{claim}_ci_low"], r[f"{claim}_ci_high"]
            )
            row[f"{label}: p"] = _p(r[f"{claim}_p"])
        row.update(
            {
                "better in": r["better"],
                "worse in": r["worse"],
                "no detectable difference in": r["no_difference"],
                "too few seeds in": r["too_few_seeds"],
                "classes": r["classes"],
                "sign test p": _rank_p(r["sign_test_p"], r["rank_test_floor"]),
                "Wilcoxon p": _rank_p(r["wilcoxon_p"], r["rank_test_floor"]),
                "seed SD of Δ": r["pooled_sd"],
            }
        )
        for e in paired_stats.EFFECTS:
            row[f"seeds per class, these classes, Δ {e}"] = _count(r[f"seeds_needed_{e}"])
            row[f"seeds per class, each class's verdict, Δ {e}"] = _count(r[f"seeds_per_class_{e}"])
            row[f"classes, new classes, Δ {e}"] = _count(r[f"classes_needed_{e}"])
        rows.append(row)
    return pd.DataFrame(rows)


def class_table(result: dict) -> pd.DataFrame:
    """Per class, readable; the interval as text so that one seed says why there is none."""
    table = result["classes"]
    keep = (["setting"] if len(result["settings"]) > 1 else []) + list(CLASS_LABELS)
    out = table[keep].rename(columns=CLASS_LABELS)
    out.insert(
        out.columns.get_loc("mean Δ") + 1,
        "95% CI",
        [
            "one seed: no interval" if pd.isna(low) else f"[{low:+.4f}, {high:+.4f}]"
            for low, high in zip(table["ci_low"], table["ci_high"])
        ],
    )
    out["p (paired t)"] = [_p(v) for v in table["p_value"]]
    out["p (Holm)"] = [_p(v) for v in table["p_adjusted"]]
    return out


def verdict_lines(result: dict) -> list[str]:
    """Per sampler, what each claim says in words: the verdict, the mean difference with its interval and p, and
    what it would take to decide (seeds for these classes, classes for new classes)."""
    metric = result["metric"].upper()
    lines = []
    for r in result["samplers"].to_dict("records"):
        where = f" [{r['setting']}]" if len(result["settings"]) > 1 else ""
        n = r["classes"]
        these = (
            f"on **{'this class' if n == 1 else f'these {n} classes'}**: **{r['these_classes_verdict']}** "
            f"(mean Δ{metric} {_claim_numbers(r, 'these_classes')}, pooled t over seeds)"
        )
        new = f"on **new classes** like these: **{r['new_classes_verdict']}**"
        if r["new_classes_verdict"] == claims.TOO_FEW_CLASSES:
            new += f" ({n} compared, {claims.MIN_CLASSES} needed"
            new += f"; t over class means: {_claim_numbers(r, 'new_classes')})" if n >= 2 else ")"
        else:
            new += f" (mean Δ{metric} {_claim_numbers(r, 'new_classes')}, t over {n} class means)"
        needed = "; ".join(
            f"Δ{metric} {e}: {_count(r[f'seeds_needed_{e}'])} seeds per class on these classes "
            f"({_count(r[f'seeds_per_class_{e}'])} for each class's own verdict, Holm counted), "
            f"{_count(r[f'classes_needed_{e}'])} classes for new classes"
            for e in paired_stats.EFFECTS
        )
        lines.append(
            f"**{r['sampler']}**{where} {these}; {new}. Per class: {r['summary']}. "
            f"For 80% power (paired t, noncentral): {needed}."
        )
    return lines


def next_seeds(frame: pd.DataFrame, count: int = 4) -> str:
    """The next `count` unused seeds as the seeds field reads them: '4-7' after seeds 0-3."""
    first = int(frame["seed"].max()) + 1 if not frame.empty else 0
    return f"{first}-{first + count - 1}"


def interval_text(mean: float, low: float, high: float) -> str:
    """'+0.0123 [+0.0040, +0.0206]'; without an interval, why: '+0.0123 (no interval: no class has 2 seeds)'."""
    if pd.isna(mean):
        return "-"
    if pd.isna(low):
        return f"{mean:+.4f} (no interval: too few seeds or classes)"
    return f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]"


def _claim_numbers(r: dict, claim: str) -> str:
    """'+0.0185, 95% CI [+0.0085, +0.0286], p 0.0041, df 6' (what is missing, said)."""
    mean, low, high = r[f"{claim}_mean_delta"], r[f"{claim}_ci_low"], r[f"{claim}_ci_high"]
    if pd.isna(low):
        return interval_text(mean, low, high)
    return f"{mean:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}], p {_p(r[f'{claim}_p'])}, df {r[f'{claim}_df']}"


def _p(value) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:.3g}"


def _rank_p(value, floor) -> str:
    """The p-value where the test can reach ALPHA; else its floor, said."""
    if pd.isna(value):
        return "-" if pd.isna(floor) else f"cannot decide (smallest p {floor:.3g})"
    return f"{value:.3g}"


def chart_text(name: object) -> str:
    """A class name as Plotly text: Plotly renders tags (`<a href>`, `<b>`) in labels and titles, so a name that
    holds them is escaped to show as written."""
    return html.escape(str(name), quote=False)


def delta_figure(result: dict):
    """Figure 1: per class, each sampler's mean paired Δ vs random with its 95% t-interval as error bars (points,
    not bars, so a difference inside the noise looks like one); classes in class order, the same in every panel."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    classes = result["classes"]
    metric = result["metric"].upper()
    panels = list(classes.groupby(["setting", "sampler"])) if not classes.empty else []
    order = [chart_text(c) for c in classes.drop_duplicates("target_class").sort_values("target_class")["class"]]
    titles = [
        f"{sampler}{' [' + setting + ']' if len(result['settings']) > 1 else ''}: better in "
        f"{int((rows['verdict'] == paired_stats.BETTER).sum())} of {len(rows)} classes"
        for (setting, sampler), rows in panels
    ]
    fig = make_subplots(rows=max(1, len(panels)), cols=1, subplot_titles=titles or None, vertical_spacing=0.12)
    for i, (_, rows) in enumerate(panels, start=1):
        rows = rows.sort_values("target_class")
        fig.add_trace(
            go.Scatter(
                x=[chart_text(c) for c in rows["class"]],
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
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=order, row=i, col=1)
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
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[chart_text(name) for _, name in keys] or None)
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
    last = int(table["epoch"].max()) if keys else 1
    fig.update_xaxes(tick0=1, dtick=max(1, -(-last // 10)), tickformat="d")  # whole epochs: no tick at 1.5
    fig.update_layout(height=100 + 260 * rows, margin={"t": 40})
    return fig


def _count(value) -> str:
    return "-" if value is None or pd.isna(value) else str(int(value))
