"""The bundled and downloadable image sets (digits, Fashion-MNIST, CIFAR-10) as registry entries, with the
per-process caches that keep a loaded set (and its normalised pixels) for the next run."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .bags import BagSet, image_bags, normalised_pixels
from .images import (
    ImageData,
    check_image_data,
    cifar10_missing,
    fashion_mnist_missing,
    load_cifar10,
    load_digits_data,
    load_fashion_mnist,
)
from .options import DOWNLOAD
from .registry import DatasetSpec, register_dataset


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
            _IMAGE_CACHE[key] = check_image_data(name, loader(root, options))
            while len(_IMAGE_CACHE) > IMAGE_CACHE_SIZE:
                _IMAGE_CACHE.pop(next(iter(_IMAGE_CACHE)))
        return _IMAGE_CACHE[key]

    def build(cfg, root: Path, target: int | None) -> tuple[BagSet, BagSet]:
        """target None: the target-free layout of a multi-label run."""
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
        per_class_layout=True,
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
