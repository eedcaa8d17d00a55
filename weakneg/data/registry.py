"""The dataset registry: what each data set is, whether its files are here, how to make its bags. Dataset modules
(image_datasets, audio, mil, soundscapes, user) register theirs where they are defined; data/__init__.py imports
them, in the order lists show them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..registry import Registry
from .bags import BagSet
from .options import DatasetOption, check_options


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    modality: str  # "image" or "audio"
    description: str
    # (root, dataset_options) -> None when ready, else what to install or where to put the files
    missing: Callable[[Path, dict], str | None]
    class_names: Callable[[Path, dict], list[str]]
    # (config: a RunConfig, from a higher layer; root; target: a class index, or None to a per_class_layout
    # dataset for a multi-label run's one layout; the others always get an index)
    build: Callable[[Any, Path, Any], tuple[BagSet, BagSet]]
    by_path: bool = False  # the user's own data, named by --data PATH: not listed among the built-in data sets
    options: dict[str, DatasetOption] = field(default_factory=dict)  # the dataset_options it reads (declared)
    relations: Callable[[dict], str | None] | None = None  # a check across options (all given, with defaults)
    # data made on first use (soundscapes): `preparation(dataset_options)` reads how it stands (making.Progress);
    # `prepare_in_background(dataset_options, retry)` starts it in a thread, so that a page never waits for it
    preparation: Callable[[dict], Any] | None = None
    prepare_in_background: Callable[[dict, bool], Any] | None = None
    # bags built around the target class (labelled image sets): a multi-label run asks `build` for target None,
    # one target-free layout (data/bags.py `shuffled_bags`); other datasets' bags are the same for every class
    per_class_layout: bool = False

    def check_options(self, values: dict[str, Any]) -> None:
        """ConfigError (one line naming this dataset's options) for an unknown key or a bad value."""
        check_options(self.name, self.options, values, self.relations)


DATASETS: Registry[DatasetSpec] = Registry("dataset", DatasetSpec)
register_dataset = DATASETS.register
