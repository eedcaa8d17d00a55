"""Plotly figures of the teaching playground: one sampler's choice in the plane, and test metrics per epoch.

Kept apart from playground.py so the engine's world and training never need a plotting library.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..playground import PlaygroundResult

CLUSTER_COLOURS = ("#d62728", "#9467bd", "#e377c2", "#1f77b4", "#17becf", "#8c8c8c")
SAMPLER_COLOURS = ("#c2410c", "#2563eb", "#059669", "#7c3aed", "#db2777", "#ca8a04", "#0891b2", "#4b5563")
REGION_SCALE = [[0.0, "#d3e2f4"], [0.5, "#fbfbfb"], [1.0, "#f8b48a"]]  # negative blue ... positive orange


def choice_points(result: PlaygroundResult, sampler: str, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """(instance rows, bag position of each) of the negative bags this sampler chose for this epoch."""
    chosen = result.runs[sampler].choice(epoch).chosen
    members = result.world.train.members[chosen]
    return members.ravel(), np.repeat(chosen, members.shape[1])


def choice_figure(
    result: PlaygroundResult, sampler: str, epoch: int, regions: str = "chose", height: int = 460
) -> go.Figure:
    """Instances coloured by cluster (diamonds: in a positive bag), the chosen negative bags ringed in black,
    over the decision regions of the model that chose them (`regions="chose"`) or of the model trained on
    them (`regions="trained"`)."""
    if regions not in ("chose", "trained"):
        raise ValueError(f"regions must be 'chose' or 'trained', got {regions!r}")
    world, run = result.world, result.runs[sampler]
    grid = run.grids[epoch - 1 if regions == "chose" else epoch]
    figure = go.Figure()
    figure.add_trace(
        go.Contour(
            x=result.grid_x,
            y=result.grid_y,
            z=grid,
            zmin=0,
            zmax=1,
            colorscale=REGION_SCALE,
            showscale=False,
            contours=dict(coloring="heatmap", showlines=False),
            line=dict(width=0),
            name="P(positive)",
            hovertemplate="P(positive) %{z:.2f}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Contour(
            x=result.grid_x,
            y=result.grid_y,
            z=grid,
            showscale=False,
            hoverinfo="skip",
            autocontour=False,
            contours=dict(coloring="lines", start=0.5, end=0.5, size=1),
            line=dict(color="#111827", width=2, dash="dash"),
            name="boundary P = 0.5",
        )
    )
    points = world.train.points
    rows, bags = choice_points(result, sampler, epoch)
    in_positive = np.zeros(len(points), dtype=bool)
    in_positive[world.train.members[world.train.labels == 1].ravel()] = True
    chosen = np.zeros(len(points), dtype=bool)
    chosen[rows] = True
    for cluster, name in enumerate(world.names):
        mine = np.flatnonzero(world.train_clusters == cluster)
        figure.add_trace(
            go.Scatter(  # negatives left out this epoch fade, so the choice stands out
                x=points[mine, 0],
                y=points[mine, 1],
                mode="markers",
                name=name,
                marker=dict(
                    color=CLUSTER_COLOURS[cluster % len(CLUSTER_COLOURS)],
                    size=np.where(in_positive[mine] | chosen[mine], 7, 5),
                    opacity=np.where(in_positive[mine] | chosen[mine], 0.95, 0.2),
                    symbol=np.where(in_positive[mine], "diamond", "circle"),
                ),
                hovertemplate=f"{name}<extra></extra>",
            )
        )
    score = run.choice(epoch).scores[np.searchsorted(run.pool, bags)]
    figure.add_trace(
        go.Scatter(
            x=points[rows, 0],
            y=points[rows, 1],
            mode="markers",
            name="chosen negative bags",
            marker=dict(symbol="circle-open", size=11, color="#111827", line=dict(width=1.5)),
            customdata=np.stack([bags, score], axis=1),
            hovertemplate="bag %{customdata[0]:.0f}, score %{customdata[1]:.3g}<extra>chosen</extra>",
        )
    )
    figure.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white", showlegend=False
    )  # one legend for all plots: `legend_html`
    figure.update_xaxes(range=[result.grid_x[0], result.grid_x[-1]], showgrid=False, zeroline=False)
    figure.update_yaxes(
        range=[result.grid_y[0], result.grid_y[-1]], showgrid=False, zeroline=False, scaleanchor="x", scaleratio=1
    )
    return figure


def legend_html(result: PlaygroundResult) -> str:
    """One legend line for every choice figure (per-figure legends would crowd narrow columns)."""
    swatches = [
        f'<span style="color:{CLUSTER_COLOURS[i % len(CLUSTER_COLOURS)]}">&#9679;</span> {name}'
        for i, name in enumerate(result.world.names)
    ]
    swatches += [
        "&#9711; chosen negative bag (ringed; faded: not chosen)",
        "&#9670; point in a positive bag",
        "dashed: P(positive) = 0.5",
    ]
    return " &nbsp; ".join(swatches)


def metrics_figure(result: PlaygroundResult, epoch: int | None = None, height: int = 300) -> go.Figure:
    """Test AP and ROC-AUC per epoch, one line per sampler; a dotted line marks the epoch on show."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("test AP", "test ROC-AUC"))
    for i, (name, run) in enumerate(result.runs.items()):
        epochs = [c.epoch for c in run.epochs]
        colour = SAMPLER_COLOURS[i % len(SAMPLER_COLOURS)]
        for col, metric in ((1, "ap"), (2, "auc")):
            figure.add_trace(
                go.Scatter(
                    x=epochs,
                    y=[getattr(c, metric) for c in run.epochs],
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    line=dict(color=colour),
                ),
                row=1,
                col=col,
            )
    if epoch is not None:
        for col in (1, 2):
            figure.add_vline(x=epoch, line=dict(color="#6b7280", dash="dot"), row=1, col=col)
    figure.update_xaxes(title_text="epoch", dtick=1)
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10))
    return figure
