"""The embedded soundscapes set (real sonic-pi recordings) and audio runs end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
import torch

from weakneg.config import RunConfig
from weakneg.data import class_names, dataset_status, load_bags
from weakneg.data import features
from weakneg.data.soundscapes import SAMPLES_DIR, SoundscapeSettings, generate, source_files
from weakneg.errors import ConfigError, DatasetMissing
from weakneg.store import FINISHED
from weakneg.train import run_experiment

pytestmark = pytest.mark.slow  # generates audio from the Debian samples

FAMILIES = ["ambi", "bd", "tabla"]
OPTIONS = {"n_train": 24, "n_test": 12, "families": FAMILIES}


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory):
    return tmp_path_factory.mktemp("soundscapes_home")  # one generated set for the tests that only read it


@pytest.fixture
def home(shared_home, monkeypatch):
    monkeypatch.setenv("WEAKNEG_HOME", str(shared_home))
    return shared_home


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # small convolutions run faster on one thread on a busy 2-core machine
    yield
    torch.set_num_threads(before)


def test_families_are_the_file_name_prefixes_of_the_debian_samples():
    families = source_files(SAMPLES_DIR)
    assert {"bd", "sn", "drum", "elec", "perc", "ambi", "bass", "guit", "tabla", "vinyl"} <= set(families)
    assert all(path.name.startswith(name + "_") for name, paths in families.items() for path in paths)
    names = class_names("soundscapes")
    assert names == sorted(names) and "misc" not in names  # fewer than min_files (4) recordings
    assert class_names("soundscapes", options={"families": "tabla, bd"}) == ["tabla", "bd"]


def test_generation_is_deterministic_from_the_seed(tmp_path, monkeypatch):
    small = {"n_train": 3, "n_test": 2, "families": FAMILIES}
    manifests, audio = [], []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        monkeypatch.setenv("WEAKNEG_HOME", str(tmp_path / name))
        folder = generate(SoundscapeSettings.from_options({**small, "seed": seed}))
        manifests.append(json.loads((folder / "manifest.json").read_text())["splits"])
        audio.append(soundfile.read(folder / "train" / "clip_00000.flac")[0])
    assert manifests[0] == manifests[1] and np.array_equal(audio[0], audio[1])
    assert manifests[0] != manifests[2]


def test_clips_hold_the_events_their_weak_labels_name(home):
    folder = generate(SoundscapeSettings.from_options(OPTIONS))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["families"] == FAMILIES and len(manifest["splits"]["train"]) == 24
    noise_rms = 10 ** (-50 / 20)
    for entry in manifest["splits"]["train"][:6]:
        assert 1 <= len(entry["events"]) <= 4
        assert entry["families"] == sorted({event["family"] for event in entry["events"]})
        samples, rate = soundfile.read(folder / entry["file"])
        assert rate == 16000 and len(samples) == 160000
        first = min(event["onset_s"] for event in entry["events"])
        before = samples[: int(first * rate)]
        if len(before) > 1600:  # the stretch before the first event is low-level noise only
            assert np.sqrt(np.mean(before**2)) == pytest.approx(noise_rms, rel=0.2)
        for event in entry["events"]:  # where the manifest puts an event, the clip is louder than the noise
            start = int(event["onset_s"] * rate)
            length = int(soundfile.info(SAMPLES_DIR / event["source"]).duration * rate)
            assert np.sqrt(np.mean(samples[start : start + length] ** 2)) > 2 * noise_rms


def test_bags_contents_follow_the_manifest_and_generation_is_cached(home):
    cfg = RunConfig(dataset="soundscapes", target_class="tabla", model="audio_cnn", dataset_options=OPTIONS)
    data = load_bags(cfg)
    folder = generate(SoundscapeSettings.from_options(OPTIONS))
    manifest = json.loads((folder / "manifest.json").read_text())
    expected = np.array([[name in entry["families"] for name in FAMILIES] for entry in manifest["splits"]["train"]])
    np.testing.assert_array_equal(data.train.contents, expected.astype(np.int16))
    np.testing.assert_array_equal(data.train.labels, expected[:, 2])
    assert data.class_names == FAMILIES and data.train.modality == "audio" and len(data.test) == 12
    stamp = (folder / "manifest.json").stat().st_mtime_ns
    computed = features.COMPUTED["count"]
    again = load_bags(cfg)  # second load: nothing generated, no feature computed
    assert (folder / "manifest.json").stat().st_mtime_ns == stamp and features.COMPUTED["count"] == computed
    assert torch.equal(again.train.inputs(torch.tensor([0, 5])), data.train.inputs(torch.tensor([0, 5])))


def test_options_and_missing_samples_are_reported_clearly(tmp_path):
    with pytest.raises(ConfigError, match="unknown soundscapes families"):
        class_names("soundscapes", options={"families": ["tabla", "kazoo"]})
    with pytest.raises(ConfigError, match="n_train must be an integer >= 1"):
        SoundscapeSettings.from_options({"n_train": 0})
    assert dataset_status()["soundscapes"] is None
    with pytest.raises(DatasetMissing, match="apt-get install sonic-pi-samples"):
        load_bags(RunConfig(dataset="soundscapes", model="audio_cnn", dataset_options={"samples_dir": str(tmp_path)}))


def test_two_epochs_with_badge_augmentation_and_weighted_sampling(home, store, one_thread):
    cfg = RunConfig(
        dataset="soundscapes",
        target_class="ambi",
        model="audio_cnn",
        sampler="badge",
        epochs=2,
        pn_ratio=1.0,
        augment=True,
        weighted_sampling=True,
        batch_size=8,
        val_fraction=0.2,
        dataset_options=OPTIONS,
    )
    result = run_experiment(cfg, store)
    assert result.status == FINISHED and len(result.history) == 2 and "val_ap" in result.history[-1]
    assert all(0 <= epoch["ap"] <= 1 and 0 <= epoch["auc"] <= 1 for epoch in result.history)
    assert all(np.isfinite(epoch["train_loss"]) for epoch in result.history)
    run = store.get_run(result.run_id)
    assert run.status == FINISHED and run.final_ap == pytest.approx(result.final["ap"])
    bag_ids, scores = store.selection(result.run_id, 2)
    assert len(bag_ids) == result.k == min(result.n_pos, result.pool_size) and len(set(bag_ids.tolist())) == result.k
    arrays = store.load_epoch_arrays(result.run_id, 2)
    assert arrays["pool_grad"].shape == (result.pool_size, 2 * 65)  # (p - y) outer [h_b, 1], 64-d audio features
