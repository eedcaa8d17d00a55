"""Small Fashion-MNIST files in torchvision's `FashionMNIST/raw` layout, written by the tests themselves."""

import gzip

import numpy as np


def write_idx(path, array, shape=None):
    """An IDX file (gzip) of uint8 values; `shape` lets a test write a header that promises more than the data."""
    shape = shape or array.shape
    header = bytes([0, 0, 0x08, len(shape)]) + b"".join(int(d).to_bytes(4, "big") for d in shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def write_fashion_root(root):
    """400 train and 200 test images of random pixels, labels cycling through the 10 classes."""
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 400), ("t10k", 200)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return root
