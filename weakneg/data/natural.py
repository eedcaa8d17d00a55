"""Natural bags: bags that come with the data (a molecule's conformations, an image's regions, a user's
table), of any size, with bag-level labels, as opposed to bags we draw from a labelled instance set.

`NaturalBags` is one validated description of such data (instance features, which bag each instance is
in, the bags' labels, an optional split). `vector_splits` turns it into the train / test `VectorBags`
of a run: the split given by the data, else a deterministic stratified fold by bag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .bags import VectorBags
from .stratify import stratified_sides

SPLIT_OPTIONS = ("folds", "fold", "standardize")


@dataclass
class NaturalBags:
    points: np.ndarray  # (N, d) float32 instance features
    bag_of: np.ndarray  # (N,) position 0..B-1 of each instance's bag
    bag_names: np.ndarray  # (B,) the data's own bag ids, for people
    contents: np.ndarray  # (B, C) int16: 1 where the bag carries class c (multi-label bags allowed)
    class_names: list[str]
    split: np.ndarray | None = None  # (B,) "train" / "test" when the data says; None = folds by bag
    instance_labels: np.ndarray | None = None  # (N,) kept for analysis only; training never reads them

    @property
    def n_bags(self) -> int:
        return len(self.bag_names)

    @property
    def sizes(self) -> np.ndarray:
        return np.bincount(self.bag_of, minlength=self.n_bags)

    def labels(self, target: int) -> np.ndarray:
        return (self.contents[:, target] > 0).astype(np.int64)

    def strata(self, target: int, binary: bool) -> np.ndarray:
        """What test folds are stratified by: the target's labels (a binary run), or every class the bags carry (a
        multi-label run: each class shared out, the same folds whichever classes a run trains)."""
        return self.labels(target) if binary else self.contents > 0


def padded_members(bag_of: np.ndarray, n_bags: int) -> np.ndarray:
    """(B, n_max) instance rows of each bag in their original order, -1 after each bag's last instance."""
    order = np.argsort(bag_of, kind="stable")
    sizes = np.bincount(bag_of, minlength=n_bags)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    slot = np.arange(len(order)) - np.repeat(starts, sizes)
    members = np.full((n_bags, max(int(sizes.max(initial=0)), 1)), -1, dtype=np.int64)
    members[bag_of[order], slot] = order
    return members


def fold_of_bags(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A fold 0..folds-1 for each bag, deterministic from the seed, stratified by label ((B,) 0/1) or by every
    class ((B, C) bool: iterative stratification, stratify.py). Fold sizes differ by at most one."""
    if labels.ndim == 2:
        n = len(labels)
        return stratified_sides(labels, [n // folds + (f < n % folds) for f in range(folds)], seed)
    rng = np.random.default_rng([seed, 7])
    fold = np.empty(len(labels), dtype=np.int64)
    offset = 0
    for label in (0, 1):
        positions = rng.permutation(np.flatnonzero(labels == label))
        fold[positions] = (np.arange(len(positions)) + offset) % folds
        offset += len(positions)  # the next label's round robin continues: fold sizes differ by at most one
    return fold


def test_positions(natural: NaturalBags, labels: np.ndarray, options: dict, seed: int) -> np.ndarray:
    """Bag positions of the test split: the data's own split when it has one, else fold `fold` of `folds`, the
    folds stratified by `labels` (`NaturalBags.strata`)."""
    if natural.split is not None and "folds" not in options:
        return np.flatnonzero(natural.split == "test")
    folds, fold = options.get("folds", 5), options.get("fold", 0)
    if not isinstance(folds, int) or isinstance(folds, bool) or folds < 2:
        raise ConfigError(f"dataset option folds must be an integer >= 2, got {folds!r}")
    if not isinstance(fold, int) or isinstance(fold, bool) or not 0 <= fold < folds:
        raise ConfigError(f"dataset option fold must be an integer in 0..{folds - 1}, got {fold!r}")
    return np.flatnonzero(fold_of_bags(labels, folds, seed) == fold)


def vector_splits(
    natural: NaturalBags, target: int, options: dict, seed: int, what: str, require_target: bool = True
) -> tuple[VectorBags, VectorBags]:
    """Train and test VectorBags; features standardised with the train instances' mean and std (unless the
    option standardize is false). Bag ids are positions in the whole data set: stable across folds.
    require_target: each split needs positive and negative bags of `target` (a binary run; a multi-label run
    checks each of its classes itself, data/__init__.py, and its folds are stratified by every class)."""
    labels = natural.labels(target)
    test = np.zeros(natural.n_bags, dtype=bool)
    test[test_positions(natural, natural.strata(target, require_target), options, seed)] = True
    points = natural.points
    if options.get("standardize", True):
        train_rows = ~test[natural.bag_of]
        mean, std = points[train_rows].mean(0), points[train_rows].std(0)
        points = (points - mean) / np.where(std > 0, std, 1.0)
    splits = []
    for name, chosen in (("train", ~test), ("test", test)):
        positions = np.flatnonzero(chosen)
        n_pos = int(labels[positions].sum())
        if require_target and (n_pos == 0 or n_pos == len(positions)):
            missing = "positive" if n_pos == 0 else "negative"
            raise ConfigError(
                f"{what}: the {name} split has no {missing} bag for class "
                f"{natural.class_names[target]!r} ({len(positions)} bags); use fewer folds or "
                f"another split"
            )
        rows = np.flatnonzero(chosen[natural.bag_of])
        renumber = np.full(natural.n_bags, -1, dtype=np.int64)
        renumber[positions] = np.arange(len(positions))
        members = padded_members(renumber[natural.bag_of[rows]], len(positions))
        splits.append(VectorBags(points[rows], members, labels[positions], natural.contents[positions], positions))
    return splits[0], splits[1]
