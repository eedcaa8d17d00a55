"""One versioned record of an epoch's arrays: written by `save_epoch_record`, read by `load_epoch_record`.

Epoch 0 holds the bags (ids, labels, what each contains, and their membership: which instances make each bag and
where its images or clips come from); an epoch whose pool was saved holds the pool as the sampler saw it (ids,
scores, picks, predictions, gradient embeddings) and each bag's per-instance evidence. Readers get typed fields
and never ask which keys a file has: an older file is upgraded on reading.

Versions: 1 (no `record_version` key) is what the code wrote before this record existed, with or without the
gradient label and the evidence (runs saved before those had none); 2 adds the version and writes the same
arrays under the same names. A change of layout is a new version and a new branch in `_upgrade`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .artifacts import ArtifactRepository, CorruptArtifact

VERSION = 2
# the evidence's stored names: <pool|positive>_<part>
_EVIDENCE_PARTS = {"prob": "instance_prob", "offsets": "instance_offsets", "driver": "driver", "attention": "attention"}


@dataclass(frozen=True)
class BagArrays:
    """The run's training bags, saved with epoch 0."""

    bag_ids: np.ndarray  # (B,) int64
    labels: np.ndarray  # (B,) 0/1
    contents: np.ndarray  # (B, C) instances of each true class per bag (analysis only)
    class_names: np.ndarray  # (C,) str
    members: np.ndarray | None = None  # (B, n_max) instance rows, -1 after a bag's last instance
    instance_sources: np.ndarray | None = None  # where each instance's image comes from (rows or paths)
    audio_files: np.ndarray | None = None  # (B,) clip paths
    feature_files: np.ndarray | None = None  # (B,) cached log-mel paths
    clip_names: np.ndarray | None = None  # (B,)
    sample_rate: int | None = None


@dataclass(frozen=True)
class EvidenceArrays:
    """Per-instance evidence of N bags, flat over their real instances (models/evidence.py computes it)."""

    prob: np.ndarray  # (R,) float16 instance positive probabilities
    offsets: np.ndarray  # (N + 1,) int32: bag b's instances are [offsets[b], offsets[b + 1])
    driver: np.ndarray  # (N,) int32 index, within its bag, of the driving instance
    attention: np.ndarray | None = None  # (R,) float16, attention head only


@dataclass(frozen=True)
class PoolArrays:
    """The pool as the sampler saw it at one epoch, and the positive bags, for the maps and the bag cards."""

    pool_ids: np.ndarray  # (N,) bag ids of the negative pool
    positive_ids: np.ndarray  # (P,)
    scores: np.ndarray  # (N,) float32, the sampler's score of each candidate
    pick_order: np.ndarray  # (N,) int32, rank of each pick, -1 if not picked
    pool_prob: np.ndarray  # (N,) p(positive)
    pool_grad: np.ndarray  # (N, D) float16 gradient embeddings
    positive_prob: np.ndarray  # (P,)
    positive_grad: np.ndarray | None  # (P, D); None in runs saved before positives were mapped
    grad_label: str = "known"  # the label the gradients were taken at (runs saved before it: known)
    pool_evidence: EvidenceArrays | None = None  # None for runs saved before evidence was
    positive_evidence: EvidenceArrays | None = None


@dataclass(frozen=True)
class EpochArrays:
    epoch: int
    version: int = VERSION
    bags: BagArrays | None = None
    pool: PoolArrays | None = None


def epoch_name(epoch: int) -> str:
    return f"epoch_{epoch:04d}.npz"


def save_epoch_record(artifacts: ArtifactRepository, run_id: int, record: EpochArrays) -> None:
    """Write one epoch's arrays atomically, with the record's version."""
    arrays: dict[str, np.ndarray] = {"record_version": np.array(VERSION)}
    for part in (record.bags, record.pool):
        if part is None:
            continue
        for item in fields(part):
            value = getattr(part, item.name)
            if isinstance(value, EvidenceArrays):
                prefix = item.name.removesuffix("_evidence")
                for attribute, stored in _EVIDENCE_PARTS.items():
                    if getattr(value, attribute) is not None:
                        arrays[f"{prefix}_{stored}"] = np.asarray(getattr(value, attribute))
            elif item.name == "grad_label":
                arrays["grad_label"] = np.array(value)
            elif item.name == "sample_rate":
                if value is not None:
                    arrays["sample_rate"] = np.array(int(value))
            elif value is not None:
                arrays[item.name] = np.asarray(value)
    artifacts.save_arrays(run_id, epoch_name(record.epoch), **arrays)


def load_epoch_record(artifacts: ArtifactRepository, run_id: int, epoch: int) -> EpochArrays | None:
    """The epoch's arrays, upgraded to the current version; None when none were saved. A corrupt file raises
    CorruptArtifact (artifacts.py) naming it."""
    arrays = artifacts.load_arrays(run_id, epoch_name(epoch))
    if arrays is None:
        return None
    try:
        return from_arrays(arrays, epoch)
    except (KeyError, ValueError) as error:
        raise CorruptArtifact(
            f"{artifacts.where(run_id, epoch_name(epoch))} is not a whole epoch record ({type(error).__name__}: "
            f"{error}); delete it and resume the run (`python -m weakneg resume {run_id}`) to rewrite it"
        ) from error


def from_arrays(arrays: dict[str, np.ndarray], epoch: int) -> EpochArrays:
    """A record from the arrays of a stored file of any version."""
    version = int(arrays["record_version"]) if "record_version" in arrays else 1
    if version > VERSION:
        raise ValueError(
            f"epoch {epoch}'s arrays are of record version {version}, newer than this release reads ({VERSION}); "
            f"update weakneg"
        )
    return _upgrade(dict(arrays), epoch)


def _upgrade(arrays: dict[str, np.ndarray], epoch: int) -> EpochArrays:
    """Versions 1 and 2 share names; version 1 files may lack the gradient label, the positives' gradients and
    the evidence (older runs), which default here and nowhere else."""
    bags = pool = None
    if "bag_ids" in arrays:
        bags = BagArrays(
            bag_ids=arrays["bag_ids"].astype(np.int64),
            labels=arrays["labels"],
            contents=arrays["contents"],
            class_names=arrays["class_names"],
            members=arrays.get("members"),
            instance_sources=arrays.get("instance_sources"),
            audio_files=arrays.get("audio_files"),
            feature_files=arrays.get("feature_files"),
            clip_names=arrays.get("clip_names"),
            sample_rate=int(arrays["sample_rate"]) if "sample_rate" in arrays else None,
        )
    if "pool_ids" in arrays:
        pool = PoolArrays(
            pool_ids=arrays["pool_ids"].astype(np.int64),
            positive_ids=arrays["positive_ids"].astype(np.int64),
            scores=arrays["scores"],
            pick_order=arrays["pick_order"],
            pool_prob=arrays["pool_prob"],
            pool_grad=arrays["pool_grad"],
            positive_prob=arrays["positive_prob"],
            positive_grad=arrays.get("positive_grad"),
            grad_label=str(arrays["grad_label"]) if "grad_label" in arrays else "known",
            pool_evidence=_evidence(arrays, "pool"),
            positive_evidence=_evidence(arrays, "positive"),
        )
    return EpochArrays(epoch=epoch, version=VERSION, bags=bags, pool=pool)


def _evidence(arrays: dict[str, np.ndarray], prefix: str) -> EvidenceArrays | None:
    if f"{prefix}_instance_prob" not in arrays:
        return None
    return EvidenceArrays(**{part: arrays.get(f"{prefix}_{stored}") for part, stored in _EVIDENCE_PARTS.items()})
