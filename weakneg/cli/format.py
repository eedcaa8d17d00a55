"""How every command prints: numbers, tables and JSON that a person or a script can read."""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Sequence


def number(value) -> str:
    """A metric to 4 decimals; '-' for a missing or undefined one."""
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def json_safe(value: Any) -> Any:
    """NaN and inf are not JSON: write null (recursively through dicts and lists)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def table(rows: list[dict], columns: Sequence[str]) -> str:
    """Left-aligned columns, a header line, floats as `number` prints them, '-' for None."""

    def cell(v):
        return number(v) if isinstance(v, float) else ("-" if v is None else str(v))

    cells = [[cell(r[c]) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
