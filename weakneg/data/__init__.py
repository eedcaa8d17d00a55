"""Datasets -> bags. One registry; each entry says whether its files are present and how to get them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np

from .. import paths
from ..errors import ConfigError, DatasetMissing
from .bags import BagSet, ImageBags, VectorBags, image_bags, make_bags, normalised_pixels, split_off
from .images import (
    ImageData,
    cifar10_missing,
    fashion_mnist_missing,
    load_cifar10,
    load_digits_data,
    load_fashion_mnist,
)
from .options import DOWNLOAD, DatasetOption, check_options


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    modality: str  # "image" or "audio"
    description: str
    # (root, dataset_options) -> None when ready, else what to install or where to put the files
    missing: Callable[[Path, dict], str | None]
    class_names: Callable[[Path, dict], list[str]]
    build: Callable[[RunConfig, Path, int], tuple[BagSet, BagSet]]  # noqa: F821  (config, root, target)
    by_path: bool = False  # the user's own data, named by --data PATH: not listed among the built-in data sets
    options: dict[str, DatasetOption] = field(default_factory=dict)  # the dataset_options it reads (declared)
    relations: Callable[[dict], str | None] | None = None  # a check across options (all given, with defaults)
    # data made on first use (soundscapes): `preparation(dataset_options)` reads how it stands (making.Progress);
    # `prepare_in_background(dataset_options, retry)` starts it in a thread, so that a page never waits for it
    preparation: Callable[[dict], Any] | None = None
    prepare_in_background: Callable[[dict, bool], Any] | None = None

    def check_options(self, values: dict[str, Any]) -> None:
        """ConfigError (one line naming this dataset's options) for an unknown key or a bad value."""
        check_options(self.name, self.options, values, self.relations)


@dataclass
class LoadedBags:
    dataset: str
    class_names: list[str]
    target: int
    train: BagSet
    test: BagSet
    val: BagSet | None = None

    @property
    def target_name(self) -> str:
        return self.class_names[self.target]


IMAGE_CACHE_SIZE = 3  # loaded image sets kept per process (Fashion-MNIST: ~55 MB of uint8 each)
_IMAGE_CACHE: dict[tuple, ImageData] = {}  # insertion order = least recently used first
_PIXEL_CACHE: dict[tuple, tuple] = {}  # (mean, std, train pixels, test pixels) per image set and instance cap


def image_dataset(name: str, description: str, loader, missing, options: dict | None = None) -> DatasetSpec:
    """A registry entry for an image dataset whose loader returns ImageData."""

    def load(root: Path, options: dict) -> ImageData:
        key = (name, str(root.resolve()))  # one copy however the root is spelled
        if key in _IMAGE_CACHE:  # loading Fashion-MNIST/CIFAR takes seconds: keep a few per process
            _IMAGE_CACHE[key] = _IMAGE_CACHE.pop(key)
        else:
            _IMAGE_CACHE[key] = loader(root, options)
            while len(_IMAGE_CACHE) > IMAGE_CACHE_SIZE:
                _IMAGE_CACHE.pop(next(iter(_IMAGE_CACHE)))
        return _IMAGE_CACHE[key]

    def build(cfg, root: Path, target: int) -> tuple[BagSet, BagSet]:
        data = load(root, cfg.dataset_options)
        images, labels = data.train_images, data.train_labels
        test_images, test_labels = data.test_images, data.test_labels
        sources = np.arange(len(labels))  # rows of the training split each image is (saved for Inspect)
        if cfg.max_instances:
            sources = _kept_rows(len(labels), cfg.max_instances, cfg.seed)
            images, labels = _first(images, labels, cfg.max_instances, cfg.seed)
            test_images, test_labels = _first(test_images, test_labels, cfg.max_instances, cfg.seed)
        # one normalised copy per image set, whatever the target class or bag size (Fashion-MNIST: ~220 MB)
        key = (name, str(root.resolve()), cfg.max_instances, cfg.seed if cfg.max_instances else None)
        if key in _PIXEL_CACHE:
            _PIXEL_CACHE[key] = _PIXEL_CACHE.pop(key)
        else:
            mean = images.reshape(-1, images.shape[-1]).mean(0) / 255.0
            std = images.reshape(-1, images.shape[-1]).std(0) / 255.0 + 1e-6
            _PIXEL_CACHE[key] = (
                mean,
                std,
                normalised_pixels(images, mean, std),
                normalised_pixels(test_images, mean, std),
            )
            while len(_PIXEL_CACHE) > IMAGE_CACHE_SIZE:
                _PIXEL_CACHE.pop(next(iter(_PIXEL_CACHE)))
        mean, std, train_pixels, test_pixels = _PIXEL_CACHE[key]
        n_classes = len(data.class_names)
        return (
            image_bags(
                images, labels, n_classes, target, cfg.bag_size, cfg.seed, "train", mean, std, train_pixels, sources
            ),
            image_bags(
                test_images, test_labels, n_classes, target, cfg.bag_size, cfg.seed, "test", mean, std, test_pixels
            ),
        )

    return DatasetSpec(
        name,
        "image",
        description,
        lambda root, options: missing(root),
        lambda root, options: load(root, options).class_names,
        build,
        options=dict(options or {}),
    )


def loaded_image_sets() -> list[tuple[str, str]]:
    """(dataset, resolved root) of the image sets this process holds, least recently used first."""
    return list(_IMAGE_CACHE)


def forget_image_sets() -> None:
    _IMAGE_CACHE.clear()
    _PIXEL_CACHE.clear()


def _first(images: np.ndarray, labels: np.ndarray, limit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    keep = _kept_rows(len(labels), limit, seed)
    return images[keep], labels[keep]


def _kept_rows(n: int, limit: int, seed: int) -> np.ndarray:
    return np.sort(np.random.default_rng([seed, 3]).permutation(n)[:limit])


DATASETS: dict[str, DatasetSpec] = {}


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    DATASETS[spec.name] = spec
    return spec


register_dataset(
    image_dataset(
        "digits",
        "scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes); always available",
        load_digits_data,
        lambda root: None,
    )
)
register_dataset(
    image_dataset(
        "fashion_mnist",
        "Fashion-MNIST: 70,000 28x28 clothing images, 10 classes",
        load_fashion_mnist,
        fashion_mnist_missing,
        DOWNLOAD,
    )
)
register_dataset(
    image_dataset(
        "cifar10",
        "CIFAR-10: 60,000 32x32 colour images, 10 classes (the paper's image set)",
        load_cifar10,
        cifar10_missing,
        DOWNLOAD,
    )
)


def resolve_root(data_root: str | Path | None) -> Path:
    return Path(data_root).expanduser() if data_root else paths.data_root()


def dataset_status(data_root: str | Path | None = None) -> dict[str, str | None]:
    """For each dataset: None when it can be used now, else the message saying how to get it."""
    root = resolve_root(data_root)
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
        if 0 <= target < len(names):
            return int(target)
        raise ConfigError(f"target class {target} is out of range: this dataset has classes 0..{len(names) - 1}")
    lowered = [n.lower() for n in names]
    if isinstance(target, str) and target.lower() in lowered:
        return lowered.index(target.lower())
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    raise ConfigError(f"unknown target class {target!r}; classes are: {shown}")


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
    target = resolve_class(names, cfg.target_class)
    phase("reading instances and building bags")
    train, test = spec.build(cfg, root, target)
    val = None
    if cfg.val_fraction:
        phase("splitting off validation bags")
        train, val = split_off(train, cfg.val_fraction, cfg.seed)
    return LoadedBags(cfg.dataset, names, target, train, test, val)


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return DATASETS[name]


__all__ = [
    "BagSet",
    "DATASETS",
    "DatasetOption",
    "DatasetSpec",
    "ImageBags",
    "LoadedBags",
    "VectorBags",
    "class_names",
    "dataset_status",
    "load_bags",
    "make_bags",
    "register_dataset",
    "resolve_class",
    "split_off",
]

# registers audioset, the MIL benchmarks, soundscapes, the user's own data
from . import audio as _audio, mil as _mil, soundscapes as _soundscapes, user as _user  # noqa: E402,F401
