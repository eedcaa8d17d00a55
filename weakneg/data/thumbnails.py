"""The few images a bag card shows, read straight from the data set's own files by row: no bags are built, nothing
is normalised or cached. An uncompressed IDX file is read a few hundred bytes per image; a gzipped one (Debian's
Fashion-MNIST) is streamed once up to the last row asked for; CIFAR-10 reads the batch files those rows are in.

Rows are rows of the data set's training split as its loader orders them (`ImageBags.sources`, saved with a
run's epoch-0 arrays); user image bags save file paths instead, read here with the loader's own resizing.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from collections.abc import Callable

import numpy as np

from ..errors import DatasetMissing
from .images import FASHION_FILES, cifar10_dir, fashion_mnist_dir, load_digits_data, read_cifar_batch

CIFAR_BATCH = 10_000  # images per CIFAR-10 training batch file


def digits_rows(root: Path, options: dict, rows: np.ndarray) -> np.ndarray:
    return load_digits_data(root, options).train_images[rows]  # 1,797 8x8 images: reading them all is the cheap way


def fashion_mnist_rows(root: Path, options: dict, rows: np.ndarray) -> np.ndarray:
    folder = fashion_mnist_dir(root)
    name = FASHION_FILES["train"][0]
    path = next((p for p in (folder / name, folder / f"{name}.gz") if p.is_file()), None) if folder else None
    if path is None:
        raise DatasetMissing(f"Fashion-MNIST's training images are no longer under {root}")
    return idx_rows(path, rows)[..., None]


def idx_rows(path: Path, rows: np.ndarray) -> np.ndarray:
    """Rows of an unsigned-byte IDX file (gzipped or not), read by seeking: (len(rows), *item shape) uint8."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        header = handle.read(4)
        if len(header) < 4 or header[2] != 0x08:
            raise DatasetMissing(f"{path} is not an unsigned-byte IDX file")
        ndim = header[3]
        shape = tuple(int.from_bytes(handle.read(4), "big") for _ in range(ndim))
        item = int(np.prod(shape[1:]))
        start = 4 + 4 * ndim
        out = np.zeros((len(rows),) + shape[1:], dtype=np.uint8)
        for i in np.argsort(rows, kind="stable"):  # forward seeks only: a gzip stream cannot go back cheaply
            handle.seek(start + int(rows[i]) * item)
            data = handle.read(item)
            if len(data) != item:
                raise DatasetMissing(f"{path} is truncated (row {int(rows[i])} of {shape[0]})")
            out[i] = np.frombuffer(data, dtype=np.uint8).reshape(shape[1:])
    return out


def cifar10_rows(root: Path, options: dict, rows: np.ndarray) -> np.ndarray:
    out = None
    for batch in np.unique(rows // CIFAR_BATCH):
        images, _ = read_cifar_batch(cifar10_dir(root) / f"data_batch_{int(batch) + 1}")
        out = np.zeros((len(rows),) + images.shape[1:], dtype=np.uint8) if out is None else out
        here = rows // CIFAR_BATCH == batch
        out[here] = images[rows[here] % CIFAR_BATCH]
    if out is None:  # no rows asked for (it returned None, which reads as "no images by row"): none, CIFAR's shape
        return np.zeros((0, 32, 32, 3), dtype=np.uint8)
    return out


ROW_READERS: dict[str, Callable[[Path, dict, np.ndarray], np.ndarray]] = {
    "digits": digits_rows,
    "fashion_mnist": fashion_mnist_rows,
    "cifar10": cifar10_rows,
}


def training_images(dataset: str, root: Path, options: dict, sources: np.ndarray) -> np.ndarray | None:
    """(n, H, W, C) uint8 images of these sources: training-split rows of a built-in data set, or image file paths
    (user image bags, resized as their loader does). None when this data set's images cannot be read by row."""
    sources = np.asarray(sources)
    if sources.dtype.kind in "US":
        from .image_folder import read_images

        images, problems = read_images(
            [Path(p) for p in sources], options.get("image_size", 32), options.get("channels", 3)
        )
        if problems:
            raise DatasetMissing("; ".join(problems))
        return images
    reader = ROW_READERS.get(dataset)
    return None if reader is None else reader(root, options, sources.astype(np.int64))
