"""Log-mel features as in PSLA, computed once per audio file and cached on disk as float16 arrays.

Settings: 16 kHz mono, Kaldi-style filterbank with 128 mel bins, 25 ms
window, 10 ms hop, padded or cut to 1056 frames. The cache key is the audio file (resolved path,
size, modification time) plus the feature settings, so editing a file or a setting recomputes
only what changed. Each clip is one `.npy` file opened memory-mapped: a dataset larger than RAM
still trains, and a subset of it (max_instances) reuses the same files.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import paths
from ..extras import need
from ..errors import WeaknegError

FEATURE_VERSION = 1  # bump when the computation changes: old cache entries are then ignored


@dataclass(frozen=True)
class FeatureSettings:
    sample_rate: int = 16000
    n_mels: int = 128
    hop_ms: float = 10.0
    window_ms: float = 25.0
    frames: int = 1056

    def key(self) -> str:
        text = json.dumps({**asdict(self), "version": FEATURE_VERSION}, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:16]


class AudioProblem(Exception):
    """A clip that cannot be used; `reason` is one of missing, unreadable, silent, too short."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# Counts feature computations in this process: tests use it to prove the cache is read, not rebuilt.
COMPUTED = {"count": 0}


def read_audio(path: str | Path, sample_rate: int = 16000, min_seconds: float = 0.0) -> np.ndarray:
    """Mono float32 samples at `sample_rate`; raises AudioProblem for missing/unreadable/silent/short clips."""
    path = Path(path)
    if not path.is_file():
        raise AudioProblem("missing", str(path))
    soundfile = need("soundfile", "audio", "reading audio")
    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError, ValueError) as error:
        raise AudioProblem("unreadable", f"{path.name}: {error}") from error
    mono = samples.mean(axis=1)
    if len(mono) < max(min_seconds * rate, 1):
        raise AudioProblem("too short", f"{path.name}: {len(mono) / rate:.2f} s")
    if not np.isfinite(mono).all():
        raise AudioProblem("unreadable", f"{path.name}: samples that are not finite numbers")
    if np.abs(mono).max() < 1e-5:  # below -100 dBFS: nothing to hear
        raise AudioProblem("silent", path.name)
    return resample(mono, rate, sample_rate)


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Any sample rate -> `target`, with scipy's polyphase filter (fast, and no kernel rebuilt per call)."""
    if rate == target:
        return np.ascontiguousarray(samples, dtype=np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    step = gcd(int(rate), int(target))
    return resample_poly(samples, int(target) // step, int(rate) // step).astype(np.float32)


@lru_cache(maxsize=8)
def _analysis(settings: FeatureSettings) -> tuple[int, int, int, np.ndarray, np.ndarray]:
    """(window, hop, fft size, Hann window, mel banks (n_fft/2+1, n_mels)): built once per settings."""
    kaldi = need("torchaudio.compliance.kaldi", "audio", "computing log-mel features")

    window = int(settings.sample_rate * settings.window_ms / 1000)
    hop = int(settings.sample_rate * settings.hop_ms / 1000)
    n_fft = 1 << (window - 1).bit_length()
    banks, _ = kaldi.get_mel_banks(settings.n_mels, n_fft, float(settings.sample_rate), 20.0, 0.0, 100.0, -500.0, 1.0)
    banks = np.pad(banks.double().numpy(), ((0, 0), (0, 1)))  # the Nyquist bin carries no weight, as in Kaldi
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(window) / (window - 1))  # Kaldi's symmetric "hanning"
    return window, hop, n_fft, hann, np.ascontiguousarray(banks.T)


def log_mel(samples: np.ndarray, settings: FeatureSettings = FeatureSettings()) -> np.ndarray:
    """(frames, n_mels) float32 log-mel filterbank of 16 kHz mono samples, padded with zeros or cut.

    The same numbers as PSLA's `torchaudio.compliance.kaldi.fbank(htk_compat=True, window_type="hanning",
    dither=0, use_energy=False)` (a test checks it), in numpy: one thread, and the banks built once
    (torch's thread pool makes small FFTs several times slower on a busy machine).
    """
    window, hop, n_fft, hann, banks = _analysis(settings)
    wave = np.asarray(samples, dtype=np.float64)
    if len(wave) < window:  # one analysis window at least
        wave = np.pad(wave, (0, window - len(wave)))
    wave = wave - wave.mean()
    frames = np.lib.stride_tricks.sliding_window_view(wave, window)[::hop]  # Kaldi's snip_edges framing
    frames = frames - frames.mean(axis=1, keepdims=True)  # DC offset per frame
    previous = np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    frames = (frames - 0.97 * previous) * hann  # pre-emphasis, then the window
    power = np.square(np.abs(np.fft.rfft(frames, n=n_fft)))
    fbank = np.log(np.maximum(power @ banks, np.finfo(np.float32).eps)).astype(np.float32)
    out = np.zeros((settings.frames, settings.n_mels), dtype=np.float32)
    out[: min(len(fbank), settings.frames)] = fbank[: settings.frames]
    return out


def cache_dir(settings: FeatureSettings = FeatureSettings()) -> Path:
    return paths.cache_root() / "features" / settings.key()


def cache_path(audio_path: str | Path, settings: FeatureSettings = FeatureSettings()) -> Path:
    """Where the features of one audio file live: keyed by the file's identity and the settings."""
    audio_path = Path(audio_path).resolve()
    stat = audio_path.stat()
    identity = f"{audio_path}|{stat.st_size}|{stat.st_mtime_ns}"
    digest = hashlib.sha1(identity.encode()).hexdigest()
    return cache_dir(settings) / digest[:2] / f"{digest}.npy"


def cached_features(
    audio_path: str | Path, settings: FeatureSettings = FeatureSettings(), min_seconds: float = 0.0
) -> Path:
    """The cache file of one clip, computing it first when absent; raises AudioProblem for bad clips."""
    audio_path = Path(audio_path)
    if not audio_path.is_file():
        raise AudioProblem("missing", str(audio_path))
    target = cache_path(audio_path, settings)
    if target.is_file() and _intact(target, settings):
        return target  # a truncated or foreign file falls through and is rebuilt
    samples = read_audio(audio_path, settings.sample_rate, min_seconds)
    features = log_mel(samples, settings).astype(np.float16)
    COMPUTED["count"] += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.stem}.{os.getpid()}.tmp.npy")
    np.save(partial, features)
    os.replace(partial, target)  # atomic: a concurrent reader never sees half a file
    return target


def _intact(path: Path, settings: FeatureSettings) -> bool:
    """Whether a cache file holds what this cache writes: float16 (frames, n_mels), whole (reads the header only)."""
    try:
        features = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return features.dtype == np.float16 and features.ndim == 2 and features.shape[1] == settings.n_mels


def open_features(path: str | Path) -> np.ndarray:
    """A cached clip, memory-mapped (read-only float16, (frames, n_mels))."""
    try:
        return np.load(path, mmap_mode="r")
    except (OSError, ValueError) as error:  # damaged after it was checked: say which file and what to do
        raise WeaknegError(
            f"the feature cache file {path} is unreadable ({error}); delete it and it is computed "
            f"again from its clip on the next run"
        ) from error


def feature_stats(files: list[Path], limit: int = 256, seed: int = 0) -> tuple[float, float]:
    """Scalar mean and std of the log-mel values of (up to `limit` of) the given cached clips.

    Inputs are normalised with these training-set statistics, as PSLA normalises with AudioSet's.
    """
    if not files:
        return 0.0, 1.0
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(files), size=min(limit, len(files)), replace=False)
    total = count = 0.0
    squares = 0.0
    for index in chosen:
        values = np.asarray(open_features(files[index]), dtype=np.float64)
        total += values.sum()
        squares += np.square(values).sum()
        count += values.size
    mean = total / count
    std = float(np.sqrt(max(squares / count - mean**2, 1e-12)))
    return float(mean), std
