"""Datasets -> bags. One registry; each entry says whether its files are present and how to get them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import paths
from ..targets import is_multilabel, multilabel_targets
from ..errors import ConfigError, DatasetMissing
from . import image_datasets, audio, mil, soundscapes, user  # noqa: F401  (register their datasets, in this order)
from .bags import BagSet, ImageBags, VectorBags, make_bags, split_off, split_off_stratified
from .image_datasets import IMAGE_CACHE_SIZE, forget_image_sets, loaded_image_sets
from .options import DatasetOption
from .registry import DATASETS, DatasetSpec, register_dataset


@dataclass
class LoadedBags:
    dataset: str
    class_names: list[str]
    target: int
    train: BagSet
    test: BagSet
    val: BagSet | None = None
    targets: list[int] | None = None  # a multi-label run's classes (indices into class_names); None: binary

    @property
    def multilabel(self) -> bool:
        return self.targets is not None

    @property
    def target_names(self) -> list[str]:
        return [self.class_names[t] for t in self.targets] if self.targets is not None else [self.target_name]

    @property
    def target_name(self) -> str:
        if self.targets is not None:
            return "all" if len(self.targets) == len(self.class_names) else ",".join(self.target_names)
        return self.class_names[self.target]


def resolve_root(data_root: str | Path | None) -> Path:
    """The folder of the built-in data sets; a file there is refused (never a silent fall-back to another copy)."""
    root = Path(data_root).expanduser() if data_root else paths.data_root()
    if root.exists() and not root.is_dir():
        raise ConfigError(
            f"the data root {root} is a file, not a folder; give the folder that holds the data sets "
            f"(--data-root, $WEAKNEG_DATA_ROOT)"
        )
    return root


def dataset_status(data_root: str | Path | None = None) -> dict[str, str | None]:
    """For each dataset: None when it can be used now, else the message saying how to get it."""
    try:
        root = resolve_root(data_root)
    except ConfigError as error:  # a data root that is a file: every built-in data set says so (a read never raises)
        return {name: str(error) for name, spec in DATASETS.items() if not spec.by_path}
    return {name: spec.missing(root, {}) for name, spec in DATASETS.items() if not spec.by_path}


def class_names(dataset: str, data_root: str | Path | None = None, options: dict | None = None) -> list[str]:
    spec = _spec(dataset)
    spec.check_options(options or {})
    root = resolve_root(data_root)
    if (message := spec.missing(root, options or {})) and not (options or {}).get("download"):
        raise DatasetMissing(message)
    return spec.class_names(root, options or {})


def resolve_class(names: list[str], target: int | str) -> int:
    """A class given by index or by name (case-insensitive) -> its index."""
    if isinstance(target, str) and target.strip().lstrip("-").isdigit():
        target = int(target)
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if len(names) == 1 and target == 1:  # one class (0/1 labels, MUSK's musk): 1 is its positive label
            return 0
        if 0 <= target < len(names):
            return int(target)
        raise ConfigError(f"target class {target} is out of range: this dataset has classes 0..{len(names) - 1}")
    lowered = [n.lower() for n in names]
    if isinstance(target, str) and target.lower() in lowered:
        return lowered.index(target.lower())
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    # "Speech,Male speech, man speaking" reads as one name (", " belongs to names, targets.py): lists of such names
    # are given by index
    hint = "; several classes whose names hold ', ': give their indices (0,1,2)" if "," in str(target) else ""
    raise ConfigError(f"unknown target class {target!r}; classes are: {shown}{hint}")


def load_bags(cfg, on_phase: Callable[[str], None] | None = None) -> LoadedBags:
    """Build the train / test (and optional validation) bags of a run. `on_phase(name)` is called as each phase
    begins (the CLI prints how long each took: loading a large data set is otherwise silent)."""
    phase = on_phase or (lambda name: None)
    spec = _spec(cfg.dataset)
    spec.check_options(cfg.dataset_options)
    root = resolve_root(cfg.data_root)
    phase("looking for the data")
    if (message := spec.missing(root, cfg.dataset_options)) and not cfg.dataset_options.get("download"):
        raise DatasetMissing(message)
    phase("reading class names")
    names = spec.class_names(root, cfg.dataset_options)
    if is_multilabel(cfg.target_class):
        return _multilabel_bags(cfg, spec, root, names)
    target = resolve_class(names, cfg.target_class)
    phase("reading instances and building bags")
    train, test = spec.build(cfg, root, target)
    val = None
    if cfg.val_fraction:
        phase("splitting off validation bags")
        train, val = split_off(train, cfg.val_fraction, cfg.seed)
    return LoadedBags(cfg.dataset, names, target, train, test, val)


def _multilabel_bags(cfg, spec: DatasetSpec, root: Path, names: list[str]) -> LoadedBags:
    """One bag set for every class of a multi-label run: each bag's labels are the classes its `contents` holds."""
    wanted = multilabel_targets(cfg.target_class)
    targets = list(range(len(names))) if wanted is None else [resolve_class(names, t) for t in wanted]
    if len(set(targets)) != len(targets):
        raise ConfigError(f"target_class {cfg.target_class!r} names a class twice; name each class once")
    train, test = spec.build(cfg, root, None if spec.per_class_layout else targets[0])
    val = None
    if cfg.val_fraction:  # stratified per class; each class must keep positives and negatives everywhere
        train, val = split_off_stratified(train, cfg.val_fraction, cfg.seed)
    splits = {"train": train.contents, "test": test.contents, **({"validation": val.contents} if val else {})}
    if problem := unlearnable_classes(splits, targets, names):
        raise ConfigError(problem)
    return LoadedBags(cfg.dataset, names, targets[0], train, test, val, targets)


def unlearnable_classes(contents: dict[str, np.ndarray], targets: list[int], names: list[str]) -> str | None:
    """One line naming the classes a split cannot serve (no bag carries them, or every bag does: no AP, no
    negatives to choose), and the fix: the classes every split can serve, by index (AudioSet's names hold
    commas, which a list of names cannot)."""
    carried = {split: (np.asarray(c)[:, targets] > 0).sum(0) for split, c in contents.items()}
    fine = np.logical_and.reduce([(n > 0) & (n < len(contents[s])) for s, n in carried.items()])
    usable = [t for t, ok in zip(targets, fine) if ok]
    for split, counts in carried.items():
        size = len(contents[split])
        for what, flags in (
            ("no positive bag", counts == 0),
            ("no negative bag (every bag carries it)", counts == size),
        ):
            if flags.any():
                absent = [names[t] for t, flag in zip(targets, flags) if flag]
                more = f" and {len(absent) - 5} more" if len(absent) > 5 else ""
                listed = ",".join(map(str, usable)) + ("," if len(usable) == 1 else "")  # "3,": a list of one
                fix = f"train the {len(usable)} every split serves with --target-class {listed}, " if usable else ""
                return (
                    f"{len(absent)} of {len(targets)} classes have {what} in the {split} split ({size} bags): "
                    f"{', '.join(map(repr, absent[:5]))}{more}; {fix}or use more data (--max-instances)"
                )
    return None


def _spec(name: str) -> DatasetSpec:
    return DATASETS.lookup(name)


__all__ = [
    "BagSet",
    "DATASETS",
    "DatasetOption",
    "DatasetSpec",
    "IMAGE_CACHE_SIZE",
    "ImageBags",
    "LoadedBags",
    "VectorBags",
    "class_names",
    "dataset_status",
    "forget_image_sets",
    "load_bags",
    "loaded_image_sets",
    "make_bags",
    "register_dataset",
    "resolve_class",
    "split_off",
]
