"""`soundscapes`: the embedded audio dataset, 10-second mixtures of real recordings with weak labels.

Sources are the samples of Debian's `sonic-pi-samples` (/usr/share/sonic-pi/samples), grouped into
families by file-name prefix (bd_808 -> bd, tabla_ghe1 -> tabla, ...). Each clip holds 1 to
`max_events` events: a family drawn uniformly, one of its recordings, a random gain and onset,
over low-level white noise. Its weak labels are the families present; where an event sits is not
recorded as a label, as in AudioSet. Everything is deterministic from dataset_options' `seed`
(default 0, independent of the run seed so every run sees the same clips). The clips are written
once as FLAC under the cache folder; a finished set is recognised by its manifest.

dataset_options: n_train (600), n_test (300), seed (0), max_events (4), families (all with at
least min_files (4) recordings; a list or a comma-separated string), noise_db (-50, RMS in dBFS),
samples_dir (the Debian folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from collections.abc import Callable

import numpy as np

from .. import paths
from ..extras import need
from ..errors import ConfigError, DatasetMissing
from .audio import AUDIOSET_DEFAULTS, AudioBags, Clip, build_audio_splits
from .features import AudioProblem, FeatureSettings, cached_features, resample
from .making import Maker, Progress, Report, make_once, start_in_background
from .options import DatasetOption, augment_options, min_seconds_option
from .registry import DatasetSpec, register_dataset

SAMPLES_DIR = Path("/usr/share/sonic-pi/samples")
GENERATOR_VERSION = 1  # bump when the mixing changes: cached sets are then regenerated
SAMPLE_RATE = 16000
CLIP_SECONDS = 10.0
GAIN_DB = (-20.0, -3.0)  # peak level of one event
SPLIT_CODES = {"train": 0, "test": 1}
PROGRESS_EVERY = 10  # clips between progress reports


@dataclass(frozen=True)
class SoundscapeSettings:
    n_train: int = 600
    n_test: int = 300
    seed: int = 0
    max_events: int = 4
    min_files: int = 4
    families: tuple[str, ...] = ()  # empty: every family with at least min_files recordings
    noise_db: float = -50.0
    samples_dir: str = str(SAMPLES_DIR)

    @classmethod
    def from_options(cls, options: dict) -> SoundscapeSettings:
        values = {
            key: options[key]
            for key in ("n_train", "n_test", "seed", "max_events", "min_files", "noise_db", "samples_dir")
            if key in options
        }
        for key, kind in (
            ("n_train", int),
            ("n_test", int),
            ("seed", int),
            ("max_events", int),
            ("min_files", int),
            ("noise_db", float),
        ):
            if isinstance(values.get(key), str):  # from a form or a KEY=VALUE flag
                try:
                    values[key] = kind(values[key])
                except ValueError:
                    raise ConfigError(f"soundscapes option {key} must be a number, got {values[key]!r}") from None
        families = options.get("families", ())
        if isinstance(families, str):
            families = [name.strip() for name in families.split(",") if name.strip()]
        settings = cls(**values, families=tuple(families))
        for name in ("n_train", "n_test", "max_events", "min_files"):
            value = getattr(settings, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"soundscapes option {name} must be an integer >= 1, got {value!r}")
        return settings


def source_files(samples_dir: str | Path) -> dict[str, list[Path]]:
    """Every family (file-name prefix before the first '_') -> its recordings, sorted."""
    families: dict[str, list[Path]] = {}
    for path in sorted(Path(samples_dir).glob("*.flac")):
        families.setdefault(path.stem.split("_")[0], []).append(path)
    return families


def chosen_families(settings: SoundscapeSettings) -> dict[str, list[Path]]:
    available = source_files(settings.samples_dir)
    if settings.families:
        unknown = [name for name in settings.families if name not in available]
        if unknown:
            raise ConfigError(f"unknown soundscapes families {unknown}; available: {', '.join(sorted(available))}")
        return {name: available[name] for name in settings.families}
    return {name: files for name, files in available.items() if len(files) >= settings.min_files}


def soundscapes_missing(root: Path, options: dict) -> str | None:
    folder = Path(options.get("samples_dir", SAMPLES_DIR))
    if folder.is_dir() and any(folder.glob("*.flac")):
        return None
    return (
        f"soundscapes needs the sonic-pi samples in {folder}: install them with "
        f"`sudo apt-get install sonic-pi-samples` (or `make setup`), or set dataset_options samples_dir "
        f"to a folder of family_name.flac recordings"
    )


def soundscapes_class_names(root: Path, options: dict) -> list[str]:
    return list(chosen_families(SoundscapeSettings.from_options(options)))


# --- generation -----------------------------------------------------------------------------------


class SourceBank:
    """Recordings read once each, as 16 kHz mono peak-normalised float32, cut to the clip length."""

    def __init__(self):
        self._loaded: dict[Path, np.ndarray] = {}

    def get(self, path: Path) -> np.ndarray:
        if path not in self._loaded:
            soundfile = need("soundfile", "audio", "reading soundscapes")
            samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
            mono = resample(samples.mean(axis=1), rate, SAMPLE_RATE)[: int(CLIP_SECONDS * SAMPLE_RATE)]
            self._loaded[path] = mono / max(float(np.abs(mono).max()), 1e-6)
        return self._loaded[path]


def mix_clip(
    rng: np.random.Generator, families: dict[str, list[Path]], bank: SourceBank, settings: SoundscapeSettings
) -> tuple[np.ndarray, list[dict]]:
    """One clip: 1..max_events events at random onsets and gains over noise -> (samples, events)."""
    length = int(CLIP_SECONDS * SAMPLE_RATE)
    names = list(families)
    mix = rng.standard_normal(length).astype(np.float32) * np.float32(10 ** (settings.noise_db / 20))
    events = []
    for _ in range(int(rng.integers(1, settings.max_events + 1))):
        family = names[int(rng.integers(len(names)))]
        source = families[family][int(rng.integers(len(families[family])))]
        gain_db = float(rng.uniform(*GAIN_DB))
        samples = bank.get(source)
        onset = int(rng.integers(0, length - len(samples) + 1))
        mix[onset : onset + len(samples)] += samples * np.float32(10 ** (gain_db / 20))
        events.append({"family": family, "source": source.name, "onset_s": onset / SAMPLE_RATE, "gain_db": gain_db})
    peak = float(np.abs(mix).max())
    if peak > 0.99:  # overlapping loud events: scale the whole clip rather than clip it
        mix *= np.float32(0.99 / peak)
    return mix, events


def set_key(settings: SoundscapeSettings, families: dict[str, list[Path]]) -> str:
    sources = {name: [(p.name, p.stat().st_size) for p in files] for name, files in families.items()}
    text = json.dumps({"settings": asdict(settings), "sources": sources, "version": GENERATOR_VERSION}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def set_folder(settings: SoundscapeSettings) -> tuple[Path, dict[str, list[Path]]]:
    """Where a set with these settings lives (whether made or not) and its families' recordings."""
    families = chosen_families(settings)
    if len(families) < 2:
        raise ConfigError(f"soundscapes needs at least 2 families, got {list(families)}")
    return paths.cache_root() / "soundscapes" / set_key(settings, families), families


def write_clips(settings: SoundscapeSettings, families: dict[str, list[Path]], folder: Path, report: Report) -> None:
    """Mix and write every clip and the manifest into `folder` (atomically: a partial folder, then a rename)."""
    partial = folder.with_name(f"{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    soundfile = need("soundfile", "audio", "making soundscapes")
    bank = SourceBank()
    splits: dict[str, list[dict]] = {}
    manifest = {"settings": asdict(settings), "families": list(families), "sample_rate": SAMPLE_RATE, "splits": splits}
    total, done = settings.n_train + settings.n_test, 0
    report("generating soundscapes", 0, total)
    for split, count in (("train", settings.n_train), ("test", settings.n_test)):
        (partial / split).mkdir(parents=True)
        clips = []
        for index in range(count):
            rng = np.random.default_rng([settings.seed, SPLIT_CODES[split], index])
            samples, events = mix_clip(rng, families, bank, settings)
            name = f"{split}/clip_{index:05d}.flac"
            soundfile.write(str(partial / name), samples, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
            clips.append({"file": name, "events": events, "families": sorted({e["family"] for e in events})})
            done += 1
            if done % PROGRESS_EVERY == 0 or done == total:
                report("generating soundscapes", done, total)
        splits[split] = clips
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=1))
    try:
        partial.rename(folder)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        if not (folder / "manifest.json").is_file():
            raise


def generate(settings: SoundscapeSettings, report: Report | None = None) -> Path:
    """The folder of a generated set (train/, test/, manifest.json), generating it when absent; only one process
    generates a set (data/making.py's lock), the others wait for it."""
    folder, families = set_folder(settings)
    if not (folder / "manifest.json").is_file():
        make_once(
            Maker(folder, lambda: (folder / "manifest.json").is_file()),
            lambda lock_report: write_clips(settings, families, folder, _both(lock_report, report)),
        )
    return folder


def _both(first: Report, second: Report | None) -> Report:
    if second is None:
        return first

    def both(phase: str, done: int, total: int) -> None:
        first(phase, done, total)
        second(phase, done, total)

    return both


# --- in the background, for the app ------------------------------------------------------------------------


def feature_maker(settings: SoundscapeSettings, min_seconds: float) -> tuple[Maker, Callable[[Report], None]]:
    """The whole first use of a set: its clips generated, then every clip's features cached (what a run reads).
    Ready when a marker beside the clips says the features of these settings are cached."""
    folder, families = set_folder(settings)
    marker = folder.with_name(f"{folder.name}.features-{FeatureSettings().key()}-{min_seconds:g}")

    def make(report: Report) -> None:
        generate(settings, report)  # under the clips' own lock: a worker generating them at once is waited for
        entries = [folder / entry["file"] for clips in read_manifest(folder)["splits"].values() for entry in clips]
        for done, file in enumerate(entries, 1):
            try:
                cached_features(file, FeatureSettings(), min_seconds)
            except AudioProblem:  # skipped and reported when a run reads the set
                pass
            if done % PROGRESS_EVERY == 0 or done == len(entries):
                report("computing soundscapes features", done, len(entries))
        marker.touch()

    return Maker(marker, marker.is_file), make


def first_use(options: dict) -> tuple[Maker, Callable[[Report], None]]:
    """The maker of the soundscapes these dataset options describe (see feature_maker)."""
    return feature_maker(
        SoundscapeSettings.from_options(options), float(options.get("min_seconds", AUDIOSET_DEFAULTS["min_seconds"]))
    )


def prepare_in_background(options: dict, retry: bool = False) -> Progress:
    """Start the first use of the soundscapes these options describe in a background thread (unless ready or
    being prepared by anyone); the progress now. The Launch page calls this instead of loading the set."""
    return start_in_background(*first_use(options), retry=retry)


def preparation(options: dict) -> Progress:
    """The progress of the first use of these soundscapes (reads files only)."""
    return first_use(options)[0].progress()


def read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as error:
        raise DatasetMissing(
            f"the generated soundscapes in {folder} are damaged ({error}); delete that folder to regenerate it"
        ) from error


def build_soundscapes(cfg, root: Path, target: int) -> tuple[AudioBags, AudioBags]:
    settings = SoundscapeSettings.from_options(cfg.dataset_options)
    folder = generate(settings)
    manifest = read_manifest(folder)
    names = manifest["families"]
    index = {name: i for i, name in enumerate(names)}
    splits = {
        split: [
            Clip(
                i,
                Path(entry["file"]).stem.replace("clip", split),
                folder / entry["file"],
                [index[f] for f in entry["families"]],
            )
            for i, entry in enumerate(entries)
        ]
        for split, entries in manifest["splits"].items()
    }
    return build_audio_splits(cfg, splits, names, target, "soundscapes")


def soundscapes_options() -> dict:
    d = SoundscapeSettings()
    return {
        "n_train": DatasetOption(d.n_train, "int", "training clips generated", minimum=1, maximum=100_000),
        "n_test": DatasetOption(d.n_test, "int", "test clips generated", minimum=1, maximum=100_000),
        "seed": DatasetOption(
            d.seed, "int", "the generator's seed (the same clips for every run seed)", minimum=0, maximum=2**32 - 1
        ),
        "max_events": DatasetOption(d.max_events, "int", "at most this many events per clip", minimum=1, maximum=100),
        "min_files": DatasetOption(d.min_files, "int", "families need this many recordings", minimum=1),
        "families": DatasetOption(
            list(d.families), "names", "the sound families (empty: every family with min_files recordings)"
        ),
        "noise_db": DatasetOption(d.noise_db, "float", "background noise, RMS in dBFS", minimum=-200, maximum=0),
        "samples_dir": DatasetOption(d.samples_dir, "text", "the folder of family_name.flac recordings"),
        **min_seconds_option(),
        **augment_options(),
    }


register_dataset(
    DatasetSpec(
        "soundscapes",
        "audio",
        "10-second mixtures of real sonic-pi recordings over noise; weak labels = the "
        "sound families present (bd, sn, tabla, ...); the embedded audio default",
        soundscapes_missing,
        soundscapes_class_names,
        build_soundscapes,
        options=soundscapes_options(),
        preparation=preparation,
        prepare_in_background=prepare_in_background,
    )
)
