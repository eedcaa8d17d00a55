"""Bags of instances with weak (bag-level) labels.

A bag is positive for the target class when at least one of its instances belongs to it. What each
bag truly contains (`contents`) is kept for analysis in the app only; training never reads it.

Bags may differ in size (natural bags: a molecule's conformations, a page's regions). `members` is then
(B, n_max) with -1 after each bag's last instance; `inputs` pads a batch to its own largest bag with zeros
and `mask` says which rows are real (the heads read those only, see models/ragged.py). When every bag is
full, `mask` is None and nothing changes from fixed-size bags.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from .stratify import stratified_sides


class BagSet:
    """The bags of one split. Subclasses say how to turn bag positions into a model input batch."""

    labels: np.ndarray  # (B,) 1 = the bag holds the target class
    contents: np.ndarray  # (B, n_classes) instances (or events) of each true class in the bag
    ids: np.ndarray  # (B,) bag ids, stable for a given dataset, seed and bag size
    modality: str = "image"
    # Bags per forward pass when scoring and evaluating (on a CPU; a GPU takes 8x). Small batches stay in cache:
    # simple_cnn on 28x28 bags scores 2x faster in batches of 64 bags than of 256 on a 2-core CPU.
    inference_batch: int = 64

    def __len__(self) -> int:
        return len(self.labels)

    def inputs(self, positions: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def mask(self, positions, width: int | None = None) -> torch.Tensor | None:
        """(b, width) True on real instances of these bags, or None when they are all full (fixed-size bags).
        width defaults to the largest of these bags, the width `inputs` pads to."""
        return None

    def width(self, positions) -> int | None:
        """Instances in the largest of these bags (None: fixed-size bags, the input says)."""
        return None

    def subset(self, positions: np.ndarray) -> BagSet:
        raise NotImplementedError

    def to(self, device: torch.device) -> BagSet:
        return self

    def augment(
        self, inputs: torch.Tensor, targets: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Training-time augmentation of a batch: (inputs, soft targets (b, 2)). None by default."""
        return inputs, targets

    def sample_weights(self, positions: np.ndarray) -> np.ndarray | None:
        """Per-bag weights for weighted sampling of training batches; None = uniform."""
        return None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one bag's model input (without the batch dimension)."""
        return tuple(self.inputs(torch.zeros(1, dtype=torch.long)).shape[1:])


class MemberBags(BagSet):
    """Bags that index rows of one instance table through `members` (B, n_max), -1 = no instance."""

    device: torch.device  # where the member table lives (set by the subclass)

    def _set_members(self, members: np.ndarray, device: torch.device) -> None:
        self.members = np.asarray(members, dtype=np.int64)
        self.sizes = (self.members >= 0).sum(axis=1)
        self.ragged = bool((self.sizes < self.members.shape[1]).any())
        self._members = torch.from_numpy(self.members).to(device)
        self._sizes = torch.from_numpy(self.sizes).to(device)

    def _gather(self, table: torch.Tensor, positions) -> torch.Tensor:
        positions = torch.as_tensor(positions, device=self.device)
        if not self.ragged:
            return table[self._members[positions]]
        rows = self._members[positions][:, : self.width(positions)]
        real = rows >= 0
        picked = table[rows.clamp_min(0)]
        return torch.where(
            real.view(real.shape + (1,) * (picked.dim() - 2)),
            picked,
            torch.zeros((), dtype=picked.dtype, device=picked.device),
        )

    def width(self, positions) -> int | None:
        if not self.ragged:
            return None
        return self._ragged_width(positions)

    def _ragged_width(self, positions) -> int:
        positions = torch.as_tensor(positions, device=self.device)
        return int(self._sizes[positions].max()) if len(positions) else 0

    def mask(self, positions, width: int | None = None) -> torch.Tensor | None:
        if not self.ragged:
            return None
        positions = torch.as_tensor(positions, device=self.device)
        width = self._ragged_width(positions) if width is None else width
        return torch.arange(width, device=self.device)[None, :] < self._sizes[positions][:, None]

    def instance_rows(self, position: int) -> np.ndarray:
        """The instance rows of one bag, without padding."""
        row = self.members[position]
        return row[row >= 0]


class ImageBags(MemberBags):
    """Bags that are groups of images: `members[b]` lists the instance rows of bag b."""

    modality = "image"

    def __init__(
        self,
        images: np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
        members: np.ndarray,
        labels: np.ndarray,
        contents: np.ndarray,
        ids: np.ndarray,
        device: torch.device | str = "cpu",
        pixels: torch.Tensor | None = None,
        sources: np.ndarray | None = None,
    ):
        self.images = images  # (N, H, W, C) uint8: what a person sees
        # where each image row comes from (rows of the data set's training split, or file paths): saved with a
        # run's bag membership so Inspect reads the few images it shows without rebuilding the bags
        self.sources = sources
        self.mean, self.std = mean, std
        self.labels = np.asarray(labels, dtype=np.int64)
        self.contents = contents
        self.ids = np.asarray(ids, dtype=np.int64)
        self.device = torch.device(device)
        # the normalised copy (N, C, H, W) float32: made once per image set and shared by every subset of it
        self._pixels = (_normalise(images, mean, std) if pixels is None else pixels).to(self.device)
        self._set_members(members, self.device)

    def inputs(self, positions: torch.Tensor) -> torch.Tensor:
        return self._gather(self._pixels, positions)  # (b, bag_size, C, H, W)

    def subset(self, positions: np.ndarray) -> ImageBags:
        positions = np.asarray(positions, dtype=np.int64)
        return ImageBags(
            self.images,
            self.mean,
            self.std,
            self.members[positions],
            self.labels[positions],
            self.contents[positions],
            self.ids[positions],
            self.device,
            self._pixels,
            self.sources,
        )

    def to(self, device: torch.device | str) -> ImageBags:
        if torch.device(device) == self.device:
            return self
        return ImageBags(
            self.images,
            self.mean,
            self.std,
            self.members,
            self.labels,
            self.contents,
            self.ids,
            device,
            self._pixels,
            self.sources,
        )

    def bag_images(self, position: int) -> np.ndarray:
        """The images of one bag, (bag_size, H, W, C) uint8, for thumbnails."""
        return self.images[self.instance_rows(position)]


class VectorBags(MemberBags):
    """Bags of feature vectors held in memory (synthetic worlds, MIL checks): inputs are (b, bag_size, d)."""

    modality = "vector"
    inference_batch = 4096  # a few floats per instance: one pass is cheapest

    def __init__(
        self,
        points: np.ndarray,
        members: np.ndarray,
        labels: np.ndarray,
        contents: np.ndarray,
        ids: np.ndarray | None = None,
        device: torch.device | str = "cpu",
    ):
        self.points = np.asarray(points, dtype=np.float32)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.contents = contents
        self.ids = np.arange(len(self.labels)) if ids is None else np.asarray(ids, dtype=np.int64)
        self.device = torch.device(device)
        self._points = torch.from_numpy(self.points).to(self.device)
        self._set_members(members, self.device)

    def inputs(self, positions: torch.Tensor) -> torch.Tensor:
        return self._gather(self._points, positions)

    def subset(self, positions: np.ndarray) -> VectorBags:
        positions = np.asarray(positions, dtype=np.int64)
        return VectorBags(
            self.points,
            self.members[positions],
            self.labels[positions],
            self.contents[positions],
            self.ids[positions],
            self.device,
        )

    def to(self, device: torch.device | str) -> VectorBags:
        if torch.device(device) == self.device:
            return self
        return VectorBags(self.points, self.members, self.labels, self.contents, self.ids, device)


def normalised_pixels(images: np.ndarray, mean: np.ndarray, std: np.ndarray) -> torch.Tensor:
    """(N, C, H, W) float32 model inputs of uint8 images (N, H, W, C)."""
    return _normalise(images, mean, std)


def _normalise(images: np.ndarray, mean: np.ndarray, std: np.ndarray) -> torch.Tensor:
    pixels = torch.from_numpy(images).float().div_(255.0)
    pixels = (pixels - torch.from_numpy(mean).float()) / torch.from_numpy(std).float()
    return pixels.permute(0, 3, 1, 2).contiguous()  # (N, C, H, W)


@dataclass
class BagLayout:
    members: np.ndarray  # (B, bag_size) instance rows
    labels: np.ndarray  # (B,) bag labels


def make_bags(instance_labels: np.ndarray, target: int, bag_size: int, rng: np.random.Generator) -> BagLayout:
    """Group instances into bags of `bag_size`, each instance used at most once.

    Every target instance goes into a positive bag; each positive bag holds m target instances with m
    drawn uniformly from 1..bag_size (the "label density"), padded with non-target instances. The
    non-target instances left over form the negative bags. Bags are shuffled.
    """
    instance_labels = np.asarray(instance_labels)
    positives = rng.permutation(np.flatnonzero(instance_labels == target))
    negatives = rng.permutation(np.flatnonzero(instance_labels != target))
    bags, labels = [], []
    p = n = 0
    while p < len(positives):
        m = min(int(rng.integers(1, bag_size + 1)), len(positives) - p)
        fill = bag_size - m
        if n + fill > len(negatives):
            break
        bag = np.concatenate([positives[p : p + m], negatives[n : n + fill]])
        bags.append(rng.permutation(bag))
        labels.append(1)
        p, n = p + m, n + fill
    while n + bag_size <= len(negatives):
        bags.append(negatives[n : n + bag_size])
        labels.append(0)
        n += bag_size
    members = np.array(bags, dtype=np.int64).reshape(-1, bag_size)
    order = rng.permutation(len(members))
    return BagLayout(members[order], np.asarray(labels, dtype=np.int64)[order])


def shuffled_bags(n_instances: int, bag_size: int, rng: np.random.Generator) -> BagLayout:
    """The target-free layout of a multi-label run: the instances in a random order, cut into bags of `bag_size`
    (the last partial bag is dropped). Labels are all 0: a bag's classes are its `contents`.

    With C balanced classes a class is in 1 - (1 - 1/C)^bag_size of the bags (10 classes, bag size 5: 41%), so
    k_c = round(n_pos_c / r) often reaches the whole pool at r = 0.5; smaller bags or a larger r leave the
    sampler a choice (bag size 2: 19% positive, k_c about half the pool)."""
    members = rng.permutation(n_instances)[: n_instances // bag_size * bag_size].reshape(-1, bag_size)
    return BagLayout(members.astype(np.int64), np.zeros(len(members), dtype=np.int64))


def image_bags(
    images: np.ndarray,
    instance_labels: np.ndarray,
    n_classes: int,
    target: int | None,
    bag_size: int,
    seed: int,
    split: str,
    mean: np.ndarray,
    std: np.ndarray,
    pixels: torch.Tensor | None = None,
    sources: np.ndarray | None = None,
) -> ImageBags:
    """Bags for one split, deterministic from (seed, split); refuses a bag size the data cannot fill.
    `pixels`: the images already normalised (`normalised_pixels`), shared rather than made again.
    target None: the multi-label run's target-free layout (`shuffled_bags`)."""
    rng = np.random.default_rng([seed, {"train": 0, "test": 1}[split]])
    if target is None:
        layout = shuffled_bags(len(instance_labels), bag_size, rng)
        if len(layout.members) == 0:
            raise ConfigError(
                f"bag_size {bag_size} is larger than the {split} split ({len(instance_labels)} instances); "
                f"use a smaller bag size"
            )
    else:
        layout = make_bags(instance_labels, target, bag_size, rng)
    n_pos = int(layout.labels.sum())
    n_neg = len(layout.labels) - n_pos
    if target is not None and (n_pos == 0 or n_neg == 0):
        missing = "positive" if n_pos == 0 else "negative"
        raise ConfigError(
            f"bag_size {bag_size} is larger than the data allows: it leaves no {missing} bag in the {split} "
            f"split ({len(instance_labels)} instances); use a smaller bag size"
        )
    contents = np.zeros((len(layout.members), n_classes), dtype=np.int16)
    np.add.at(
        contents, (np.repeat(np.arange(len(layout.members)), bag_size), instance_labels[layout.members].ravel()), 1
    )
    return ImageBags(
        images,
        mean,
        std,
        layout.members,
        layout.labels,
        contents,
        np.arange(len(layout.members)),
        pixels=pixels,
        sources=sources,
    )


def split_off_stratified(bags: BagSet, fraction: float, seed: int) -> tuple[BagSet, BagSet]:
    """Split a multi-label run's bags into (kept, held out), round(fraction x bags) held (at least one), every
    class's positive bags shared out as close to `fraction` as the bags allow (`stratify.py`; a class of two or
    more positive bags keeps one on each side). Stratified by every class the bags carry, not only the run's, so
    runs of different classes on the same bags hold out the same bags. Deterministic from the seed."""
    n = len(bags)
    n_held = max(1, round(fraction * n))
    if n_held >= n:
        raise ConfigError(f"val_fraction {fraction:g} leaves no training bags ({n} in all); use e.g. 0.1")
    side = stratified_sides(np.asarray(bags.contents) > 0, [n_held, n - n_held], seed)
    return bags.subset(np.flatnonzero(side == 1)), bags.subset(np.flatnonzero(side == 0))


def split_off(bags: BagSet, fraction: float, seed: int) -> tuple[BagSet, BagSet]:
    """Split bags into (kept, held out), stratified by label, deterministic from the seed."""
    rng = np.random.default_rng([seed, 2])
    held = []
    for label in (0, 1):
        positions = rng.permutation(np.flatnonzero(bags.labels == label))
        n_held = max(1, round(fraction * len(positions)))
        if n_held >= len(positions):  # training needs at least one bag of each label left
            kind = "positive" if label else "negative"
            raise ConfigError(
                f"val_fraction {fraction:g} leaves no {kind} training bags ({len(positions)} {kind} bags in all); "
                f"use a smaller validation split, e.g. 0.1"
            )
        held.append(positions[:n_held])
    held_positions = np.sort(np.concatenate(held))
    kept = np.setdiff1d(np.arange(len(bags)), held_positions)
    return bags.subset(kept), bags.subset(held_positions)
