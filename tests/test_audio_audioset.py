"""AudioSet from its published layouts: a tiny generated folder with real CSV formats and bad clips."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import soundfile
import torch

from weakneg.config import RunConfig
from weakneg.data import class_names, dataset_status, load_bags
from weakneg.data.audio import AudioBags, read_segments
from weakneg.data.features import log_mel, read_audio
from weakneg.errors import ConfigError, DatasetMissing

CLASSES = [
    ("/m/09x0r", "Speech"),
    ("/m/05zppz", "Male speech, man speaking"),
    ("/m/04rlf", "Music"),
    ("/m/0jbk", "Animal"),
]
# (YTID, label mids, sample rate, kind of file); ids start with '-' as many real YTIDs do
TRAIN = [
    ("--PJHxphWEs", "/m/09x0r,/m/05zppz", 16000, "wav"),
    ("-0ADBcUJ4rs", "/m/04rlf", 44100, "flac"),
    ("0FMdORf5iGs", "/m/09x0r", 22050, "wav"),
    ("1A2b3C4d5E6", "/m/0jbk,/m/04rlf", 8000, "stereo"),
    ("corruptYTID", "/m/04rlf", 16000, "corrupt"),
    ("missingYTID", "/m/09x0r", 16000, "missing"),
    ("silentYTID0", "/m/0jbk", 16000, "silent"),
    ("shortYTID00", "/m/05zppz", 16000, "short"),
    ("zz9yy8xx7ww", "/m/05zppz,/m/0jbk,/m/09x0r", 48000, "wav"),
    ("Qq_unknown1", "/m/04rlf,/m/zzzzz", 16000, "wav"),
]
EVAL = [
    ("e1e1e1e1e1e", "/m/09x0r", 16000, "wav"),
    ("e2e2e2e2e2e", "/m/04rlf", 32000, "flac"),
    ("e3e3e3e3e3e", "/m/05zppz,/m/09x0r", 16000, "wav"),
]
GOOD_TRAIN = [row for row in TRAIN if row[3] in ("wav", "flac", "stereo")]


def write_segments(path, rows):
    lines = [
        "# Segments csv created Sun Mar  5 10:54:31 2017",
        f"# num_ytids={len(rows)}, num_segs={len(rows)}, num_unique_labels=4, num_positive_labels=9",
        "# YTID, start_seconds, end_seconds, positive_labels",
    ]
    lines += [f'{ytid}, {10 * i:.3f}, {10 * i + 10:.3f}, "{labels}"' for i, (ytid, labels, _, _) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")


def write_clip(folder, ytid, rate, kind, seed):
    t = np.arange(int(2.0 * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * (300 + 100 * seed) * t) + 0.02 * np.random.default_rng(seed).standard_normal(len(t))
    if kind == "missing":
        return
    if kind == "corrupt":
        (folder / f"{ytid}.wav").write_bytes(b"RIFF\x00\x00garbage that is not audio")
    elif kind == "silent":
        soundfile.write(folder / f"{ytid}.wav", np.zeros_like(tone), rate)
    elif kind == "short":
        soundfile.write(folder / f"{ytid}.wav", tone[: rate // 4], rate)
    elif kind == "stereo":
        soundfile.write(folder / f"{ytid}.wav", np.stack([tone, -0.5 * tone], axis=1), rate)
    else:
        soundfile.write(folder / f"{ytid}.{'flac' if kind == 'flac' else 'wav'}", tone, rate)


@pytest.fixture
def audioset_root(tmp_path):
    root = tmp_path / "audioset"
    (root / "audio").mkdir(parents=True)
    (root / "class_labels_indices.csv").write_text(
        "index,mid,display_name\n" + "".join(f'{i},{mid},"{name}"\n' for i, (mid, name) in enumerate(CLASSES))
    )
    write_segments(root / "balanced_train_segments.csv", TRAIN)
    write_segments(root / "eval_segments.csv", EVAL)
    for seed, (ytid, _, rate, kind) in enumerate(TRAIN + EVAL):
        write_clip(root / "audio", ytid, rate, kind, seed)
    return root


def multi_hot(rows):
    mids = [mid for mid, _ in CLASSES]
    out = np.zeros((len(rows), len(CLASSES)), dtype=np.int16)
    for r, (_, labels, _, _) in enumerate(rows):
        for mid in labels.split(","):
            if mid in mids:
                out[r, mids.index(mid)] = 1
    return out


def config(root, **changes):
    return RunConfig(dataset="audioset", model="audio_cnn", data_root=str(root), **changes)


def test_published_csv_layouts_are_parsed_exactly(audioset_root):
    assert class_names("audioset", audioset_root) == [name for _, name in CLASSES]
    segments = read_segments(audioset_root / "balanced_train_segments.csv")
    assert segments[0] == ("--PJHxphWEs", 0.0, 10.0, ["/m/09x0r", "/m/05zppz"])
    assert [s[3] for s in segments][8] == ["/m/05zppz", "/m/0jbk", "/m/09x0r"]


def test_bags_hold_exactly_the_good_clips_and_their_labels(audioset_root, caplog):
    caplog.set_level(logging.WARNING, logger="weakneg.audio")
    data = load_bags(config(audioset_root, target_class="male speech, man speaking"))
    train, test = data.train, data.test
    assert isinstance(train, AudioBags) and train.modality == "audio" and data.target == 1
    assert list(train.names) == [row[0] for row in GOOD_TRAIN]
    assert list(train.ids) == [TRAIN.index(row) for row in GOOD_TRAIN]  # the clip's row in its CSV
    np.testing.assert_array_equal(train.contents, multi_hot(GOOD_TRAIN))
    np.testing.assert_array_equal(train.labels, [1, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(test.contents, multi_hot(EVAL))
    np.testing.assert_array_equal(test.labels, [0, 0, 1])

    summaries = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(summaries) == 1  # one line for the train split; the eval split had nothing to skip
    line = summaries[0]
    assert line.startswith("audioset train: skipped 4 of 10 clips")
    for part in (
        "1 unreadable",
        "1 missing",
        "1 silent",
        "1 too short",
        "corruptYTID",
        "missingYTID",
        "silentYTID0",
        "shortYTID00",
    ):
        assert part in line
    assert any("/m/zzzzz" in r.getMessage() for r in caplog.records)  # an unknown label is reported, not fatal


def test_inputs_are_normalised_cached_log_mels_of_the_16k_audio(audioset_root):
    train = load_bags(config(audioset_root)).train
    x = train.inputs(torch.tensor([1, 3]))
    assert x.shape == (2, 1056, 128) and x.dtype == torch.float32 and train.input_shape == (1056, 128)
    for row, position in enumerate([1, 3]):  # a 44.1 kHz flac and an 8 kHz stereo wav
        reference = log_mel(read_audio(train.audio_files[position]))
        np.testing.assert_allclose(x[row].numpy() * train.std + train.mean, reference, atol=0.02)
        np.testing.assert_allclose(train.log_mel(position), reference, atol=0.02)
    samples, rate = train.waveform(3)
    assert rate == 16000 and samples.dtype == np.float32 and len(samples) == 32000
    everything = train.inputs(torch.arange(len(train)))
    assert abs(everything.mean().item()) < 0.2 and 0.7 < everything.std().item() < 1.3  # train statistics


def test_weighted_sampling_gives_each_bag_label_the_same_total_weight(audioset_root):
    train = load_bags(config(audioset_root, target_class=1)).train  # labels [1, 0, 0, 0, 1, 0]
    np.testing.assert_allclose(train.sample_weights(np.arange(6)), [1 / 2, 1 / 4, 1 / 4, 1 / 4, 1 / 2, 1 / 4])
    subset = np.array([0, 1, 2])  # frequencies come from the bags being sampled
    np.testing.assert_allclose(train.sample_weights(subset), [1.0, 0.5, 0.5])


def test_psla_json_datafiles_and_other_file_names(audioset_root):
    entries = [
        {"wav": f"audio/{ytid}.{'flac' if kind == 'flac' else 'wav'}", "labels": labels}
        for ytid, labels, _, kind in TRAIN
    ]
    (audioset_root / "train_data.json").write_text(json.dumps({"data": entries}))
    (audioset_root / "eval_segments.csv").rename(audioset_root / "my_eval.csv")
    options = {"train_json": "train_data.json", "eval_csv": "my_eval.csv"}
    data = load_bags(config(audioset_root, target_class="Music", dataset_options=options))
    assert list(data.train.names) == [row[0] for row in GOOD_TRAIN]
    np.testing.assert_array_equal(data.train.contents, multi_hot(GOOD_TRAIN))
    assert data.test.labels.tolist() == [0, 1, 0]


def test_missing_dataset_says_what_to_put_where(tmp_path, audioset_root):
    status = dataset_status(tmp_path / "empty")
    assert "class_labels_indices.csv" in status["audioset"] and "--data-root" in status["audioset"]
    with pytest.raises(DatasetMissing, match="balanced_train_segments.csv"):
        load_bags(config(tmp_path / "empty"))
    with pytest.raises(DatasetMissing, match="nope.csv"):
        load_bags(config(audioset_root, dataset_options={"train_csv": "nope.csv"}))
    with pytest.raises(DatasetMissing, match="none of its 10 clips could be read"):
        load_bags(config(audioset_root, dataset_options={"audio_dir": "wav_elsewhere"}))


def test_a_class_without_positive_clips_is_refused_clearly(audioset_root):
    with pytest.raises(ConfigError, match="the test split has no positive clip for class 'Animal'"):
        load_bags(config(audioset_root, target_class="Animal"))  # no eval clip is an animal


def test_max_instances_keeps_a_seeded_subset_before_any_feature_is_computed(audioset_root):
    from weakneg.data import features

    before = features.COMPUTED["count"]
    data = load_bags(config(audioset_root, target_class="Speech", max_instances=6, seed=3))
    kept = list(data.train.names)
    assert len(kept) <= 6 and kept == [row[0] for row in GOOD_TRAIN if row[0] in kept]
    assert features.COMPUTED["count"] - before == len(kept) + len(EVAL)  # only the subset was read
