"""The user's own image bags and audio clips (--data PATH), from small files the tests write: they load with the
right bags, labels and pixels, a run records them, and bad input is refused with its message, writing nothing."""

import json

import numpy as np
import pandas as pd
import pytest
import soundfile
from PIL import Image

from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.data import load_bags
from weakneg.data.user import user_data_options
from weakneg.store import RunStore

SIZES = [2, 1, 4, 3, 2, 5, 1, 3, 2, 4, 3, 2, 1, 2, 3, 4, 2, 3, 1, 2]


def write_image_bags(folder, size=16):
    """Bags of 1..5 PNGs; a positive bag holds one bright image. CSV: bag_id,path,instance_label,label."""
    rng = np.random.default_rng(0)
    (folder / "img").mkdir()
    rows, pixels = [], {}
    for b, n in enumerate(SIZES):
        positive = b % 4 == 0
        for i in range(n):
            bright = positive and i == n - 1
            image = rng.integers(180 if bright else 0, 256 if bright else 90, (size, size, 3), dtype=np.uint8)
            name = f"img/b{b}_{i}.png"
            Image.fromarray(image).save(folder / name)
            pixels[name] = image
            rows.append({"bag_id": f"slide{b}", "path": name, "instance_label": int(bright), "label": int(positive)})
    pd.DataFrame(rows).to_csv(folder / "bags.csv", index=False)
    return folder / "bags.csv", pd.DataFrame(rows), pixels


def test_image_bags_hold_the_real_images(tmp_path):
    path, frame, pixels = write_image_bags(tmp_path)
    dataset, options = user_data_options(path, options={"image_size": 16})
    assert dataset == "image_bags"  # told by the CSV's path column
    data = load_bags(RunConfig(dataset=dataset, target_class=0, dataset_options=options))
    assert len(data.train) + len(data.test) == len(SIZES) and data.train.ragged
    for split in (data.train, data.test):
        for position in range(len(split)):
            rows = frame[frame.bag_id == f"slide{split.ids[position]}"]
            shown = split.bag_images(position)  # what Inspect's thumbnails draw
            assert len(shown) == len(rows)
            for image, name in zip(shown, rows.path):
                np.testing.assert_array_equal(image, pixels[name])
            assert split.labels[position] == rows.label.iloc[0]
        assert tuple(split.inputs(np.arange(len(split))).shape[2:]) == (3, 16, 16)


def test_a_run_on_image_bags_from_the_command_line(tmp_path, capsys):
    path, _, _ = write_image_bags(tmp_path)
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    assert (
        main(
            [
                "run",
                "--data",
                str(path),
                "--target-class",
                "0",
                "--epochs",
                "1",
                "--sampler",
                "grad_norm",
                "--dataset-option",
                "image_size=16",
                "--store",
                store,
                "--json",
            ]
        )
        == 0
    )
    run = RunStore(store).get_run(json.loads(capsys.readouterr().out)["run_id"])
    assert run.dataset == "image_bags" and run.config["model"] == "simple_cnn"
    assert run.config["dataset_options"]["fingerprint"].startswith("sha256:")


def test_changing_one_image_changes_the_fingerprint(tmp_path):
    path, frame, _ = write_image_bags(tmp_path)
    _, before = user_data_options(path)
    Image.fromarray(np.zeros((16, 16, 3), dtype=np.uint8)).save(tmp_path / frame.path.iloc[3])
    _, after = user_data_options(path)
    assert before["fingerprint"] != after["fingerprint"]


@pytest.mark.parametrize(
    "case, message",
    [
        ("broken image", "1 of 50 image(s) do not open: b0_0.png (not an image)"),
        ("missing image", "1 of 50 image(s) do not open: b1_0.png (missing)"),
        ("no path column", "missing path column 'path'"),
    ],
)
def test_bad_image_bags_are_refused(tmp_path, capsys, case, message):
    path, frame, _ = write_image_bags(tmp_path)
    if case == "broken image":
        (tmp_path / "img" / "b0_0.png").write_bytes(b"not a png")
    elif case == "missing image":
        (tmp_path / "img" / "b1_0.png").unlink()
    else:
        frame.rename(columns={"path": "file"}).to_csv(path, index=False)
    args = [
        "run",
        "--data",
        str(path),
        "--data-format",
        "images",
        "--target-class",
        "0",
        "--epochs",
        "1",
        "--store",
        f"sqlite:///{tmp_path / 'runs.db'}",
    ]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "runs.db").exists()


def write_clips(folder, n=12):
    """Clips of 1-2.5 s at assorted rates; labels from a small class list, some clips with two labels."""
    (folder / "clips").mkdir()
    rng = np.random.default_rng(1)
    rows = []
    for i in range(n):
        rate = (8000, 16000, 22050)[i % 3]
        seconds = 1.0 + 0.5 * (i % 4)
        soundfile.write(
            folder / "clips" / f"c{i}.wav", (rng.normal(size=int(rate * seconds)) * 0.1).astype(np.float32), rate
        )
        labels = ["dog"] if i % 3 == 0 else ["cat", "bird"] if i % 3 == 1 else []
        rows.append({"clip": f"clips/c{i}.wav", "labels": ";".join(labels)})
    pd.DataFrame(rows).to_csv(folder / "clips.csv", index=False)
    return folder / "clips.csv"


def test_audio_clips_become_audio_bags_with_their_labels(tmp_path):
    path = write_clips(tmp_path)
    dataset, options = user_data_options(path)
    assert dataset == "audio_clips"
    data = load_bags(RunConfig(dataset=dataset, model="audio_cnn", target_class="dog", dataset_options=options))
    assert data.class_names == ["bird", "cat", "dog"]
    for split in (data.train, data.test):
        np.testing.assert_array_equal(split.labels, (split.ids % 3 == 0).astype(int))  # id = the CSV row
        np.testing.assert_array_equal(split.contents[:, 1], (split.ids % 3 == 1).astype(int))
        assert split.inputs(np.arange(1)).shape[1:] == (1056, 128)  # PSLA features, as for audioset
    assert len(data.train) + len(data.test) == 12


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing clip", "1 of 12 clip(s) do not open: c2.wav (missing)"),
        ("not audio", "1 of 12 clip(s) do not open: c3.wav (not audio"),
        ("unknown label", "labels cow are not in the class list"),
    ],
)
def test_bad_audio_clips_are_refused(tmp_path, capsys, case, message):
    path = write_clips(tmp_path)
    extra = []
    if case == "missing clip":
        (tmp_path / "clips" / "c2.wav").unlink()
    elif case == "not audio":
        (tmp_path / "clips" / "c3.wav").write_bytes(b"RIFF but not really")
    else:
        pd.read_csv(path).assign(labels=["cow"] + ["dog"] * 11).to_csv(path, index=False)
        extra = ["--dataset-option", 'classes=["dog", "cat"]']
    code = main(
        [
            "run",
            "--data",
            str(path),
            "--target-class",
            "dog",
            "--epochs",
            "1",
            "--store",
            f"sqlite:///{tmp_path / 'runs.db'}",
            *extra,
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "runs.db").exists()
