"""Plotly figures the pages draw (built here so tests can check them without a browser)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .inspect import COLOUR_BY, EpochView

WEBGL_FROM = 5000  # points; below this SVG draws as fast and needs no GPU (WebGL in software is slow)
SELECTED_COLOURS = {"not selected": "#cbd5e1", "selected": "#c2410c", "positive bag": "#1d4ed8"}


HOVER_COLUMNS = ["bag_id", "score", "prob", "pick", "times_selected"]
HOVER = ("bag %{customdata[0]}<br>score %{customdata[1]:.4g}<br>p(positive) %{customdata[2]:.3f}"
         "<br>pick order %{customdata[3]} (-1: not picked)<br>times selected %{customdata[4]}")


def _customdata(rows) -> np.ndarray:
    # float32 halves what the browser downloads for a large map (3.6 -> 1.8 MB at 52,000 bags); hover text needs
    # no more digits, and clicks are read back through the trace's bag ids, not from here
    return rows[HOVER_COLUMNS].to_numpy(dtype=np.float32)


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
        traces.append(scatter(x=rows["x"].to_numpy(np.float32), y=rows["y"].to_numpy(np.float32), mode="markers",
                              name=name, marker=marker,
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
        add(pool, "negative pool", {"color": np.asarray(values, dtype=np.float32), "colorscale": "Viridis", "size": 6,
                                    "showscale": True, "colorbar": {"title": {"text": title}}})
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


# --- the Inspect map as a Vega-Lite chart (two runs side by side): a click picks one bag, a drag draws a box ------

ALTAIR_UP_TO = 20_000  # bags: the side-by-side maps are Vega up to this, the WebGL figure above (main map: canvas)
SCALES = {"rank": "rank (0 = lowest score, 1 = highest)", "log": "symmetric log scale"}
MAP_COLUMNS = ["bag_id", "kind", "x", "y", "selected", "pick", "score", "prob", "times_selected"]


def map_domain(view: EpochView, pad: float = 0.04) -> tuple[list[float], list[float]]:
    """The x and y ranges of the negative pool (padded): positive bags are drawn inside them, never rescaling the
    negatives into a strip."""
    pool = view.pool
    ranges = []
    for axis in ("x", "y"):
        low, high = (float(np.nanmin(pool[axis])), float(np.nanmax(pool[axis]))) if len(pool) else (0.0, 1.0)
        span = (high - low) or 1.0
        ranges.append([low - pad * span, high + pad * span])
    return ranges[0], ranges[1]


def colour_values(view: EpochView, rows, colour_by: str, class_name: str | None, scale: str) -> tuple[np.ndarray, str]:
    """(values to colour by, legend title saying what they are) for the rows drawn."""
    if colour_by == "score":
        scores = rows["score"].to_numpy(dtype=np.float64)
        if scale == "rank":
            pool_scores = view.pool["score"].to_numpy(dtype=np.float64)
            finite = np.sort(pool_scores[np.isfinite(pool_scores)])
            ranks = np.searchsorted(finite, scores, side="right") / max(len(finite), 1)
            return np.where(np.isfinite(scores), ranks, np.nan), f"sampler score, {SCALES['rank']}"
        return scores, f"sampler score ({SCALES['log']})"
    if colour_by == "true_class":
        class_name = class_name or view.class_names[0]
        return view.class_count(class_name)[rows.index.to_numpy()].astype(np.float64), f"{class_name} in bag"
    return rows[colour_by].to_numpy(dtype=np.float64), COLOUR_BY[colour_by]


def map_chart(view: EpochView, colour_by: str = "selected", class_name: str | None = None,
              show_positives: bool = False, scale: str = "rank", height: int = 520,
              domain: tuple[list[float], list[float]] | None = None):
    """The epoch's map as an Altair chart (the side-by-side maps; the main map is the canvas component fed by
    `map_points`), with two selections: `pick` (a click: one bag) and `box` (a drag). Chosen bags keep a dark ring
    whatever the colouring; positive bags are crosses inside the pool's ranges (or inside `domain`, the ranges
    two maps side by side share)."""
    import altair as alt

    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour_by must be one of {', '.join(COLOUR_BY)}, got {colour_by!r}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    frame = view.frame
    rows = frame if show_positives else frame[frame["kind"] == "negative"]
    data = rows[MAP_COLUMNS].copy()
    data["pick"] = np.where(data["pick"] >= 0, data["pick"] + 1, np.nan)  # 1 = the first pick
    data["pick_text"] = [f"{p:.0f}" if p == p else "-" for p in data["pick"]]  # '-': not picked
    data["classes"] = view.describe(rows.index.to_numpy()) if len(rows) <= 5000 else ""
    x_range, y_range = domain or map_domain(view)
    pick = alt.selection_point(name="pick", fields=["bag_id"], on="click", clear="dblclick")
    box = alt.selection_interval(name="box", encodings=["x", "y"], clear="dblclick")
    if colour_by == "selected":
        n_chosen = int(view.pool["selected"].sum())
        data["colour"] = np.where(data["kind"] == "positive", "positive bag",
                                  np.where(data["selected"], "selected", "not selected"))
        colour = alt.Color("colour:N", title=f"{n_chosen} of {len(view.pool)} negatives selected",
                           scale=alt.Scale(domain=list(SELECTED_COLOURS), range=list(SELECTED_COLOURS.values())),
                           legend=alt.Legend(orient="bottom"))
    else:
        values, title = colour_values(view, rows, colour_by, class_name, scale)
        data["colour"] = values
        colour_scale = alt.Scale(type="symlog", scheme="viridis") if (colour_by == "score" and scale == "log") else \
            alt.Scale(scheme="viridis")
        colour = alt.Color("colour:Q", title=title, scale=colour_scale,
                           legend=alt.Legend(orient="bottom", gradientLength=300))
    tooltip = [alt.Tooltip("bag_id:Q", title="bag"), alt.Tooltip("kind:N"),
               alt.Tooltip("pick_text:N", title="pick order"), alt.Tooltip("score:Q", format=".4g"),
               alt.Tooltip("prob:Q", title="p(positive)", format=".3f"),
               alt.Tooltip("times_selected:Q", title="times selected"), alt.Tooltip("classes:N", title="true classes")]
    return (alt.Chart(data).mark_point(filled=True, size=46, clip=True, opacity=0.85).encode(
        x=alt.X("x:Q", axis=None, scale=alt.Scale(domain=x_range, nice=False, zero=False)),
        y=alt.Y("y:Q", axis=None, scale=alt.Scale(domain=y_range, nice=False, zero=False)),
        color=colour,
        shape=alt.Shape("kind:N", scale=alt.Scale(domain=["negative", "positive"], range=["circle", "cross"]),
                        legend=None),
        stroke=alt.condition("datum.selected", alt.value("#111827"), alt.value("transparent")),
        strokeWidth=alt.condition("datum.selected", alt.value(1.3), alt.value(0)),
        tooltip=tooltip)
        .add_params(pick, box).properties(height=height))


# --- the Inspect map as plain points for the app's canvas map component: click, lasso and box in one mode ---------

VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
           "#fde725"]


def viridis_table() -> list[str]:
    """The viridis scale in 256 hex steps, interpolated between its ten anchors."""
    anchors = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in VIRIDIS], dtype=np.float64)
    steps = np.linspace(0, len(VIRIDIS) - 1, 256)
    rgb = np.stack([np.interp(steps, np.arange(len(VIRIDIS)), anchors[:, k]) for k in range(3)], 1).round().astype(int)
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb.tolist()]


NAN_COLOUR = "#9ca3af"


def viridis_index(values: np.ndarray) -> np.ndarray:
    """Indices into viridis_table() + [NAN_COLOUR] of values in [0, 1] (NaN: 256, the grey)."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isnan(values), 256, (np.clip(np.nan_to_num(values), 0, 1) * 255).round()).astype(np.uint16)


def viridis(values: np.ndarray) -> list[str]:
    """Hex colours of values in [0, 1] on the viridis scale (NaN: grey)."""
    table = np.array(viridis_table() + [NAN_COLOUR], dtype=object)
    return table[viridis_index(values)].tolist()


def map_points(view: EpochView, colour_by: str = "selected", class_name: str | None = None,
               show_positives: bool = False, scale: str = "rank", height: int = 520) -> dict:
    """Everything the canvas map draws: `points`, a frame of typed columns (it travels to the browser as Arrow, not
    JSON: 28 bytes a point, 1.4 MB for 50,000 bags) with positions, bag ids, a colour index into `palette`, the
    dark ring of chosen bags, crosses for positive bags and the hover texts' numbers; the negatives' x/y ranges
    (positives never rescale them) and a legend that names the colour scale."""
    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour_by must be one of {', '.join(COLOUR_BY)}, got {colour_by!r}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    frame = view.frame
    rows = frame if show_positives else frame[frame["kind"] == "negative"]
    if colour_by == "selected":
        palette = list(SELECTED_COLOURS.values())
        colour = np.where(rows["kind"] == "positive", 2, np.where(rows["selected"], 1, 0)).astype(np.uint16)
        n_chosen = int(view.pool["selected"].sum())
        legend = {"title": f"{n_chosen} of {len(view.pool)} negatives selected",
                  "items": [[name, hex_] for name, hex_ in SELECTED_COLOURS.items()
                            if name != "positive bag" or show_positives]}
    else:
        values, title = colour_values(view, rows, colour_by, class_name, scale)
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        if colour_by == "score" and scale == "log":
            squash = lambda v: np.sign(v) * np.log1p(np.abs(v))  # noqa: E731 (symmetric log, as Vega's symlog)
            unit = (squash(values) - squash(low)) / ((squash(high) - squash(low)) or 1.0)
        else:
            unit = (values - low) / ((high - low) or 1.0)
        palette, colour = viridis_table() + [NAN_COLOUR], viridis_index(unit)
        legend = {"title": title, "gradient": VIRIDIS, "low": f"{low:.4g}", "high": f"{high:.4g}"}
    x_range, y_range = map_domain(view)
    points = pd.DataFrame({
        "x": rows["x"].to_numpy(np.float32), "y": rows["y"].to_numpy(np.float32),
        "bag": rows["bag_id"].to_numpy(np.int32), "colour": colour,
        "ring": rows["selected"].to_numpy(np.uint8), "cross": (rows["kind"] == "positive").to_numpy(np.uint8),
        "pick": np.where(rows["pick"] >= 0, rows["pick"] + 1, 0).astype(np.int32),  # 0: not picked
        "score": rows["score"].to_numpy(np.float32), "prob": rows["prob"].to_numpy(np.float32)})
    return {"points": points, "palette": palette, "x_range": x_range, "y_range": y_range, "legend": legend,
            "height": height}
