"""Declared dataset options: each dataset says which `dataset_options` it reads (type, bounds or choices,
default, one line of help), so a typo or a bad value is refused before anything is loaded or written,
with one line naming the options the dataset has; `datasets` and the Launch page list them.

Values are checked, not converted, except that a whole number is accepted where a float is declared (and
an integral float where an int is): the loaders read what was given, their defaults are the declared ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ConfigError

KINDS = ("int", "float", "bool", "choice", "text", "names")  # names: a list of texts or one comma-separated text


@dataclass(frozen=True)
class DatasetOption:
    default: Any
    kind: str  # one of KINDS
    help: str
    choices: tuple = ()
    minimum: float | None = None  # inclusive
    maximum: float | None = None  # inclusive
    nullable: bool = False  # null allowed (means: not given)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"DatasetOption kind must be one of {KINDS}, got {self.kind!r}")

    def bounds_text(self) -> str:
        if self.kind == "choice":
            text = "one of " + ", ".join(map(str, self.choices))
        elif self.kind == "bool":
            text = "true or false"
        elif self.kind == "text":
            text = "text"
        elif self.kind == "names":
            text = "a list of names (or one comma-separated text)"
        else:
            text = "a whole number" if self.kind == "int" else "a finite number"
            if self.minimum is not None and self.maximum is not None:
                text += f" from {_plain(self.minimum)} to {_plain(self.maximum)}"
            elif self.minimum is not None:
                text += f" >= {_plain(self.minimum)}"
            elif self.maximum is not None:
                text += f" <= {_plain(self.maximum)}"
        return text + (" or null" if self.nullable else "")

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        if self.kind == "choice":
            return not isinstance(value, bool) and value in self.choices
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "text":
            return isinstance(value, str) and bool(value.strip())
        if self.kind == "names":
            return isinstance(value, str) or (isinstance(value, (list, tuple))
                                               and all(isinstance(v, str) and v for v in value))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if self.kind == "int" and not float(value).is_integer():
            return False
        return not ((self.minimum is not None and value < self.minimum)
                    or (self.maximum is not None and value > self.maximum))

    def line(self, name: str) -> str:
        """One line for people: `name=default  (bounds) help`."""
        default = "" if self.default is None else _shown(self.default)
        return f"{name}={default}  ({self.bounds_text()}) {self.help}"


def _plain(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def names_text(declared: dict[str, DatasetOption]) -> str:
    return ", ".join(declared) if declared else "none"


def check_options(dataset: str, declared: dict[str, DatasetOption], values: dict[str, Any],
                  relations: Callable[[dict], str | None] | None = None) -> None:
    """Raise ConfigError (one line, naming the dataset's options) for an unknown key or a value out of bounds."""
    if not isinstance(values, dict):
        raise ConfigError(f"dataset_options must be a mapping of KEY: VALUE, got {values!r}")
    valid = f"{dataset}'s options: {names_text(declared)}"
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ConfigError(f"dataset {dataset!r} has no option(s) {', '.join(unknown)}; {valid} "
                          f"(`python -m weakneg_core datasets` describes them)")
    for name, value in values.items():
        option = declared[name]
        if not option.accepts(value):
            raise ConfigError(f"dataset {dataset!r}: option {name} must be {option.bounds_text()}, got {value!r}; "
                              f"{valid}")
    if relations is not None and (problem := relations({**defaults(declared), **values})):
        raise ConfigError(f"dataset {dataset!r}: {problem}; {valid}")


def defaults(declared: dict[str, DatasetOption]) -> dict[str, Any]:
    return {name: option.default for name, option in declared.items()}


# --- option sets shared by several datasets -----------------------------------------------------------

def split_options(folds: int, standardize: bool = True) -> dict[str, DatasetOption]:
    """Natural bags without a split of their own: stratified folds by bag (data/natural.py); feature vectors
    are standardised (`standardize`)."""
    declared = {"folds": DatasetOption(folds, "int", "stratified folds by bag (deterministic from the run seed)",
                                       minimum=2, maximum=1000),
                "fold": DatasetOption(0, "int", "the fold the run tests on", minimum=0, maximum=999)}
    if standardize:
        declared["standardize"] = DatasetOption(True, "bool", "standardise features with the training instances' "
                                                              "mean and std")
    return declared


def fold_in_range(values: dict) -> str | None:
    if values["fold"] >= values["folds"]:
        return f"option fold must be in 0..{values['folds'] - 1} (folds={values['folds']}), got {values['fold']}"
    return None


DOWNLOAD = {"download": DatasetOption(False, "bool", "fetch the files when missing (needs internet; --download)")}
FINGERPRINT = {"fingerprint": DatasetOption(None, "text", "sha256 of the data files, recorded by weakneg: a "
                                                          "changed file is refused", nullable=True)}


def augment_options() -> dict[str, DatasetOption]:
    """SpecAugment and mixup for audio runs that augment (data/augment.py's defaults)."""
    from .augment import AugmentSettings

    d = AugmentSettings()
    return {"freq_mask": DatasetOption(d.freq_mask, "int", "widest frequency mask in mel bins (augment)", minimum=0),
            "time_mask": DatasetOption(d.time_mask, "int", "widest time mask in frames (augment)", minimum=0),
            "mixup_alpha": DatasetOption(d.mixup_alpha, "float", "mixup Beta(alpha, alpha) (augment)", minimum=0.001),
            "mixup_rate": DatasetOption(d.mixup_rate, "float", "share of a batch mixed (augment)", minimum=0,
                                        maximum=1)}


# --- the user's own data (--data PATH) -------------------------------------------------------------------

def _text(default, help_: str, nullable: bool = False) -> DatasetOption:
    return DatasetOption(default, "text", help_, nullable=nullable)


PATH = {"path": _text(None, "the data file (set by --data PATH)", nullable=True)}
BAG_LABELS = {
    "bags": _text(None, "a separate bag table with the bag labels (CSV or Parquet)", nullable=True),
    "bag_column": _text("bag_id", "the bag id column"),
    "label_column": _text("label", "the bag label column (0/1 or class names, a;b for several)"),
    "instance_label_column": _text("instance_label", "optional instance labels (analysis only)"),
    "split_column": _text("split", "optional train/test column"),
    "classes": DatasetOption(None, "names", "the known class list labels must come from", nullable=True),
    "class_name": _text(None, "the name of the one class of 0/1 labels", nullable=True)}
TABLE_OPTIONS = {**PATH, **BAG_LABELS,
                 "feature_columns": DatasetOption(None, "names", "the feature columns (default: every numeric "
                                                                 "column not named above)", nullable=True),
                 "features_column": _text(None, "one array column holding the features", nullable=True),
                 **split_options(folds=5), **FINGERPRINT}
IMAGE_OPTIONS = {**PATH, **BAG_LABELS,
                 "path_column": _text("path", "the image path column"),
                 "image_dir": _text(None, "the folder image paths are relative to (default: the CSV's)",
                                    nullable=True),
                 "image_size": DatasetOption(32, "int", "images are resized to this many pixels square", minimum=8,
                                             maximum=256),
                 "channels": DatasetOption(3, "choice", "1: grayscale, 3: RGB", choices=(1, 3)),
                 **split_options(folds=5, standardize=False), **FINGERPRINT}


def clip_options() -> dict[str, DatasetOption]:
    from .audio import min_seconds_option

    return {**PATH,
            "audio_dir": _text(None, "the folder clip paths are relative to (default: the CSV's)", nullable=True),
            "clip_column": _text("clip", "the clip file column"),
            "labels_column": _text("labels", "the labels column (a;b or \"a,b\")"),
            "split_column": _text("split", "optional train/test column"),
            "classes": BAG_LABELS["classes"], **min_seconds_option(), **augment_options(),
            **split_options(folds=5, standardize=False), **FINGERPRINT}
