"""What a bag card shows, read from what the run saved: its bag membership (epoch-0 arrays: which instance rows make
each bag and where they come from) and each epoch's per-instance evidence. Only the few images or clips a card
shows are read; no bags are rebuilt (runs saved before membership was fall back to rebuilding, see inspect.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import RunConfig
from ..data import DATASETS, resolve_root
from ..data.features import AudioProblem, open_features, read_audio
from ..data.thumbnails import training_images
from ..errors import WeaknegError
from ..models.evidence import InstanceEvidence
from ..store import RunStore

DRIVER_COLOUR = (194, 65, 12)  # the orange of "selected" in the Inspect charts
UNREADABLE = (WeaknegError, AudioProblem, OSError)  # a bag's files moved or deleted since the run


@dataclass
class Membership:
    """A run's training bags as saved with its epoch-0 arrays."""

    bag_ids: np.ndarray  # (B,)
    members: np.ndarray | None = None  # (B, n_max) instance rows, -1 after a bag's last instance
    sources: np.ndarray | None = None  # per instance row: training-split row or image file path
    audio_files: np.ndarray | None = None  # per bag
    feature_files: np.ndarray | None = None  # per bag: cached log-mel
    clip_names: np.ndarray | None = None
    sample_rate: int | None = None

    def __post_init__(self):
        self.position_of = {int(b): i for i, b in enumerate(self.bag_ids)}

    def instance_rows(self, bag_id: int) -> np.ndarray:
        if self.members is None:  # the callers check first
            raise ValueError("these bags were saved without their instance rows (members)")
        row = self.members[self.position_of[bag_id]]
        return row[row >= 0]


def membership_of(store: RunStore, run_id: int) -> Membership | None:
    """The saved membership; None for a run saved before membership was (or with none to show: such runs rebuild)."""
    record = store.load_epoch_record(run_id, 0)
    bags = record.bags if record is not None else None
    if bags is None or (bags.members is None and bags.feature_files is None):
        return None
    return Membership(
        bags.bag_ids,
        bags.members,
        bags.instance_sources,
        bags.audio_files,
        bags.feature_files,
        bags.clip_names,
        bags.sample_rate,
    )


def shown_images(membership: Membership, config: dict[str, Any], bag_ids: list[int]) -> dict[int, np.ndarray]:
    """The images of several bags in one pass over the data set's file (a gzip stream seeks forward only, so one
    pass per card would decompress it once per card); {} when the images are the user's own files (read per bag,
    so one missing file blanks one card only) or there are none."""
    if membership.sources is None or membership.members is None or membership.sources.dtype.kind in "US":
        return {}
    cfg = RunConfig.from_dict(config)
    rows = [membership.instance_rows(b) for b in bag_ids]
    if not rows:
        return {}
    images = training_images(
        cfg.dataset, resolve_root(cfg.data_root), cfg.dataset_options, membership.sources[np.concatenate(rows)]
    )
    if images is None:
        return {}
    return dict(zip(bag_ids, np.split(images, np.cumsum([len(r) for r in rows])[:-1])))


def bag_media(
    membership: Membership, config: dict[str, Any], bag_id: int, images: np.ndarray | None = None
) -> dict[str, Any]:
    """The bag itself, read from its own files: `images` (n, H, W, C) uint8 for image bags (or those given, read
    by `shown_images`); `waveform`, `sample_rate`, `log_mel` (frames, mels) and `name` for a clip. {} for
    feature-vector bags (nothing to show)."""
    cfg = RunConfig.from_dict(config)
    position = membership.position_of[bag_id]
    media: dict[str, Any] = {}
    if images is not None:
        media["images"] = images
    elif membership.sources is not None and membership.members is not None:
        images = training_images(
            cfg.dataset,
            resolve_root(cfg.data_root),
            cfg.dataset_options,
            membership.sources[membership.instance_rows(bag_id)],
        )
        if images is not None:
            media["images"] = images
    if membership.feature_files is not None:
        assert membership.clip_names is not None  # saved with the feature files (train._membership)
        media["name"] = str(membership.clip_names[position])
        media["log_mel"] = np.asarray(open_features(membership.feature_files[position]), dtype=np.float32)
        if membership.audio_files is not None:
            rate = membership.sample_rate or 16000
            media["waveform"] = np.asarray(read_audio(membership.audio_files[position], rate), dtype=np.float32)
            media["sample_rate"] = rate
    return media


def modality_of(config: dict[str, Any]) -> str:
    dataset = config.get("dataset")
    spec = DATASETS.get(dataset) if isinstance(dataset, str) else None
    return spec.modality if spec else "image"


@dataclass
class EpochEvidence:
    """One epoch's per-instance evidence of the pool and of the positive bags, by bag id."""

    pool: InstanceEvidence | None
    positive: InstanceEvidence | None
    pool_index: dict[int, int]
    positive_index: dict[int, int]

    def instances(self, bag_id: int) -> pd.DataFrame | None:
        """One row per real instance: instance (1-based), p_positive, attention (attention head), drives."""
        for evidence, index in ((self.pool, self.pool_index), (self.positive, self.positive_index)):
            if evidence is not None and bag_id in index:
                bag = evidence.bag(index[bag_id])
                n = len(bag["prob"])
                frame = pd.DataFrame({"instance": np.arange(1, n + 1), "p_positive": bag["prob"].astype(np.float64)})
                if bag["attention"] is not None:
                    frame["attention"] = bag["attention"].astype(np.float64)
                frame["drives"] = np.arange(n) == bag["driver"]
                return frame
        return None


def evidence_of(store: RunStore, run_id: int, epoch: int) -> EpochEvidence | None:
    """The epoch's saved evidence; None for epochs saved before evidence was."""
    record = store.load_epoch_record(run_id, epoch)
    saved = record.pool if record is not None else None
    if saved is None or saved.pool_evidence is None:
        return None
    pool, positive = InstanceEvidence.of(saved.pool_evidence), InstanceEvidence.of(saved.positive_evidence)
    index = lambda ids: {int(b): i for i, b in enumerate(ids)}  # noqa: E731
    return EpochEvidence(pool, positive, index(saved.pool_ids), index(saved.positive_ids))


DRIVES = {
    "mean_softmax": "the instance with the largest log-odds (the bag's log-odds is their mean)",
    "softmax_mean": "the instance with the largest p(positive) (the bag's p is their mean)",
    "softmax_max": "the instance with the largest p(positive) (the bag's p is their max)",
    "attention": "the instance with the largest attention × log-odds (the bag's log-odds is their sum)",
}


def drives_text(head: str) -> str:
    """One line under a bag card: which instance is highlighted and why."""
    return f"Highlighted: {DRIVES.get(head, 'the instance with the largest log-odds')}."


def highlighted_strip(
    images: np.ndarray, driver: int | None, height: int = 72, gap: int = 2, band: int = 6
) -> np.ndarray:
    """Thumbnails side by side (RGB uint8), with an orange band under the driving instance (white elsewhere):
    the band marks the instance without covering any of its pixels."""
    scale = max(1, height // images.shape[1])
    big = images.repeat(scale, axis=1).repeat(scale, axis=2)
    if big.shape[3] == 1:
        big = big.repeat(3, axis=3)
    tiles = []
    for i, image in enumerate(big):
        under = np.full((band, image.shape[1], 3), 255, dtype=np.uint8)
        if i == driver:
            under[2:] = DRIVER_COLOUR
        tiles.append(np.concatenate([image, under], axis=0))
    spacer = np.full((tiles[0].shape[0], gap, 3), 255, dtype=np.uint8)
    return np.concatenate([part for tile in tiles for part in (tile, spacer)][:-1], axis=1)
