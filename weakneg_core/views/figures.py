"""Plotly figures the pages draw (built here so tests can check them without a browser)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .inspect import COLOUR_BY, EpochView

WEBGL_FROM = 5000  # points; below this SVG draws as fast and needs no GPU (WebGL in software is slow)
SELECTED_COLOURS = {"not selected": "#cbd5e1", "selected": "#c2410c", "positive bag": "#1d4ed8"}


HOVER_COLUMNS = ["bag_id", "score", "prob", "pick", "times_selected"]
HOVER = ("bag %{customdata[0]}<br>score %{customdata[1]:.4g}<br>p(positive) %{customdata[2]:.3f}"
         "<br>pick order %{customdata[3]} (-1: not picked)<br>times selected %{customdata[4]}")


def _customdata(rows) -> np.ndarray:
    return rows[HOVER_COLUMNS].to_numpy(dtype=np.float64)


def map_figure(view: EpochView, colour_by: str = "selected", class_name: str | None = None,
               show_positives: bool = False, height: int = 560) -> tuple[go.Figure, list[np.ndarray]]:
    """The epoch's map as scatter traces (WebGL for large pools), and the bag ids of each trace (to read a
    selection back)."""
    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour_by must be one of {', '.join(COLOUR_BY)}, got {colour_by!r}")
    frame = view.frame
    pool = frame[frame["kind"] == "negative"]
    positives = frame[frame["kind"] == "positive"]
    traces, ids = [], []
    scatter = go.Scattergl if len(frame) >= WEBGL_FROM else go.Scatter

    def add(rows, name, marker):
        small = len(frame) < WEBGL_FROM  # the classes text would make a large map's page megabytes heavier
        traces.append(scatter(x=rows["x"], y=rows["y"], mode="markers", name=name, marker=marker,
                              customdata=_customdata(rows),
                              text=view.describe(rows.index.to_numpy()) if small else None,  # index = frame row
                              hovertemplate=HOVER + ("<br>classes: %{text}" if small else "") + "<extra></extra>"))
        ids.append(rows["bag_id"].to_numpy())

    if colour_by == "selected":
        for name, rows in (("not selected", pool[~pool["selected"]]), ("selected", pool[pool["selected"]])):
            add(rows, f"{name} ({len(rows)})", {"color": SELECTED_COLOURS[name], "size": 6})
    else:
        if colour_by == "true_class":
            class_name = class_name or view.class_names[0]
            values = view.class_count(class_name)[: len(pool)]
            title = f"{class_name} in bag"
        else:
            values = pool[colour_by].to_numpy()
            title = COLOUR_BY[colour_by]
        add(pool, "negative pool", {"color": values, "colorscale": "Viridis", "size": 6, "showscale": True,
                                    "colorbar": {"title": {"text": title}}})
    if show_positives and len(positives):
        add(positives, f"positive bags ({len(positives)})",
            {"color": SELECTED_COLOURS["positive bag"], "size": 7, "symbol": "x"})
    figure = go.Figure(traces)
    figure.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, dragmode="lasso",
                         legend={"orientation": "h", "yanchor": "top", "y": -0.02}, xaxis={"visible": False},
                         yaxis={"visible": False})
    return figure, ids


def selected_bag_ids(points: list[dict], trace_ids: list[np.ndarray]) -> list[int]:
    """Bag ids of the points a user clicked or lassoed (Streamlit's selection event points)."""
    chosen = []
    for point in points:
        curve, index = point.get("curve_number"), point.get("point_index", point.get("point_number"))
        if curve is not None and index is not None and curve < len(trace_ids) and index < len(trace_ids[curve]):
            chosen.append(int(trace_ids[curve][index]))
    return chosen
