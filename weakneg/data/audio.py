"""Audio bags (a bag is a clip, its instances are time steps) and the AudioSet dataset.

AudioSet is read from its published layout under the data root (names configurable through
dataset_options):

    class_labels_indices.csv     index,mid,display_name
    balanced_train_segments.csv  three '#' comment lines, then YTID, start_seconds, end_seconds, "mid,mid"
    eval_segments.csv            the same layout: the test split
    audio/YTID.wav (or .flac)    one clip per YTID, any sample rate (resampled to 16 kHz)

or from PSLA's json datafiles ({"data": [{"wav": path, "labels": "mid,mid"}]}) with
dataset_options train_json / eval_json. Clips that are missing, unreadable, silent or too short
are skipped and reported in one summary line per split.

dataset_options: labels_csv, train_csv, eval_csv, train_json, eval_json, audio_dir (paths relative
to the data root, or absolute); audio_name (file name pattern, default "{ytid}"; also {start} and
{end} in whole seconds, e.g. "Y{ytid}" or "{ytid}_{start}"); min_seconds (1.0: shorter clips are
skipped); freq_mask, time_mask, mixup_alpha, mixup_rate (augmentation, when the run augments).
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, DatasetMissing
from ..targets import is_multilabel
from .augment import AugmentSettings, augment_batch
from .bags import BagSet
from .features import AudioProblem, FeatureSettings, cached_features, feature_stats, open_features, read_audio
from .options import MIN_SECONDS, DatasetOption, augment_options, min_seconds_option
from .registry import DatasetSpec, register_dataset

log = logging.getLogger("weakneg.audio")

AUDIOSET_DEFAULTS = {
    "labels_csv": "class_labels_indices.csv",
    "train_csv": "balanced_train_segments.csv",
    "eval_csv": "eval_segments.csv",
    "audio_dir": "audio",
    "audio_name": "{ytid}",
    "min_seconds": MIN_SECONDS,
}
AUDIO_EXTENSIONS = (".wav", ".flac")
SHOWN_IDS = 5  # ids named in a skipped-clips summary


class AudioBags(BagSet):
    """Clips as bags: `inputs` gives normalised log-mel (b, frames, n_mels) read from the memory-mapped cache."""

    modality = "audio"
    inference_batch = 32  # a full clip's first-layer activations are large: bound peak memory

    def __init__(
        self,
        feature_files: np.ndarray,
        audio_files: np.ndarray,
        labels: np.ndarray,
        contents: np.ndarray,
        ids: np.ndarray,
        names: np.ndarray,
        mean: float,
        std: float,
        settings: FeatureSettings = FeatureSettings(),
        augment_settings: AugmentSettings = AugmentSettings(),
        device: torch.device | str = "cpu",
    ):
        self.feature_files = np.asarray(feature_files, dtype=object)
        self.audio_files = np.asarray(audio_files, dtype=object)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.contents = contents  # (B, n_classes) int16 multi-hot of each clip's classes: analysis only
        self.ids = np.asarray(ids, dtype=np.int64)
        self.names = np.asarray(names, dtype=object)  # YTIDs or file stems, for people
        self.mean, self.std = float(mean), float(std)
        self.settings, self.augment_settings = settings, augment_settings
        self.device = torch.device(device)

    def inputs(self, positions: torch.Tensor) -> torch.Tensor:
        chosen = torch.as_tensor(positions).reshape(-1).cpu().numpy()
        batch = np.empty((len(chosen), self.settings.frames, self.settings.n_mels), dtype=np.float32)
        for row, position in enumerate(chosen):  # one memory-mapped file per clip: RAM holds one batch only
            batch[row] = open_features(self.feature_files[position])
        batch -= self.mean
        batch /= self.std
        return torch.from_numpy(batch).to(self.device)

    def subset(self, positions: np.ndarray) -> AudioBags:
        p = np.asarray(positions, dtype=np.int64)
        return AudioBags(
            self.feature_files[p],
            self.audio_files[p],
            self.labels[p],
            self.contents[p],
            self.ids[p],
            self.names[p],
            self.mean,
            self.std,
            self.settings,
            self.augment_settings,
            self.device,
        )

    def to(self, device: torch.device | str) -> AudioBags:
        if torch.device(device) == self.device:
            return self
        return AudioBags(
            self.feature_files,
            self.audio_files,
            self.labels,
            self.contents,
            self.ids,
            self.names,
            self.mean,
            self.std,
            self.settings,
            self.augment_settings,
            device,
        )

    def augment(
        self, inputs: torch.Tensor, targets: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return augment_batch(inputs, targets, generator, self.augment_settings)

    def sample_weights(self, positions: np.ndarray) -> np.ndarray:
        """Inverse frequency of each bag's label among `positions`: every label gets the same total weight.

        PSLA weights clips by the inverse frequency of their labels; here the training labels are the
        bag labels of the target class (the other classes a clip holds are for analysis only).
        """
        labels = self.labels[np.asarray(positions, dtype=np.int64)]
        counts = np.bincount(labels, minlength=2).astype(np.float64)
        return 1.0 / counts[labels]

    def waveform(self, position: int) -> tuple[np.ndarray, int]:
        """The clip as the model hears it: mono float32 samples at the feature sample rate."""
        rate = self.settings.sample_rate
        return read_audio(self.audio_files[position], rate), rate

    def log_mel(self, position: int) -> np.ndarray:
        """The cached log-mel (frames, n_mels) float32 of one clip, before normalisation."""
        return np.asarray(open_features(self.feature_files[position]), dtype=np.float32)


# --- building bags from a list of clips -----------------------------------------------------------


@dataclass
class Clip:
    id: int  # stable across runs: the row of the clip in its list file
    name: str  # YTID or file stem
    path: Path
    classes: list[int] = field(default_factory=list)


def limit_clips(clips: list[Clip], limit: int, seed: int) -> list[Clip]:
    """A random subset of `limit` clips (0 = all), in their original order: quick looks at large sets."""
    if not limit or limit >= len(clips):
        return clips
    keep = np.sort(np.random.default_rng([seed, 3]).permutation(len(clips))[:limit])
    return [clips[i] for i in keep]


def cache_clips(
    clips: list[Clip], what: str, settings: FeatureSettings, min_seconds: float
) -> tuple[list[Clip], list[Path]]:
    """Compute (or find) each clip's cached features; skip bad clips and report them in one line."""
    kept, files = [], []
    problems: dict[str, list[str]] = {}  # reason -> clip names
    for clip in clips:
        try:
            files.append(cached_features(clip.path, settings, min_seconds))
            kept.append(clip)
        except AudioProblem as problem:
            problems.setdefault(problem.reason, []).append(clip.name)
    if problems:
        skipped = [name for names in problems.values() for name in names]
        counts = ", ".join(f"{len(names)} {reason}" for reason, names in problems.items())
        shown = ", ".join(skipped[:SHOWN_IDS]) + (", ..." if len(skipped) > SHOWN_IDS else "")
        log.warning("%s: skipped %d of %d clips (%s): %s", what, len(skipped), len(clips), counts, shown)
    return kept, files


def audio_bags(
    clips: list[Clip],
    files: list[Path],
    n_classes: int,
    target: int,
    class_name: str,
    what: str,
    stats: tuple[float, float],
    settings: FeatureSettings,
    augment_settings: AugmentSettings,
    require_target: bool = True,
) -> AudioBags:
    contents = np.zeros((len(clips), n_classes), dtype=np.int16)
    for row, clip in enumerate(clips):
        contents[row, clip.classes] = 1
    labels = contents[:, target].astype(np.int64) if len(clips) else np.zeros(0, dtype=np.int64)
    n_pos = int(labels.sum())
    if require_target and (n_pos == 0 or n_pos == len(labels)):  # a multi-label run checks each class itself
        kind = "positive" if n_pos == 0 else "negative"
        raise ConfigError(
            f"{what} has no {kind} clip for class {class_name!r} ({len(labels)} usable clips); "
            f"choose another class or raise max_instances / the dataset size"
        )
    return AudioBags(
        np.array([str(f) for f in files], dtype=object),
        np.array([str(c.path) for c in clips], dtype=object),
        labels,
        contents,
        np.array([c.id for c in clips]),
        np.array([c.name for c in clips], dtype=object),
        *stats,
        settings=settings,
        augment_settings=augment_settings,
    )


def build_audio_splits(
    cfg, splits: dict[str, list[Clip]], class_names: list[str], target: int, dataset: str
) -> tuple[AudioBags, AudioBags]:
    """(train, test) AudioBags from clip lists, normalised with statistics of the training features."""
    options = cfg.dataset_options
    settings = FeatureSettings()
    augment_settings = AugmentSettings.from_options(options)
    min_seconds = float(options.get("min_seconds", AUDIOSET_DEFAULTS["min_seconds"]))
    cached = {}
    for split, clips in splits.items():
        clips = limit_clips(clips, cfg.max_instances, cfg.seed)
        cached[split] = cache_clips(clips, f"{dataset} {split}", settings, min_seconds)
        if clips and not cached[split][0]:
            folder = sorted({str(clip.path.parent) for clip in clips})[0]
            raise DatasetMissing(
                f"{dataset} {split}: none of its {len(clips)} clips could be read (first looked "
                f"for: {clips[0].path}); put the audio files in {folder} or set audio_dir"
            )
    stats = feature_stats(cached["train"][1])
    train, test = (
        audio_bags(
            *cached[split],
            len(class_names),
            target,
            class_names[target],
            f"the {split} split",
            stats,
            settings,
            augment_settings,
            require_target=not is_multilabel(cfg.target_class),
        )
        for split in ("train", "test")
    )
    return train, test


# --- AudioSet -------------------------------------------------------------------------------------


def _option_path(root: Path, options: dict, key: str) -> Path | None:
    value = options.get(key, AUDIOSET_DEFAULTS.get(key))
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def _default_path(root: Path, options: dict, key: str) -> Path:
    """A path option that has a default (labels_csv, train_csv, eval_csv, audio_dir)."""
    path = _option_path(root, options, key)
    if path is None:
        raise ConfigError(f"dataset option {key} is empty: give a path (default: {AUDIOSET_DEFAULTS[key]})")
    return path


def _split_files(root: Path, options: dict) -> dict[str, Path]:
    """The list file of each split: PSLA json where given, else the segments CSV."""
    return {
        split: _option_path(root, options, f"{prefix}_json") or _default_path(root, options, f"{prefix}_csv")
        for split, prefix in (("train", "train"), ("test", "eval"))
    }


def audioset_missing(root: Path, options: dict) -> str | None:
    needed = [_default_path(root, options, "labels_csv"), *_split_files(root, options).values()]
    absent = [str(path) for path in needed if not path.is_file()]
    if not absent:
        return None
    return (
        f"AudioSet not found: missing {', '.join(absent)}. Put class_labels_indices.csv, "
        f"balanced_train_segments.csv, eval_segments.csv and audio/YTID.wav (or .flac) under {root} "
        f"(--data-root), or name other files with dataset_options labels_csv / train_csv / eval_csv / "
        f"train_json / eval_json / audio_dir"
    )


def read_class_labels(path: Path) -> tuple[list[str], list[str]]:
    """class_labels_indices.csv -> (mids, display names), ordered by index."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = sorted(csv.DictReader(handle, strict=True), key=lambda row: int(row["index"]))
        return [row["mid"] for row in rows], [row["display_name"] for row in rows]
    except (KeyError, ValueError, TypeError, csv.Error) as error:  # UnicodeDecodeError is a ValueError
        raise DatasetMissing(
            f"{path} is not an AudioSet class list (expected columns index,mid,display_name): {error}"
        ) from error


def read_segments(path: Path) -> list[tuple[str, float, float, list[str]]]:
    """A segments CSV in the published layout -> (YTID, start, end, label mids) per clip."""
    segments = []
    layout = 'expected YTID, start_seconds, end_seconds, "positive_labels"'
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, skipinitialspace=True, strict=True)  # strict: an unterminated quote raises
            for row in reader:
                number = reader.line_num
                if not row or row[0].startswith("#"):
                    continue
                if len(row) < 4 or any("\n" in field or "\r" in field for field in row):
                    raise DatasetMissing(f"{path} line {number}: {layout}; got {_shown_row(row)}")
                try:
                    start, end = float(row[1]), float(row[2])
                except ValueError:
                    raise DatasetMissing(
                        f"{path} line {number}: start_seconds and end_seconds must be numbers, got "
                        f"{row[1]!r} and {row[2]!r}"
                    ) from None
                mids = [mid.strip() for mid in row[3].split(",") if mid.strip()]
                segments.append((row[0].strip(), start, end, mids))
    except UnicodeDecodeError as error:
        raise DatasetMissing(
            f"{path} is not a text CSV (byte {error.start} is not UTF-8); {layout}, one clip per line"
        ) from None
    except csv.Error as error:
        raise DatasetMissing(f"{path} line {reader.line_num}: {error} (an unterminated quote?); {layout}") from None
    return segments


def _shown_row(row: list[str]) -> str:
    text = repr(row)
    return text if len(text) <= 120 else text[:117] + "..."


def read_psla_json(path: Path) -> list[tuple[Path, list[str]]]:
    """PSLA's datafile -> (audio path, label mids) per clip; relative paths are relative to the json file."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["data"]
        items = []
        for entry in entries:
            wav = Path(entry["wav"]).expanduser()
            items.append(
                (
                    wav if wav.is_absolute() else path.parent / wav,
                    [mid.strip() for mid in entry["labels"].split(",") if mid.strip()],
                )
            )
        return items
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise DatasetMissing(
            f'{path} is not a PSLA datafile ({{"data": [{{"wav": ..., "labels": "mid,mid"}}]}}): {error}'
        ) from error


def audio_file(folder: Path, name: str) -> Path:
    """The clip's .wav or .flac (the .wav path when neither exists, so it is reported as missing)."""
    for extension in AUDIO_EXTENSIONS:
        if (candidate := folder / f"{name}{extension}").is_file():
            return candidate
    return folder / f"{name}.wav"


def audioset_clips(root: Path, options: dict, split: str, mids: list[str]) -> list[Clip]:
    index = {mid: i for i, mid in enumerate(mids)}
    path = _split_files(root, options)[split]
    unknown: set[str] = set()

    def classes(labels: list[str]) -> list[int]:
        unknown.update(mid for mid in labels if mid not in index)
        return [index[mid] for mid in labels if mid in index]

    if path.suffix == ".json":
        clips = [Clip(i, wav.stem, wav, classes(labels)) for i, (wav, labels) in enumerate(read_psla_json(path))]
    else:
        folder, pattern = _default_path(root, options, "audio_dir"), options.get("audio_name", "{ytid}")
        clips = [
            Clip(
                i, ytid, audio_file(folder, pattern.format(ytid=ytid, start=int(start), end=int(end))), classes(labels)
            )
            for i, (ytid, start, end, labels) in enumerate(read_segments(path))
        ]
    if unknown:
        log.warning(
            "%s: ignored %d label(s) not in the class list: %s",
            path.name,
            len(unknown),
            ", ".join(sorted(unknown)[:SHOWN_IDS]),
        )
    return clips


def audioset_class_names(root: Path, options: dict) -> list[str]:
    return read_class_labels(_default_path(root, options, "labels_csv"))[1]


def build_audioset(cfg, root: Path, target: int) -> tuple[AudioBags, AudioBags]:
    options = cfg.dataset_options
    mids, names = read_class_labels(_default_path(root, options, "labels_csv"))
    splits = {split: audioset_clips(root, options, split, mids) for split in ("train", "test")}
    return build_audio_splits(cfg, splits, names, target, "audioset")


def audioset_options() -> dict:
    where = "relative to the data root, or absolute"
    files = {
        "labels_csv": "the class list (index,mid,display_name)",
        "train_csv": "training segments",
        "eval_csv": "test segments",
        "train_json": "training clips as PSLA json (instead of train_csv)",
        "eval_json": "test clips as PSLA json (instead of eval_csv)",
        "audio_dir": "the folder of the clips",
    }
    declared = {
        key: DatasetOption(
            AUDIOSET_DEFAULTS.get(key), "text", f"{text}, {where}", nullable=key not in AUDIOSET_DEFAULTS
        )
        for key, text in files.items()
    }
    declared["audio_name"] = DatasetOption(
        AUDIOSET_DEFAULTS["audio_name"], "text", "clip file name pattern: {ytid}, {start}, {end}"
    )
    return {**declared, **min_seconds_option(), **augment_options()}


register_dataset(
    DatasetSpec(
        "audioset",
        "audio",
        "AudioSet clips from the published CSV layout (or PSLA json) under the data root; the paper's audio set",
        audioset_missing,
        audioset_class_names,
        build_audioset,
        options=audioset_options(),
    )
)
