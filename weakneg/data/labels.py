"""Bag labels in the user's files: the one set of formats an instance table, an image-bag CSV, a bag table and a
clip CSV all accept (README "Your own data").

- **A label column** (`label`; `labels` in a clip CSV): 0/1 (one class), or class names, several separated by `;`
  (`cat;dog`). A `,` separates too when no cell of the column holds a `;` (`"cat,dog"` in quotes); once a `;`
  appears, it alone separates and a comma belongs to the name (AudioSet's `Male speech, man speaking;Music`). A
  cell that is exactly one name of option `classes` is that class. An empty cell in a column of names is a bag
  that carries no class (a negative for every class); in a 0/1 column it is a missing label.
- **One 0/1 column per class** (option `label_columns`, or every column of a bag table besides the bag id and
  split): a 1 where the bag carries the class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SHOWN = 3  # examples named per problem
ONE_HOT_VALUES = {"0", "1", "0.0", "1.0", "nan"}


def examples(values: Any) -> str:
    values = list(values)
    more = f" and {len(values) - SHOWN} more" if len(values) > SHOWN else ""
    return ", ".join(repr(v) for v in values[:SHOWN]) + more


def names_option(value: Any) -> list[str] | None:
    """A declared `names` option as a list: a list as given, a text split at commas (None stays None)."""
    if value is None:
        return None
    return [part.strip() for part in value.split(",")] if isinstance(value, str) else [str(v) for v in value]


def label_sets(values: Sequence[Any], classes: list[str] | None = None) -> list[set[str]]:
    """Each cell's classes (see the module's rule for `;` and `,`); a missing or empty cell has none."""
    import pandas as pd

    texts = ["" if pd.isna(v) else str(v).strip() for v in values]
    separator = ";" if any(";" in text for text in texts) else ","
    known = set(classes or ())
    return [{text} if text in known else {p.strip() for p in text.split(separator) if p.strip()} for text in texts]


def parse_labels(
    values: Sequence[Any], classes: list[str] | None, what: str, problems: list[str]
) -> tuple[list[str], list[set[str]]]:
    """A label column's values (one per bag) -> (class names, each bag's set of classes). 0/1 labels give one
    class (the first of `classes`, else "positive"); problems are appended, one short clause each."""
    import pandas as pd

    series = pd.Series(list(values), dtype=object)
    missing = series.isna() | (series.astype(str).str.strip() == "")
    numeric = pd.to_numeric(series, errors="coerce")
    if not missing.all() and numeric[~missing].notna().all():  # a 0/1 column: a blank is a missing label
        if missing.any():
            problems.append(f"{what}: {int(missing.sum())} bag(s) have no label (0/1 labels: write 0 or 1 for each)")
        bad = sorted(set(numeric[~missing & ~numeric.isin([0, 1])].tolist()))
        if bad:
            problems.append(f"{what}: labels must be 0/1 or class names, found {examples(bad)}")
        name = (classes or ["positive"])[0]
        return [name], [{name} if v == 1 else set() for v in numeric]
    sets = label_sets(series.tolist(), classes)
    found = sorted(set().union(*sets))
    if classes is not None:
        unknown = sorted(set(found) - set(classes))
        if unknown:
            commas = not any(";" in str(v) for v in series) and any("," in str(v) for v in series)
            hint = (
                " (a class name with a comma? separate labels with ';', then commas belong to names)" if commas else ""
            )
            problems.append(f"{what}: labels {examples(unknown)} are not in the class list {classes}{hint}")
        return list(classes), sets
    if not found:
        problems.append(f"{what}: no bag has a label (give 0/1 or class names, several as a;b)")
    return found, sets


def one_hot_labels(
    table: Any, columns: list[str], classes: list[str] | None, what: str, problems: list[str]
) -> tuple[list[str], list[set[str]]]:
    """One 0/1 column per class (a pandas frame, one row per bag) -> (class names = the columns, each bag's set)."""
    values = table[columns]
    seen = {str(v) for v in np.unique(values.to_numpy(dtype=object).astype(str))}
    bad = sorted(seen - ONE_HOT_VALUES)
    if bad:
        problems.append(f"{what}: per-class columns must hold 0/1, found {examples(bad)}")
        return list(columns), [set() for _ in range(len(values))]
    if classes is not None and sorted(set(columns) - set(classes)):
        problems.append(
            f"{what}: class column(s) {examples(sorted(set(columns) - set(classes)))} are not in "
            f"the class list {classes}"
        )
    matrix = values.fillna(0).to_numpy(dtype=float) > 0
    return list(columns), [{c for c, on in zip(columns, row) if on} for row in matrix]
