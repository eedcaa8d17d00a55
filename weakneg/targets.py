"""Which classes a run trains: one (a binary run) or several (one multi-label model, docs/multilabel.md)."""

from __future__ import annotations

from typing import Any


def is_multilabel(target_class: Any) -> bool:
    """A multi-label run trains one model for several classes: `all`, a list, or names/indices joined by commas."""
    if isinstance(target_class, (list, tuple)):
        return True
    return isinstance(target_class, str) and (target_class.strip().lower() == "all" or "," in target_class)


def multilabel_targets(target_class: Any) -> list[int | str] | None:
    """The classes a multi-label run asks for (None: every class of the dataset); indices as ints. Empty parts are
    dropped, so "3," is a multi-label run of class 3 alone (a binary problem on the multi-label run's bags)."""
    if isinstance(target_class, str) and target_class.strip().lower() == "all":
        return None
    parts = target_class if isinstance(target_class, (list, tuple)) else target_class.split(",")
    out = []
    for part in parts:
        text = str(part).strip()
        if text:
            out.append(int(text) if text.lstrip("-").isdigit() else text)
    return out
