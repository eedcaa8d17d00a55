"""Which classes a run trains: one (a binary run) or several (one multi-label model, docs/multilabel.md)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any


def is_multilabel(target_class: Any) -> bool:
    """A multi-label run trains one model for several classes: `all`, a list, or names/indices joined by commas."""
    if isinstance(target_class, (list, tuple)):
        return True
    # a comma followed by a space belongs to a name (AudioSet's "Male speech, man speaking"); lists are "1,4,7"
    return isinstance(target_class, str) and (
        target_class.strip().lower() == "all" or ("," in target_class and ", " not in target_class)
    )


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


def per_class_runs(runs: list) -> list:
    """Run records (store.RunRecord, taken as they come: this module is below the store) as the comparisons read
    them: a multi-label run becomes one record per class (its final AP, AUC and d' for that class, the class as
    target), so each class pairs with `random` as a binary run would. Its config gains `multilabel_classes` (how
    many classes the model was trained for), which keeps one model for C classes and one-class models in different
    settings: they are compared side by side, never averaged together."""
    out = []
    for run in runs:
        result = run.result if isinstance(run.result, dict) else {}
        if not result.get("multilabel"):
            out.append(run)
            continue
        per_class, index = result.get("per_class") or {}, result.get("class_index") or {}
        config = {**(run.config or {}), "target_class": None, "multilabel_classes": len(per_class)}
        for name, values in per_class.items():
            out.append(
                replace(
                    run,
                    config={**config, "target_class": index.get(name, name)},
                    target_class=index.get(name, name),
                    target_name=name,
                    final_ap=values.get("ap"),
                    final_auc=values.get("auc"),
                    final_dprime=values.get("dprime"),
                )
            )
    return out
