"""Image datasets: scikit-learn's digits, Fashion-MNIST and CIFAR-10, read from their published layouts.

Nothing is downloaded unless asked for (dataset_options={"download": True}, or --download on the CLI).
"""

from __future__ import annotations

import gzip
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DatasetMissing

FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass
class ImageData:
    """Both splits of an image dataset: uint8 images (N, H, W, C) and integer labels."""

    class_names: list[str]
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def check_image_data(name: str, data: ImageData) -> ImageData:
    """Both splits hold images of one size and labels of the data set's classes (a file from another release,
    or cut to another size, is named here, before a run is recorded)."""
    n_classes = len(data.class_names)
    for split, images, labels in (
        ("training", data.train_images, data.train_labels),
        ("test", data.test_images, data.test_labels),
    ):
        if images.ndim != 4 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetMissing(
                f"{name}: the {split} split holds images of shape {images.shape} and labels of shape {labels.shape}"
                f"; expected (N, height, width, channels) and (N,)"
            )
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise DatasetMissing(
                f"{name}: {split} labels run from {labels.min()} to {labels.max()}, but the data set has classes "
                f"0..{n_classes - 1}; replace the files with a fresh copy"
            )
    train, test = data.train_images.shape[1:], data.test_images.shape[1:]
    if train != test:
        size = "x".join(map(str, train))
        raise DatasetMissing(
            f"{name}: test images are {'x'.join(map(str, test))} but training images {size} "
            f"(height x width x channels); both splits must come from the same release"
        )
    return data


# --- digits ---------------------------------------------------------------------------------------


def load_digits_data(root: Path, options: dict) -> ImageData:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.clip(digits.images * 16, 0, 255).astype(np.uint8)[..., None]
    # A fixed split (not the run seed) so every run of every sampler is tested on the same instances.
    x_tr, x_te, y_tr, y_te = train_test_split(
        images, digits.target, test_size=0.3, stratify=digits.target, random_state=0
    )
    return ImageData([str(c) for c in range(10)], x_tr, y_tr.astype(np.int64), x_te, y_te.astype(np.int64))


# --- Fashion-MNIST --------------------------------------------------------------------------------


def fashion_mnist_dir(root: Path) -> Path | None:
    """The first folder that holds the four IDX files (gzipped or not)."""
    for folder in (
        root / "FashionMNIST" / "raw",
        root / "fashion_mnist" / "FashionMNIST" / "raw",
        root / "fashion-mnist",
        DEBIAN_FASHION,
    ):
        if all(_idx_path(folder, name) for pair in FASHION_FILES.values() for name in pair):
            return folder
    return None


def fashion_mnist_missing(root: Path) -> str | None:
    if fashion_mnist_dir(root):
        return None
    return (
        f"Fashion-MNIST not found. Install the Debian package: sudo apt-get install dataset-fashion-mnist "
        f"(files under {DEBIAN_FASHION}), or put the four IDX files in {root / 'FashionMNIST' / 'raw'}, "
        f"or run with --download to fetch them with torchvision"
    )


def load_fashion_mnist(root: Path, options: dict) -> ImageData:
    folder = fashion_mnist_dir(root)
    if folder is None and options.get("download"):
        import torchvision

        torchvision.datasets.FashionMNIST(str(root), train=True, download=True)
        torchvision.datasets.FashionMNIST(str(root), train=False, download=True)
        folder = fashion_mnist_dir(root)
    if folder is None:
        raise DatasetMissing(fashion_mnist_missing(root))
    splits = {}
    for split, (images, labels) in FASHION_FILES.items():
        image_file, label_file = _idx_path(folder, images), _idx_path(folder, labels)
        if image_file is None or label_file is None:  # removed since fashion_mnist_dir found them
            raise DatasetMissing(fashion_mnist_missing(root))
        pixels, values = read_idx(image_file), read_idx(label_file)
        for path, array, ndim, what in (
            (image_file, pixels, 3, "images (N, height, width)"),
            (label_file, values, 1, "labels (N,)"),
        ):
            if array.ndim != ndim:
                raise DatasetMissing(
                    f"{path} holds an array of shape {array.shape}, not Fashion-MNIST {what}; replace it with a "
                    f"fresh copy"
                )
        splits[split] = (pixels[..., None], values.astype(np.int64))
        if len(splits[split][0]) != len(splits[split][1]):  # never train on a silently shortened split
            raise DatasetMissing(
                f"{_idx_path(folder, images)} holds {len(splits[split][0])} images but "
                f"{_idx_path(folder, labels)} {len(splits[split][1])} labels; replace them with "
                f"fresh copies of the same release"
            )
    return ImageData(FASHION_CLASSES, *splits["train"], *splits["test"])


def _idx_path(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
        zero, dtype_code, ndim = raw[0] * 256 + raw[1], raw[2], raw[3]
        if zero != 0 or dtype_code != 0x08:
            raise ValueError("not an unsigned-byte IDX file")
        shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
        if len(raw) - 4 - 4 * ndim != int(np.prod(shape)):
            raise ValueError(
                f"its header says {shape} ({int(np.prod(shape))} bytes), it holds {len(raw) - 4 - 4 * ndim}"
            )
        return np.frombuffer(bytearray(raw), dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)  # writable
    except (OSError, ValueError, IndexError, EOFError) as error:
        raise DatasetMissing(f"{path} is corrupt or truncated ({error}); replace it with a fresh copy") from error


# --- CIFAR-10 -------------------------------------------------------------------------------------


def cifar10_dir(root: Path) -> Path:
    return root / "cifar-10-batches-py"


def cifar10_missing(root: Path) -> str | None:
    folder = cifar10_dir(root)
    needed = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    if all((folder / name).is_file() for name in needed):
        return None
    return (
        f"CIFAR-10 not found: put the python version (cifar-10-python.tar.gz, extracted) so that "
        f"{folder}/data_batch_1..5 and test_batch exist, or run with --download to fetch it with torchvision"
    )


def load_cifar10(root: Path, options: dict) -> ImageData:
    if cifar10_missing(root) and options.get("download"):
        import torchvision

        torchvision.datasets.CIFAR10(str(root), train=True, download=True)
    if message := cifar10_missing(root):
        raise DatasetMissing(message)
    folder = cifar10_dir(root)
    train = [read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    test_images, test_labels = read_cifar_batch(folder / "test_batch")
    names = CIFAR_CLASSES
    if (folder / "batches.meta").is_file():
        with open(folder / "batches.meta", "rb") as handle:
            names = [
                n.decode() if isinstance(n, bytes) else n
                for n in ArraysOnlyUnpickler(handle, encoding="bytes").load()[b"label_names"]
            ]
    return ImageData(
        names, np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), test_images, test_labels
    )


class ArraysOnlyUnpickler(pickle.Unpickler):
    """CIFAR batches are pickles of dicts, lists, bytes and numpy arrays; a pickle may name any callable, so
    only what rebuilds those is allowed (a crafted file cannot run code)."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused {module}.{name}: a CIFAR batch holds only arrays and lists")
        return super().find_class(module, name)


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One pickled CIFAR batch -> (N, 32, 32, 3) uint8 images and int64 labels."""
    try:
        with open(path, "rb") as handle:
            batch = ArraysOnlyUnpickler(handle, encoding="bytes").load()
        images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return np.ascontiguousarray(images), np.asarray(batch[b"labels"], dtype=np.int64)
    except (OSError, pickle.UnpicklingError, KeyError, ValueError, EOFError) as error:
        raise DatasetMissing(
            f"{path} is corrupt or not a CIFAR-10 python batch ({error}); replace it with a fresh copy"
        ) from error
