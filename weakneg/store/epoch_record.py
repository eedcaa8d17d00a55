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
    class_labels: np.ndarray | None = None  # (B, T) 0/1 per trained class: a multi-label run only
    targets: np.ndarray | None = None  # (T,) the trained classes' indices into class_names: a multi-label run only


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
    artifacts.save_arrays(run_id, epoch_name(record.epoch), **_encode(record.bags, record.pool))


def _encode(*parts) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {"record_version": np.array(VERSION)}
    for part in parts:
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
    return arrays


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
            class_labels=arrays.get("class_labels"),
            targets=arrays["targets"].astype(np.int64) if "targets" in arrays else None,
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
    return EvidenceArrays(
        prob=arrays[f"{prefix}_instance_prob"],
        offsets=arrays[f"{prefix}_instance_offsets"],
        driver=arrays[f"{prefix}_driver"],
        attention=arrays.get(f"{prefix}_attention"),  # the attention head's only
    )


# --- a multi-label run's per-class arrays (train_multilabel.py); names start epoch_NNNN_ so a resume truncates them
# with the epoch's other files. Same version scheme: `record_version` stored, older files upgraded on reading.

CLASSES_FILE = "epoch_{epoch:04d}_classes.npz"  # per-class metrics and every class's picks (index lists)
CLASS_POOL_FILE = "epoch_{epoch:04d}_class_{c:03d}.npz"  # maps on: class c's pool, as a binary run's PoolArrays


@dataclass(frozen=True)
class ClassPicks:
    """One epoch of a multi-label run: each trained class's test metrics and, on a resampling epoch, the negatives
    chosen for it as one index list (class c's picks are chosen_ids[chosen_offsets[c]:chosen_offsets[c + 1]], in
    pick order), not one array per class."""

    class_names: np.ndarray  # (T,) str
    ap: np.ndarray  # (T,) float64
    auc: np.ndarray  # (T,)
    dprime: np.ndarray  # (T,)
    micro_ap: float
    chosen_ids: np.ndarray | None = None  # (sum k_c,) int64 bag ids
    chosen_scores: np.ndarray | None = None  # (sum k_c,) float32
    chosen_offsets: np.ndarray | None = None  # (T + 1,) int64

    def picks(self, c: int) -> np.ndarray:
        """Class c's chosen bag ids in pick order (empty on an epoch that kept the last picks)."""
        if self.chosen_offsets is None or self.chosen_ids is None:
            return np.zeros(0, dtype=np.int64)
        return self.chosen_ids[self.chosen_offsets[c] : self.chosen_offsets[c + 1]]


def save_class_picks(artifacts: ArtifactRepository, run_id: int, epoch: int, picks: ClassPicks) -> None:
    arrays = _encode(picks)
    arrays["micro_ap"] = np.array(picks.micro_ap, dtype=np.float64)
    artifacts.save_arrays(run_id, CLASSES_FILE.format(epoch=epoch), **arrays)


def load_class_picks(artifacts: ArtifactRepository, run_id: int, epoch: int) -> ClassPicks | None:
    name = CLASSES_FILE.format(epoch=epoch)
    arrays = artifacts.load_arrays(run_id, name)
    if arrays is None:
        return None
    try:
        _check_version(arrays, epoch)
        return ClassPicks(
            class_names=arrays["class_names"],
            ap=arrays["ap"],
            auc=arrays["auc"],
            dprime=arrays["dprime"],
            micro_ap=float(arrays["micro_ap"]),
            chosen_ids=arrays["chosen_ids"].astype(np.int64) if "chosen_ids" in arrays else None,
            chosen_scores=arrays.get("chosen_scores"),
            chosen_offsets=arrays["chosen_offsets"].astype(np.int64) if "chosen_offsets" in arrays else None,
        )
    except (KeyError, ValueError) as error:
        raise CorruptArtifact(f"{artifacts.where(run_id, name)} is not a whole per-class record ({error})") from error


def save_class_pool(artifacts: ArtifactRepository, run_id: int, epoch: int, c: int, pool: PoolArrays) -> None:
    artifacts.save_arrays(run_id, CLASS_POOL_FILE.format(epoch=epoch, c=c), **_encode(pool))


def load_class_pool(artifacts: ArtifactRepository, run_id: int, epoch: int, c: int) -> PoolArrays | None:
    name = CLASS_POOL_FILE.format(epoch=epoch, c=c)
    arrays = artifacts.load_arrays(run_id, name)
    if arrays is None:
        return None
    try:
        return from_arrays(arrays, epoch).pool
    except (KeyError, ValueError) as error:
        raise CorruptArtifact(f"{artifacts.where(run_id, name)} is not a whole class pool record ({error})") from error


def _check_version(arrays: dict[str, np.ndarray], epoch: int) -> None:
    version = int(arrays["record_version"]) if "record_version" in arrays else 1
    if version > VERSION:
        raise ValueError(f"epoch {epoch}'s per-class arrays are of record version {version}, newer than {VERSION}")
