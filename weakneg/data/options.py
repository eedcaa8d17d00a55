"""Declared dataset options: each dataset says which `dataset_options` it reads (type, bounds or choices,
default, one line of help), so a typo or a bad value is refused before anything is loaded or written,
with one line naming the options the dataset has; `datasets` and the Launch page list them.

Values are checked, not converted, except that a whole number is accepted where a float is declared (and
an integral float where an int is): the loaders read what was given, their defaults are the declared ones.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from ..declared import Declared
from ..errors import ConfigError
from .augment import AugmentSettings


class DatasetOption(Declared):
    """A dataset's option (checked, not converted: the loaders read the value as given)."""

    def accepts(self, value: Any) -> bool:
        return self.normalised(value)[0]


def names_text(declared: dict[str, DatasetOption]) -> str:
    return ", ".join(declared) if declared else "none"


def check_options(
    dataset: str,
    declared: dict[str, DatasetOption],
    values: dict[str, Any],
    relations: Callable[[dict], str | None] | None = None,
) -> None:
    """Raise ConfigError (one line, naming the dataset's options) for an unknown key or a value out of bounds."""
    if not isinstance(values, dict):
        raise ConfigError(f"dataset_options must be a mapping of KEY: VALUE, got {values!r}")
    valid = f"{dataset}'s options: {names_text(declared)}"
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ConfigError(
            f"dataset {dataset!r} has no option(s) {', '.join(unknown)}; {valid} "
            f"(`python -m weakneg datasets` describes them)"
        )
    for name, value in values.items():
        option = declared[name]
        if not option.accepts(value):
            raise ConfigError(
                f"dataset {dataset!r}: option {name} must be {option.bounds_text()}, got {value!r}; {valid}"
            )
    if relations is not None and (problem := relations({**defaults(declared), **values})):
        raise ConfigError(f"dataset {dataset!r}: {problem}; {valid}")


def defaults(declared: dict[str, DatasetOption]) -> dict[str, Any]:
    return {name: option.default for name, option in declared.items()}


# --- option sets shared by several datasets -----------------------------------------------------------


def split_options(folds: int, standardize: bool = True) -> dict[str, DatasetOption]:
    """Natural bags without a split of their own: stratified folds by bag (data/natural.py); feature vectors
    are standardised (`standardize`)."""
    declared = {
        "folds": DatasetOption(
            folds, "int", "stratified folds by bag (deterministic from the run seed)", minimum=2, maximum=1000
        ),
        "fold": DatasetOption(0, "int", "the fold the run tests on", minimum=0, maximum=999),
    }
    if standardize:
        declared["standardize"] = DatasetOption(
            True, "bool", "standardise features with the training instances' mean and std"
        )
    return declared


def fold_in_range(values: dict) -> str | None:
    if values["fold"] >= values["folds"]:
        return f"option fold must be in 0..{values['folds'] - 1} (folds={values['folds']}), got {values['fold']}"
    return None


MIN_SECONDS = 1.0  # audio clips shorter than this are skipped by default
DOWNLOAD = {"download": DatasetOption(False, "bool", "fetch the files when missing (needs internet; --download)")}
FINGERPRINT = {
    "fingerprint": DatasetOption(
        None, "text", "sha256 of the data files, recorded by weakneg: a changed file is refused", nullable=True
    )
}


def augment_options() -> dict[str, DatasetOption]:
    """SpecAugment and mixup for audio runs that augment (data/augment.py's defaults)."""
    d = AugmentSettings()
    return {
        "freq_mask": DatasetOption(d.freq_mask, "int", "widest frequency mask in mel bins (augment)", minimum=0),
        "time_mask": DatasetOption(d.time_mask, "int", "widest time mask in frames (augment)", minimum=0),
        "mixup_alpha": DatasetOption(d.mixup_alpha, "float", "mixup Beta(alpha, alpha) (augment)", minimum=0.001),
        "mixup_rate": DatasetOption(d.mixup_rate, "float", "share of a batch mixed (augment)", minimum=0, maximum=1),
    }


# --- the user's own data (--data PATH) -------------------------------------------------------------------


def _text(default, help_: str, nullable: bool = False) -> DatasetOption:
    return DatasetOption(default, "text", help_, nullable=nullable)


PATH = {"path": _text(None, "the data file (set by --data PATH)", nullable=True)}
BAG_LABELS = {
    "bags": _text(None, "a separate bag table with the bag labels (CSV or Parquet)", nullable=True),
    "bag_column": _text("bag_id", "the bag id column"),
    "label_column": _text("label", "the bag label column (0/1 or class names, a;b for several)"),
    "label_columns": DatasetOption(
        None, "names", "the bag's labels as one 0/1 column per class (instead of label_column)", nullable=True
    ),
    "instance_label_column": _text("instance_label", "optional instance labels (analysis only)"),
    "split_column": _text("split", "optional train/test column"),
    "classes": DatasetOption(None, "names", "the known class list labels must come from", nullable=True),
    "class_name": _text(None, "the name of the one class of 0/1 labels", nullable=True),
}
TABLE_OPTIONS = {
    **PATH,
    **BAG_LABELS,
    "feature_columns": DatasetOption(
        None, "names", "the feature columns (default: every numeric column not named above)", nullable=True
    ),
    "features_column": _text(None, "one array column holding the features", nullable=True),
    **split_options(folds=5),
    **FINGERPRINT,
}
IMAGE_OPTIONS = {
    **PATH,
    **BAG_LABELS,
    "path_column": _text("path", "the image path column"),
    "image_dir": _text(None, "the folder image paths are relative to (default: the CSV's)", nullable=True),
    "image_size": DatasetOption(32, "int", "images are resized to this many pixels square", minimum=8, maximum=256),
    "channels": DatasetOption(3, "choice", "1: grayscale, 3: RGB", choices=(1, 3)),
    **split_options(folds=5, standardize=False),
    **FINGERPRINT,
}


def min_seconds_option() -> dict[str, DatasetOption]:
    """The shortest clip kept, shared by every audio dataset."""
    return {
        "min_seconds": DatasetOption(
            MIN_SECONDS, "float", "clips shorter than this are skipped (seconds)", minimum=0, maximum=3600
        )
    }


def clip_options() -> dict[str, DatasetOption]:
    return {
        **PATH,
        "audio_dir": _text(None, "the folder clip paths are relative to (default: the CSV's)", nullable=True),
        "clip_column": _text("clip", "the clip file column"),
        "labels_column": _text("labels", 'the labels column (a;b or "a,b")'),
        "label_columns": BAG_LABELS["label_columns"],
        "split_column": _text("split", "optional train/test column"),
        "classes": BAG_LABELS["classes"],
        **min_seconds_option(),
        **augment_options(),
        **split_options(folds=5, standardize=False),
        **FINGERPRINT,
    }
