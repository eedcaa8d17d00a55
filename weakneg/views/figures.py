"""What the Inspect map draws, built here so tests check it without a browser: the points with their colours,
rings and crosses, the ranges (positives never rescale the negatives) and a legend that names the colour scale."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .inspect import COLOUR_BY, EpochView

SELECTED_COLOURS = {"not selected": "#cbd5e1", "selected": "#c2410c", "positive bag": "#1d4ed8"}
SCALES = {"rank": "rank (0 = lowest score, 1 = highest)", "log": "symmetric log scale"}


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


# --- the Inspect map as plain points for the app's canvas map component: click, lasso and box in one mode ---------

VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"]


def viridis_table() -> list[str]:
    """The viridis scale in 256 hex steps, interpolated between its ten anchors."""
    anchors = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in VIRIDIS], dtype=np.float64)
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


def map_points(
    view: EpochView,
    colour_by: str = "selected",
    class_name: str | None = None,
    show_positives: bool = False,
    scale: str = "rank",
    height: int = 520,
    domain: tuple[list[float], list[float]] | None = None,
) -> dict:
    """Everything the canvas map draws: `points`, a frame of typed columns (it travels to the browser as Arrow, not
    JSON: 28 bytes a point, 1.4 MB for 50,000 bags) with positions, bag ids, a colour index into `palette`, the
    dark ring of chosen bags, crosses for positive bags and the hover texts' numbers; the negatives' x/y ranges
    (positives never rescale them; `domain`: the ranges two maps side by side share) and a legend that names
    the colour scale."""
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
        legend = {
            "title": f"{n_chosen} of {len(view.pool)} negatives selected",
            "items": [
                [name, hex_] for name, hex_ in SELECTED_COLOURS.items() if name != "positive bag" or show_positives
            ],
        }
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
    x_range, y_range = domain or map_domain(view)
    points = pd.DataFrame(
        {
            "x": rows["x"].to_numpy(np.float32),
            "y": rows["y"].to_numpy(np.float32),
            "bag": rows["bag_id"].to_numpy(np.int32),
            "colour": colour,
            "ring": rows["selected"].to_numpy(np.uint8),
            "cross": (rows["kind"] == "positive").to_numpy(np.uint8),
            "pick": np.where(rows["pick"] >= 0, rows["pick"] + 1, 0).astype(np.int32),  # 0: not picked
            "score": rows["score"].to_numpy(np.float32),
            "prob": rows["prob"].to_numpy(np.float32),
        }
    )
    return {
        "points": points,
        "palette": palette,
        "x_range": x_range,
        "y_range": y_range,
        "legend": legend,
        "height": height,
    }
