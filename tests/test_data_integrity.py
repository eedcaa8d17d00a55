"""Dataset files that cannot be right are refused with a message naming them: IDX images and labels that do not
match, truncated IDX files, and CIFAR batches that try to run code when unpickled."""

import os
import pickle

import numpy as np
import pytest

from idx_support import write_fashion_root, write_idx

from weakneg.config import RunConfig
from weakneg.data import load_bags
from weakneg.data.images import read_cifar_batch
from weakneg.errors import DatasetMissing


@pytest.fixture
def fashion_root(tmp_path):
    return write_fashion_root(tmp_path)


def test_idx_images_and_labels_of_different_counts_are_refused(fashion_root):
    write_idx(fashion_root / "FashionMNIST" / "raw" / "train-labels-idx1-ubyte.gz", np.arange(100) % 10)
    with pytest.raises(
        DatasetMissing,
        match=r"train-images-idx3-ubyte.gz holds 400 images but .*"
        r"train-labels-idx1-ubyte.gz 100 labels",
    ):
        load_bags(RunConfig(dataset="fashion_mnist", target_class=0, data_root=str(fashion_root)))


def test_a_truncated_idx_file_is_refused(fashion_root):
    path = fashion_root / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
    write_idx(path, np.zeros((150, 28, 28)), shape=(200, 28, 28))  # the header promises 200 images
    with pytest.raises(DatasetMissing, match="t10k-images-idx3-ubyte.gz is corrupt or truncated"):
        load_bags(RunConfig(dataset="fashion_mnist", target_class=0, data_root=str(fashion_root)))


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_cifar_batch_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    crafted = tmp_path / "data_batch_1"
    crafted.write_bytes(pickle.dumps({b"data": RunsCode(marker), b"labels": [0]}))
    with pytest.raises(DatasetMissing, match="data_batch_1 is corrupt or not a CIFAR-10 python batch.*refused"):
        read_cifar_batch(crafted)
    assert not marker.exists()
    honest = tmp_path / "data_batch_2"
    data = np.random.default_rng(0).integers(0, 256, (4, 3072)).astype(np.uint8)
    honest.write_bytes(pickle.dumps({b"data": data, b"labels": list(np.arange(4))}))
    images, labels = read_cifar_batch(honest)
    np.testing.assert_array_equal(images[1].transpose(2, 0, 1).ravel(), data[1])
    assert labels.tolist() == [0, 1, 2, 3]
