"""The user's own instance table: one row per instance, natural bags of any size.

Files: CSV, Parquet or NumPy .npz (arrays named like the columns). Columns (names configurable through
dataset_options):

    bag_id           which bag the instance is in (any text or number)            option bag_column
    features         every numeric column not named here, or the columns listed in option feature_columns,
                     or one array column (Parquet list / npz 2-D array) named by option features_column
    label            the bag's label, repeated on its rows: 0/1, or class names ("cat", "cat;dog" for a
                     multi-label bag, empty for none: data/labels.py)             option label_column
    or cat, dog, ... one 0/1 column per class, repeated on the bag's rows          option label_columns
    instance_label   optional, kept for analysis only (training never reads it)   option instance_label_column
    split            optional: train / test per bag                              option split_column

or, instead of the label column, a separate bag table (option bags: CSV or Parquet) with the bag id and
either a label column as above or one 0/1 column per class (multi-label bags; the run's target class
chooses which label is the bag label, as with AudioSet). Option classes: the known class list that labels
must come from. Without a split column, runs test on fold `fold` of `folds` (default 5) by bag.

Everything is checked before anything is built; every problem found is named in one message.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..extras import need
from .fingerprint import check_readable
from .labels import examples, names_option, one_hot_labels, parse_labels
from .natural import SPLIT_OPTIONS, NaturalBags
from .options import TABLE_OPTIONS, check_options, fold_in_range

SPLITS = ("train", "test")


def listed_files(path: Path, options: dict, column_option: str, default_column: str, folder_option: str) -> list[Path]:
    """The files a CSV names in one column (row order), relative names resolved against the folder an option names,
    else the CSV's own folder; [] when the column is missing (the caller's check names it)."""
    frame = read_frame(check_readable(path))
    column = options.get(column_option, default_column)
    if column not in frame:
        return []
    folder = Path(options.get(folder_option) or path.parent).expanduser()
    return [p if p.is_absolute() else folder / p for p in map(Path, frame[column].astype(str))]


def read_frame(path: Path):
    """A CSV, Parquet or .npz file -> pandas DataFrame (an .npz 2-D array becomes one array column)."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        need("pyarrow", "app", "reading Parquet")  # before the catch-all below: the fix is an install
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                columns = {
                    name: (list(arrays[name]) if arrays[name].ndim > 1 else arrays[name]) for name in arrays.files
                }
            return pd.DataFrame(columns)
        if suffix in (".csv", ".tsv", ".txt"):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except Exception as error:  # any reader failure: the file does not open as what its name says
        raise ConfigError(
            f"{path} does not open as a {suffix[1:]} table: {type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}"
        ) from error
    raise ConfigError(f"{path}: unknown table format {suffix!r}; use .csv, .tsv, .parquet or .npz")


def problem_line(path: Path, problems: list[str]) -> str:
    return (
        f"{len(problems)} problem(s) in {path}: " + "; ".join(problems)
        if len(problems) > 1
        else f"{path.parent}: {problems[0]}"
    )


def _features(frame, options: dict, used: set[str], problems: list[str], path: Path) -> np.ndarray | None:
    import pandas as pd

    if options.get("features_column"):
        column = options["features_column"]
        if column not in frame:
            problems.append(f"{path.name}: missing features column {column!r}")
            return None
        try:
            return np.stack([np.asarray(v, dtype=np.float32) for v in frame[column]])
        except ValueError as error:
            problems.append(f"{path.name}: features column {column!r} is not one equal-length array per row ({error})")
            return None
    columns = options.get("feature_columns")
    if columns is not None:
        columns = columns.split(",") if isinstance(columns, str) else list(columns)
        absent = [c for c in columns if c not in frame]
        if absent:
            problems.append(f"{path.name}: missing feature column(s) {examples(absent)}")
            return None
    else:
        columns = [c for c in frame.columns if c not in used and pd.api.types.is_numeric_dtype(frame[c])]
        for column in frame.columns:  # a numeric column with a stray text cell would be dropped without a word
            if column not in used and not pd.api.types.is_numeric_dtype(frame[column]):
                numbers = pd.to_numeric(frame[column], errors="coerce")
                if numbers.notna().mean() >= 0.5:
                    rows = np.flatnonzero(numbers.isna() & frame[column].notna()).tolist()
                    problems.append(
                        f"{path.name}: feature column {column!r} holds text (rows {examples(rows)}, counting from "
                        f"0, e.g. {frame[column].iloc[rows[0]]!r})"
                    )
        arrays = [
            c
            for c in frame.columns
            if c not in used and frame[c].dtype == object and isinstance(frame[c].iloc[0], (list, tuple, np.ndarray))
        ]
        if not columns and len(arrays) == 1:  # one array column, no name given
            columns = arrays
    if not columns:
        problems.append(
            f"{path.name}: no feature columns (numeric columns besides the bag id, label, instance "
            f"label and split; or name them with dataset option feature_columns)"
        )
        return None
    if len(columns) == 1 and frame[columns[0]].dtype == object:
        return _features(frame, {**options, "features_column": columns[0]}, used, problems, path)
    nonnumeric = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if nonnumeric:
        problems.append(f"{path.name}: feature column(s) {examples(nonnumeric)} are not numeric")
        return None
    return frame[columns].to_numpy(dtype=np.float32)


def read_instance_table(path: Path, options: dict) -> NaturalBags:
    """Read and validate a user's instance table (and bag table); ConfigError naming every problem."""
    problems: list[str] = []
    check_options("table", TABLE_OPTIONS, options, fold_in_range)
    frame = read_frame(check_readable(path))
    bag_col = options.get("bag_column", "bag_id")
    label_col = options.get("label_column", "label")
    instance_col = options.get("instance_label_column", "instance_label")
    split_col = options.get("split_column", "split")
    bag_table = read_bag_table(path, options)
    if len(frame) == 0:
        raise ConfigError(f"{path}: the table has no rows")
    if bag_col not in frame:
        problems.append(f"{path.name}: missing bag id column {bag_col!r} (columns: {examples(frame.columns)})")
    if bag_table is None and (missing := missing_labels(frame, options)):
        problems.append(f"{path.name}: {missing}")
    used = {bag_col, label_col, instance_col, split_col, *(names_option(options.get("label_columns")) or [])}
    points = _features(frame, options, used, problems, path)
    if points is not None:
        bad_rows = np.flatnonzero(~np.isfinite(points).all(axis=1))
        if len(bad_rows):
            problems.append(
                f"{path.name}: {len(bad_rows)} row(s) have NaN or infinite features (rows "
                f"{examples(bad_rows.tolist())}, counting from 0)"
            )
    if problems and (bag_col not in frame or (bag_table is None and missing_labels(frame, options))):
        raise ConfigError(problem_line(path, problems))
    # the labels' problems join the features': a file's problems are all named at once
    bag_of, names, contents, class_names, split = bag_labels(frame, path, options, bag_table, problems)
    instance_labels = frame[instance_col].to_numpy() if instance_col in frame else None
    assert points is not None  # without features `problems` named why, and bag_labels raised
    return NaturalBags(points, bag_of, names, contents, class_names, split, instance_labels)


def missing_labels(frame, options: dict) -> str | None:
    """What is missing when a list file (no bag table) lacks its labels: the label column, or the per-class
    0/1 columns that option label_columns names."""
    columns = names_option(options.get("label_columns"))
    if columns:
        absent = [c for c in columns if c not in frame]
        return f"missing label column(s) {examples(absent)} (dataset option label_columns)" if absent else None
    label_col = options.get("label_column", "label")
    if label_col in frame:
        return None
    return (
        f"missing label column {label_col!r} (or one 0/1 column per class named by dataset option label_columns, "
        f"or a bag table with dataset option bags)"
    )


def read_bag_table(path: Path, options: dict):
    """The separate bag table of dataset option `bags` (relative to the instance file's folder), or None."""
    if not options.get("bags"):
        return None
    bag_path = Path(options["bags"]).expanduser()
    return read_frame(check_readable(bag_path if bag_path.is_absolute() else path.parent / bag_path))


def bag_labels(
    frame, path: Path, options: dict, bag_table=None, problems: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    """From an instance frame (one row per instance): (bag position of each row, bag names in file order,
    contents (B, C), class names, split per bag or None); ConfigError naming every problem (with those found
    before, `problems`)."""
    problems = [] if problems is None else problems
    bag_col = options.get("bag_column", "bag_id")
    label_col = options.get("label_column", "label")
    split_col = options.get("split_column", "split")
    if frame[bag_col].isna().any():
        problems.append(f"{path.name}: {int(frame[bag_col].isna().sum())} row(s) have no bag id")
    bag_ids = frame[bag_col].astype(str).to_numpy()
    names, first, bag_of = np.unique(bag_ids, return_index=True, return_inverse=True)
    order = np.argsort(first)  # bags in file order
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    bag_of, names = position[bag_of], names[order]
    classes = names_option(options.get("classes"))
    if options.get("class_name") and classes is None:
        classes = [options["class_name"]]
    label_columns = names_option(options.get("label_columns"))

    if bag_table is None and label_columns:
        per_bag = frame.groupby(bag_of)[label_columns]
        mixed = [names[b] for b, n in per_bag.nunique(dropna=False).max(axis=1).items() if n > 1]
        if mixed:
            problems.append(f"{path.name}: bag(s) {examples(mixed)} have different labels on their rows")
        class_names, sets = one_hot_labels(per_bag.first(), label_columns, classes, path.name, problems)
    elif bag_table is None:
        per_bag = frame.groupby(bag_of)[label_col]
        mixed = [names[b] for b, n in per_bag.nunique(dropna=False).items() if n > 1]
        if mixed:
            problems.append(f"{path.name}: bag(s) {examples(mixed)} have different labels on their rows")
        class_names, sets = parse_labels(per_bag.first().to_numpy(), classes, path.name, problems)
    else:
        class_names, sets = _bag_table_labels(
            bag_table, names, bag_col, label_col, classes, problems, Path(options["bags"]).name, label_columns
        )
    split = None
    if split_col in frame:
        values = frame[split_col].astype(str).str.lower()
        bad = sorted(set(values) - set(SPLITS))
        if bad:
            problems.append(f"{path.name}: split values must be train or test, found {examples(bad)}")
        per_bag = values.groupby(bag_of)
        mixed = [names[b] for b, n in per_bag.nunique().items() if n > 1]
        if mixed:
            problems.append(f"{path.name}: bag(s) {examples(mixed)} have rows in both splits")
        split = per_bag.first().to_numpy().astype(str)
    if problems:
        raise ConfigError(problem_line(path, problems))
    contents = np.zeros((len(names), len(class_names)), dtype=np.int16)
    index = {name: i for i, name in enumerate(class_names)}
    for b, labels in enumerate(sets):
        contents[b, [index[label] for label in labels]] = 1
    return bag_of, names, contents, class_names, split


def _bag_table_labels(
    table,
    names: np.ndarray,
    bag_col: str,
    label_col: str,
    classes,
    problems: list[str],
    what: str,
    label_columns: list[str] | None = None,
) -> tuple[list[str], list[set[str]]]:
    """Labels from a separate bag table: a label column, or one 0/1 column per class (those option label_columns
    names, else every column besides the bag id and split)."""
    if bag_col not in table:
        problems.append(f"{what}: missing bag id column {bag_col!r}")
        return [], [set() for _ in names]
    table = table.assign(**{bag_col: table[bag_col].astype(str)})
    duplicated = sorted(set(table[bag_col][table[bag_col].duplicated()]))
    if duplicated:
        problems.append(f"{what}: bag(s) {examples(duplicated)} are listed more than once")
        table = table.drop_duplicates(bag_col)
    listed = set(table[bag_col])
    empty = sorted(listed - set(names))
    if empty:
        problems.append(f"bag(s) {examples(empty)} in {what} have no instances")
    unlabelled = [n for n in names if n not in listed]
    if unlabelled:
        problems.append(f"bag(s) {examples(unlabelled)} have instances but no row in {what}")
    table = table.set_index(bag_col).reindex(names)
    if label_columns:
        absent = [c for c in label_columns if c not in table]
        if absent:
            problems.append(f"{what}: missing label column(s) {examples(absent)} (dataset option label_columns)")
            return list(label_columns), [set() for _ in names]
        return one_hot_labels(table, label_columns, classes, what, problems)
    if label_col in table:
        return parse_labels(table[label_col].to_numpy(), classes, what, problems)
    class_columns = [c for c in table.columns if c not in ("split",)]
    if not class_columns:
        problems.append(f"{what}: no label column {label_col!r} and no per-class 0/1 columns")
        return [], [set() for _ in names]
    return one_hot_labels(table, class_columns, classes, what, problems)


@functools.lru_cache(maxsize=4)
def _cached(path: str, stamp: tuple, options_json: str) -> NaturalBags:
    return read_instance_table(Path(path), json.loads(options_json))


def file_cache_key(options: dict, what: str) -> tuple[str, tuple[int, int], str]:
    """(resolved path, (mtime, size), the options that shape the parse as JSON): a user file is parsed once per
    process while it is unchanged; fingerprint, download and the split options do not change the parse."""
    if not options.get("path"):
        raise ConfigError(f"{what}: --data PATH (dataset option path)")
    path = check_readable(Path(str(options["path"])).expanduser())
    stat = path.stat()
    shown = {k: v for k, v in options.items() if k not in ("fingerprint", "download") + SPLIT_OPTIONS}
    return str(path.resolve()), (stat.st_mtime_ns, stat.st_size), json.dumps(shown, sort_keys=True)


def load_instance_table(options: dict) -> NaturalBags:
    """The validated table of these options, parsed once per process while the file is unchanged."""
    return _cached(*file_cache_key(options, "an instance table needs its file"))
