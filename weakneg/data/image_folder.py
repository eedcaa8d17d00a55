"""The user's own image bags: image files (any format PIL reads) and a CSV `bag_id,path[,instance_label]`.

Bag labels: a `label` column on the rows (0/1 or class names, `cat;dog` for several), one 0/1 column per class
(option label_columns), or a separate bag table (dataset option bags), exactly as for an instance table
(data/labels.py); an optional `split` column.
Paths are relative to the CSV's folder (or to dataset option image_dir). Every image is read once, converted
to RGB (option channels=1: grayscale) and resized to image_size x image_size (default 32); those pixels are
both the model's input and the thumbnails Inspect shows. Bags may hold any number of images.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .bags import ImageBags
from .fingerprint import check_readable
from .natural import NaturalBags, padded_members, test_positions
from .options import IMAGE_OPTIONS, check_options, fold_in_range
from .table import (
    bag_labels,
    file_cache_key,
    listed_files,
    missing_labels,
    problem_line,
    read_bag_table,
    read_frame,
)

SHOWN = 3


def image_paths(path: Path, options: dict) -> list[Path]:
    """The image files the CSV names (in row order), resolved against image_dir or the CSV's folder."""
    return listed_files(path, options, "path_column", "path", "image_dir")


def read_images(paths: list[Path], size: int, channels: int) -> tuple[np.ndarray, list[str]]:
    """(N, size, size, channels) uint8 and the problems: files that are missing or do not open as images."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    images = np.zeros((len(paths), size, size, channels), dtype=np.uint8)
    broken = []
    for row, file in enumerate(paths):
        try:
            with warnings.catch_warnings():  # PIL only warns below twice its pixel limit: refuse those too
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(file) as opened:
                    image = opened.convert("L" if channels == 1 else "RGB")
                    image = image.resize((size, size), Image.Resampling.BILINEAR)
                    images[row] = np.asarray(image).reshape(size, size, channels)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            broken.append(f"{file.name} (too large to decode: {error_pixels(error)})")
        except (OSError, UnidentifiedImageError, ValueError) as error:
            broken.append(f"{file.name} ({'missing' if isinstance(error, FileNotFoundError) else 'not an image'})")
    problems = []
    if broken:
        shown = ", ".join(broken[:SHOWN]) + (f" and {len(broken) - SHOWN} more" if len(broken) > SHOWN else "")
        problems.append(f"{len(broken)} of {len(paths)} image(s) do not open: {shown}")
    return images, problems


def error_pixels(error: Exception) -> str:
    """PIL's message says 'Image size (N pixels) exceeds limit of M pixels...': keep the numbers."""
    import re

    found = re.findall(r"\d+", str(error))
    if len(found) >= 2:
        return f"{int(found[0]) / 1e6:,.0f} megapixels, the limit is {int(found[1]) / 1e6:,.0f}"
    return "more pixels than PIL's safety limit"


def read_image_bags(path: Path, options: dict) -> tuple[NaturalBags, np.ndarray]:
    """(bags, images): NaturalBags whose points are row numbers into the images array."""
    check_options("image_bags", IMAGE_OPTIONS, options, fold_in_range)
    size, channels = int(options.get("image_size", 32)), int(options.get("channels", 3))  # checked above
    frame = read_frame(check_readable(path))
    bag_table = read_bag_table(path, options)
    problems = []
    for what, column in (("bag id", options.get("bag_column", "bag_id")), ("path", options.get("path_column", "path"))):
        if column not in frame:
            problems.append(f"{path.name}: missing {what} column {column!r}")
    if bag_table is None and (missing := missing_labels(frame, options)):
        problems.append(f"{path.name}: {missing}")
    if len(frame) == 0:
        problems.append(f"{path.name}: no rows")
    if problems:
        raise ConfigError(problem_line(path, problems))
    images, problems = read_images(image_paths(path, options), size, channels)
    try:
        bag_of, names, contents, class_names, split = bag_labels(frame, path, options, bag_table)
    except ConfigError as error:
        raise ConfigError(problem_line(path, problems + [str(error)])) from error
    if problems:
        raise ConfigError(problem_line(path, problems))
    instance_col = options.get("instance_label_column", "instance_label")
    instance_labels = frame[instance_col].to_numpy() if instance_col in frame else None
    rows = np.arange(len(frame), dtype=np.float32)[:, None]
    return NaturalBags(rows, bag_of, names, contents, class_names, split, instance_labels), images


@functools.lru_cache(maxsize=2)  # decoded pixels: keep the latest two image sets per process
def _cached(path: str, stamp: tuple, options_json: str) -> tuple[NaturalBags, np.ndarray]:
    return read_image_bags(Path(path), json.loads(options_json))


def load_image_bags(options: dict) -> tuple[NaturalBags, np.ndarray]:
    return _cached(*file_cache_key(options, "image bags need their CSV"))


def image_splits(options: dict, target: int, seed: int, require_target: bool = True) -> tuple[ImageBags, ImageBags]:
    """Train and test ImageBags; pixels normalised with the training images' per-channel mean and std.
    require_target: as for natural.vector_splits."""
    natural, images = load_image_bags(options)
    labels = natural.labels(target)
    test = np.zeros(natural.n_bags, dtype=bool)
    test[test_positions(natural, natural.strata(target, require_target), options, seed)] = True
    splits = []
    for name, chosen in (("train", ~test), ("test", test)):
        positions = np.flatnonzero(chosen)
        n_pos = int(labels[positions].sum())
        if require_target and (n_pos == 0 or n_pos == len(positions)):
            raise ConfigError(
                f"{Path(options['path']).name}: the {name} split has no "
                f"{'positive' if n_pos == 0 else 'negative'} bag for class "
                f"{natural.class_names[target]!r} ({len(positions)} bags); use fewer folds or "
                f"another split"
            )
        rows = np.flatnonzero(chosen[natural.bag_of])
        renumber = np.full(natural.n_bags, -1, dtype=np.int64)
        renumber[positions] = np.arange(len(positions))
        splits.append((rows, padded_members(renumber[natural.bag_of[rows]], len(positions)), positions))
    train_pixels = images[splits[0][0]].reshape(-1, images.shape[-1]) / 255.0
    mean, std = train_pixels.mean(0), train_pixels.std(0) + 1e-6
    files = np.array([str(f.resolve()) for f in image_paths(Path(options["path"]), options)])
    train, test_bags = (
        ImageBags(
            images[rows],
            mean,
            std,
            members,
            labels[positions],
            natural.contents[positions],
            positions,
            sources=files[rows],
        )  # Inspect reads the files themselves
        for rows, members, positions in splits
    )
    return train, test_bags


__all__ = ["image_paths", "image_splits", "load_image_bags", "read_image_bags"]
