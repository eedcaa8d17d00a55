"""Image datasets read from their published layouts (small generated files), and clear messages when missing."""

import pickle

import numpy as np
import pytest

from idx_support import write_fashion_root

from weakneg.config import RunConfig
from weakneg.data import class_names, dataset_status, load_bags
from weakneg.data.images import read_idx
from weakneg.errors import DatasetMissing


@pytest.fixture
def fashion_root(tmp_path):
    return write_fashion_root(tmp_path)


def test_fashion_mnist_torchvision_layout(fashion_root):
    bags = load_bags(RunConfig(dataset="fashion_mnist", target_class="Sneaker", data_root=str(fashion_root)))
    assert bags.target == 7 and bags.class_names[0] == "T-shirt/top"
    assert tuple(bags.train.inputs(np.arange(2)).shape) == (2, 5, 1, 28, 28)
    assert bags.train.contents.sum() == 5 * len(bags.train)
    image = read_idx(fashion_root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(bags.train.images[..., 0], image)


def test_corrupt_idx_file_says_which_file(fashion_root):
    (fashion_root / "FashionMNIST" / "raw" / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DatasetMissing, match="train-labels-idx1-ubyte.gz is corrupt"):
        load_bags(RunConfig(dataset="fashion_mnist", target_class=0, data_root=str(fashion_root)))


@pytest.fixture
def cifar_root(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (60, 3072)).astype(np.uint8), b"labels": list(np.arange(60) % 10)}
        with open(folder / name, "wb") as handle:
            pickle.dump(batch, handle)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({b"label_names": [f"class{i}".encode() for i in range(10)]}, handle)
    return tmp_path


def test_cifar10_python_batches(cifar_root):
    bags = load_bags(RunConfig(dataset="cifar10", target_class="class4", data_root=str(cifar_root)))
    assert bags.target == 4 and len(bags.train.images) == 300 and len(bags.test.images) == 60
    assert tuple(bags.train.inputs(np.arange(1)).shape) == (1, 5, 3, 32, 32)
    with open(cifar_root / "cifar-10-batches-py" / "data_batch_1", "rb") as handle:
        first = pickle.load(handle)[b"data"][0]
    np.testing.assert_array_equal(bags.train.images[0].transpose(2, 0, 1).ravel(), first)


def test_missing_datasets_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr("weakneg.data.images.DEBIAN_FASHION", tmp_path / "nowhere")
    status = dataset_status(tmp_path)
    assert status["digits"] is None
    assert "apt-get install dataset-fashion-mnist" in status["fashion_mnist"]
    assert "--download" in status["cifar10"] and "cifar-10-batches-py" in status["cifar10"]
    with pytest.raises(DatasetMissing, match="CIFAR-10 not found"):
        class_names("cifar10", tmp_path)
