"""Log-mel features, resampling, the on-disk feature cache and PSLA's augmentation (SpecAugment, MixUp)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile
import torch
from scipy import stats

from weakneg.data import features
from weakneg.data.augment import AugmentSettings, augment_batch, mixup, spec_augment
from weakneg.data.features import AudioProblem, FeatureSettings, cached_features, log_mel, read_audio
from weakneg.errors import WeaknegError


def test_log_mel_matches_kaldi_fbank_as_psla_computes_it():
    import torchaudio.compliance.kaldi as kaldi

    rng = np.random.default_rng(0)
    t = np.arange(3 * 16000) / 16000
    wave = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    ours = log_mel(wave)
    centred = torch.from_numpy(wave - wave.mean())
    reference = kaldi.fbank(
        centred[None],
        htk_compat=True,
        sample_frequency=16000,
        use_energy=False,
        window_type="hanning",
        num_mel_bins=128,
        dither=0.0,
        frame_shift=10,
    ).numpy()
    assert ours.shape == (1056, 128) and reference.shape == (298, 128)
    np.testing.assert_allclose(ours[:298], reference, atol=2e-3)
    assert np.all(ours[298:] == 0)  # padded with zeros up to 1056 frames, as PSLA pads


def test_long_clips_are_cut_to_1056_frames():
    wave = np.random.default_rng(1).standard_normal(12 * 16000).astype(np.float32)
    assert log_mel(wave).shape == (1056, 128)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_any_sample_rate_is_resampled_to_16k(tmp_path, rate):
    seconds, tone = 1.5, 1500.0
    t = np.arange(int(seconds * rate)) / rate
    path = tmp_path / f"tone_{rate}.wav"
    soundfile.write(path, np.stack([0.5 * np.sin(2 * np.pi * tone * t)] * 2, axis=1), rate)  # stereo
    samples = read_audio(path)
    assert samples.dtype == np.float32 and abs(len(samples) - seconds * 16000) <= 1
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.fft.rfftfreq(len(samples), 1 / 16000)[spectrum.argmax()] == pytest.approx(tone, abs=2)


def test_bad_clips_raise_audio_problem_with_a_reason(tmp_path):
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF not really a wave file")
    soundfile.write(tmp_path / "silent.wav", np.zeros(32000), 16000)
    soundfile.write(tmp_path / "short.wav", np.full(1600, 0.1), 16000)
    cases = {"missing.wav": "missing", "corrupt.wav": "unreadable", "silent.wav": "silent", "short.wav": "too short"}
    for name, reason in cases.items():
        with pytest.raises(AudioProblem) as caught:
            read_audio(tmp_path / name, min_seconds=1.0)
        assert caught.value.reason == reason


def test_feature_cache_is_reused_and_follows_the_file(tmp_path):
    path = tmp_path / "clip.flac"
    soundfile.write(path, 0.1 * np.random.default_rng(2).standard_normal(2 * 44100), 44100)
    before = features.COMPUTED["count"]
    first = cached_features(path)
    assert features.COMPUTED["count"] == before + 1
    mtime = first.stat().st_mtime_ns
    cached = np.load(first, mmap_mode="r")
    assert isinstance(cached, np.memmap) and cached.dtype == np.float16 and cached.shape == (1056, 128)
    np.testing.assert_allclose(cached.astype(np.float32), log_mel(read_audio(path)), atol=0.02)

    again = cached_features(path)  # a second load reads the cache: no computation, file untouched
    assert again == first and features.COMPUTED["count"] == before + 1 and again.stat().st_mtime_ns == mtime

    other = cached_features(path, FeatureSettings(n_mels=64))  # other settings: another entry
    assert other != first and np.load(other).shape == (1056, 64)

    soundfile.write(path, 0.2 * np.random.default_rng(3).standard_normal(3 * 44100), 44100)
    os.utime(path, ns=(mtime + 10**9, mtime + 10**9))  # an edited file gets new features
    assert cached_features(path) != first and features.COMPUTED["count"] == before + 3


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong shape"])
def test_a_damaged_cache_file_is_rebuilt_and_an_unreadable_one_is_named(tmp_path, damage):
    path = tmp_path / "clip.wav"
    soundfile.write(path, 0.1 * np.random.default_rng(4).standard_normal(16000), 16000)
    cached = cached_features(path)
    want = np.load(cached).copy()
    if damage == "truncated":
        cached.write_bytes(cached.read_bytes()[:1000])
    elif damage == "garbage":
        cached.write_bytes(b"not a numpy file at all")
    else:
        np.save(cached, np.zeros((10, 3), dtype=np.float32))
    if damage != "wrong shape":
        with pytest.raises(WeaknegError, match=f"feature cache file {cached}.*delete it"):
            features.open_features(cached)
    before = features.COMPUTED["count"]
    assert cached_features(path) == cached and features.COMPUTED["count"] == before + 1  # computed again
    np.testing.assert_array_equal(features.open_features(cached), want)


def _masked_widths(out: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    zero = out == 0
    return zero.all(dim=1).sum(1).numpy(), zero.all(dim=2).sum(1).numpy()  # (freq bins, frames) fully masked


def test_spec_augment_masks_up_to_48_bins_and_a_scaled_time_mask():
    ones = torch.ones(400, 264, 128)  # a quarter of PSLA's length: the time mask scales to 192 / 4 = 48 frames
    out = spec_augment(ones, np.random.default_rng(0))
    freq, time = _masked_widths(out)
    assert set(np.unique(out.numpy())) <= {0.0, 1.0}
    assert freq.max() <= 48 and time.max() <= 48
    assert freq.max() >= 45 and time.max() >= 45  # widths reach the bound...
    assert abs(freq.mean() - 24) < 3 and abs(time.mean() - 24) < 3  # ...and are uniform on 0..48
    full = spec_augment(torch.ones(200, 1056, 16), np.random.default_rng(1), freq_mask=8)
    freq, time = _masked_widths(full)
    assert time.max() <= 192 and time.max() > 150 and freq.max() <= 8


def test_mixup_mixes_half_the_examples_with_beta_10_weights_and_targets_in_proportion():
    b = 1000
    inputs = torch.eye(b).unsqueeze(-1)  # example i is the unit vector e_i: the mix shows lambda and partner
    targets = torch.nn.functional.one_hot(torch.arange(b) % 2, 2).float()
    mixed_x, mixed_y = mixup(inputs, targets, np.random.default_rng(0), alpha=10.0, rate=0.5)
    x = mixed_x.squeeze(-1)
    lam = x.diagonal()
    is_mixed = lam < 1
    assert abs(is_mixed.float().mean().item() - 0.5) < 0.05
    others = x.clone()
    others.fill_diagonal_(0)
    partner = others.argmax(1)
    np.testing.assert_allclose(others.sum(1)[is_mixed], 1 - lam[is_mixed], atol=1e-6)
    expected = lam[:, None] * targets + (1 - lam[:, None]) * targets[partner]
    np.testing.assert_allclose(mixed_y[is_mixed], expected[is_mixed], atol=1e-6)
    assert torch.equal(mixed_y[~is_mixed], targets[~is_mixed]) and torch.allclose(mixed_y.sum(1), torch.ones(b))
    assert stats.kstest(lam[is_mixed].numpy(), stats.beta(10, 10).cdf).pvalue > 0.01


def test_augmentation_is_reproducible_from_the_training_generator():
    inputs, targets = torch.randn(8, 1056, 128), torch.eye(2)[torch.tensor([0, 1] * 4)]
    one = augment_batch(inputs, targets, torch.Generator().manual_seed(5), AugmentSettings())
    two = augment_batch(inputs, targets, torch.Generator().manual_seed(5), AugmentSettings())
    three = augment_batch(inputs, targets, torch.Generator().manual_seed(6), AugmentSettings())
    assert torch.equal(one[0], two[0]) and torch.equal(one[1], two[1]) and not torch.equal(one[0], three[0])
