"""Bad files and the traps of issue 21 and 26: each named in one line (exit 2) before a run is recorded, a feature
cached or a store written; every problem of a table named at once; the warnings and conveniences a user needs."""

from __future__ import annotations

import gc
import json
import os
import struct
import zlib

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from idx_support import write_fashion_root, write_idx
import test_audio_audioset as audioset_files
from weakneg.cli import main
from weakneg.config import RunConfig, negatives_warning, parse_value
from weakneg.store import RunStore
from weakneg.views.data_check import check_allowed_data, check_data
from weakneg.views.launch import launch_counts


def run_cli(capfd, *args) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in args])
    except SystemExit as stop:
        code = stop.code
    out, err = capfd.readouterr()
    return code, out, err


def refused(capfd, tmp_path, home, *args) -> str:
    """Run a command that must be refused: exit 2, one line, no store, nothing in WEAKNEG_HOME; its line."""
    store = tmp_path / "refused.db"
    code, out, err = run_cli(capfd, *args, "--store", f"sqlite:///{store}")
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("weakneg: error: "), err
    assert not store.exists() and (not home.exists() or not any(home.rglob("*")))
    return err


# --- image data sets whose files do not fit -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, damage, message",
    [
        (
            "labels-3d",
            lambda raw: write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.zeros((200, 2, 2))),
            "shape (200, 2, 2)",
        ),
        (
            "test-images-14x14",
            lambda raw: write_idx(raw / "t10k-images-idx3-ubyte.gz", np.zeros((200, 14, 14))),
            "test images are 14x14x1 but training images 28x28x1",
        ),
        (
            "label-out-of-range",
            lambda raw: write_idx(raw / "train-labels-idx1-ubyte.gz", np.arange(400) % 12),
            "training labels run from 0 to 11",
        ),
    ],
)
def test_fashion_mnist_files_of_the_wrong_shape_are_named(name, damage, message, tmp_path, capfd, isolated_home):
    root = write_fashion_root(tmp_path / "root")
    damage(root / "FashionMNIST" / "raw")
    err = refused(capfd, tmp_path, isolated_home, "run", "--dataset", "fashion_mnist", "--target-class", 1,
                  "--epochs", 1, "--data-root", root)  # fmt: skip
    assert message in err, err


# --- AudioSet CSVs ---------------------------------------------------------------------------------------------


@pytest.fixture
def audioset_root(tmp_path):
    """A tiny AudioSet in the published layout (test_audio_audioset's files)."""
    root = tmp_path / "audioset"
    (root / "audio").mkdir(parents=True)
    classes = audioset_files.CLASSES
    (root / "class_labels_indices.csv").write_text(
        "index,mid,display_name\n" + "".join(f'{i},{mid},"{name}"\n' for i, (mid, name) in enumerate(classes))
    )
    audioset_files.write_segments(root / "balanced_train_segments.csv", audioset_files.TRAIN)
    for seed, (ytid, _, rate, kind) in enumerate(audioset_files.TRAIN + audioset_files.EVAL):
        audioset_files.write_clip(root / "audio", ytid, rate, kind, seed)
    return root


@pytest.mark.parametrize(
    "name, text, message",
    [
        (
            "non-numeric-start",
            b'e1e1e1e1e1e, ten, 10.000, "/m/09x0r"\n',
            "start_seconds and end_seconds must be numbers",
        ),
        ("binary", bytes(range(256)) * 4, "is not a text CSV"),
        ("unterminated-quote", b'e1e1e1e1e1e, 0.000, 10.000, "/m/09x0r\ne2e2e2e2e2e, 0.0, 10.0, "/m/04rlf"\n', "line"),
    ],
)
def test_bad_audioset_csvs_exit_2_in_one_line_and_cache_nothing(
    name,
    text,
    message,
    audioset_root,
    tmp_path,
    capfd,
    isolated_home,  # noqa: F811
):
    (audioset_root / "eval_segments.csv").write_bytes(b"# YTID, start_seconds, end_seconds, positive_labels\n" + text)
    err = refused(capfd, tmp_path, isolated_home, "run", "--dataset", "audioset", "--target-class", "Speech",
                  "--epochs", 1, "--data-root", audioset_root)  # fmt: skip
    assert "eval_segments.csv" in err and message in err, err
    assert not (isolated_home / "cache").exists()  # no clip's features were computed before the refusal


# --- image bags naming an image over PIL's pixel limit ---------------------------------------------------------


def png_claiming(path, width, height):
    """A PNG whose header claims width x height pixels and holds none: a decompression bomb that costs nothing."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


def write_image_csv(folder, paths):
    rows = [{"bag_id": f"b{i // 2}", "path": p, "label": int(i // 2 % 2 == 0)} for i, p in enumerate(paths)]
    pd.DataFrame(rows).to_csv(folder / "bags.csv", index=False)
    return folder / "bags.csv"


def small_pngs(folder, n):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((8, 8, 3), 12 * i % 256, dtype=np.uint8)).save(folder / f"i{i}.png")
    return [f"img/i{i}.png" for i in range(n)]


def test_an_image_over_the_pixel_limit_is_named_not_a_traceback(tmp_path, capfd, isolated_home):
    names = small_pngs(tmp_path / "img", 7)
    png_claiming(tmp_path / "img" / "huge.png", 30_000, 30_000)  # 900 megapixels
    csv = write_image_csv(tmp_path, [*names, "img/huge.png"])
    err = refused(capfd, tmp_path, isolated_home, "run", "--data", csv, "--epochs", 1)
    assert "huge.png (too large to decode: 900 megapixels, the limit is 179)" in err, err
    code, out, _ = run_cli(capfd, "data", "check", csv)
    assert code == 1 and "huge.png (too large to decode" in out


# --- every problem of a table at once --------------------------------------------------------------------------


def test_every_problem_of_a_table_is_named_at_once(tmp_path, capfd):
    frame = pd.DataFrame(
        {
            "bag_id": ["a", "a", "b", "b", "c", "c", "d"],
            "f1": [0.1, 0.3, np.nan, 0.2, 0.5, 0.5, 0.1],
            "f2": ["0.2", "0.4", "0.1", "abc", "0.5", "0.6", "0.1"],
            "label": [1, 0, 0, 0, 7, 7, 0],
        }
    )
    frame.to_csv(tmp_path / "bad.csv", index=False)
    code, out, _ = run_cli(capfd, "data", "check", tmp_path / "bad.csv")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].endswith("4 problem(s)")
    for expected in (
        "feature column 'f2' holds text (rows 3, counting from 0, e.g. 'abc')",
        "1 row(s) have NaN or infinite features (rows 2",
        "bag(s) 'a' have different labels on their rows",
        "labels must be 0/1 or class names, found 7",
    ):
        assert sum(expected in line for line in lines) == 1, (expected, out)


# --- options, classes, k --------------------------------------------------------------------------------------


def write_named_table(path, labels=("tumor", "normal"), bags=24):
    rng = np.random.default_rng(1)
    rows = []
    for b in range(bags):
        label = labels[b % len(labels)]
        for i in range(3):
            rows.append({"bag_id": f"s{b}", "f0": rng.normal(), "label": label, "instance_label": label if i else "x"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_lists_in_options_are_lists():
    assert parse_value("[tumor,normal]") == ["tumor", "normal"]
    assert parse_value('[ tumor , "normal" ]') == ["tumor", "normal"]
    assert parse_value("[1, 2]") == [1, 2] and parse_value("[]") == [] and parse_value("text") == "text"


def test_a_class_list_in_an_option_reaches_the_data(tmp_path, capfd):
    path = write_named_table(tmp_path / "t.csv", labels=("tumor", "normal", "other"))
    code, out, _ = run_cli(capfd, "data", "check", path, "--dataset-option", "classes=[tumor,normal]")
    assert code == 1 and "labels 'other' are not in the class list ['tumor', 'normal']" in out, out
    code, out, _ = run_cli(capfd, "data", "check", path, "--dataset-option", "classes=[tumor,normal,other]", "--json")
    assert code == 0 and json.loads(out)["options"]["classes"] == ["tumor", "normal", "other"]


def test_data_check_without_a_class_gives_every_class(tmp_path, capfd):
    path = write_named_table(tmp_path / "t.csv")
    code, out, _ = run_cli(capfd, "data", "check", path)
    assert code == 0, out
    assert "label density by class: normal 0.667, tumor 0.667" in out, out  # 2 of a bag's 3 instances
    assert "0.000" not in out and "give --target-class for one class" in out
    code, out, _ = run_cli(capfd, "data", "check", path, "--target-class", "tumor")
    assert "label density: 0.667" in out and "a run for class 'tumor'" in out


def write_01_table(path, bags=40):
    rng = np.random.default_rng(2)
    rows = [
        {"bag_id": f"b{b}", "f0": rng.normal() + (b % 4 == 0), "f1": rng.normal(), "label": int(b % 4 == 0)}
        for b in range(bags)
        for _ in range(2)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_target_class_may_be_left_out_or_given_as_the_label_for_one_class(tmp_path, capfd):
    path = write_01_table(tmp_path / "t.csv")
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    for extra in ([], ["--target-class", "1"], ["--target-class", "positive"]):
        code, out, err = run_cli(capfd, "run", "--data", path, "--epochs", 1, "--json", "--store", store, *extra)
        assert code == 0, err
    runs = RunStore(store).list_runs()
    assert [r.target_name for r in runs] == ["positive"] * 3
    assert len({json.dumps(r.config["target_class"]) for r in runs}) == 3  # as typed; one class all the same
    code, out, _ = run_cli(capfd, "data", "check", path, "--target-class", "1")
    assert code == 0 and "a run for class 'positive'" in out


def test_k_covering_the_pool_warns_in_run_data_check_and_launch(tmp_path, capfd):
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    code, _, err = run_cli(capfd, "run", "--target-class", 3, "--epochs", 1, "--pn-ratio", "0.1", "--store", store)
    assert code == 0, err
    assert "weakneg: warning: k = 210 is the whole pool of 210 negatives" in err and "has no effect" in err
    code, _, err = run_cli(capfd, "run", "--target-class", 3, "--epochs", 1, "--store", store)
    assert code == 0 and "warning" not in err
    counts = launch_counts(RunConfig(dataset="digits", target_class=3, pn_ratio=0.1))
    assert counts.k == counts.pool == 210 and "has no effect" in counts.warning
    assert launch_counts(RunConfig(dataset="digits", target_class=3)).warning is None
    assert negatives_warning(41, 0.1, 210, "full") is None  # `full` takes the whole pool by definition
    # the threshold the warning names is exact: just above it, k < pool
    threshold = float(negatives_warning(41, 0.1, 210).rsplit("above ", 1)[1].split(" ")[0])
    assert round(41 / (threshold * 1.001)) < 210 <= round(41 / (threshold * 0.99))
    path = write_01_table(tmp_path / "t.csv")
    result = check_data(path, pn_ratio=0.25)  # 8 positive and 24 negative training bags: k = 32, capped
    assert (
        result.k == result.pool
        and "has no effect" in result.warning
        and f"warning: {result.warning}" in (result.lines())
    )


# --- files a data set names, outside the folders the app may read ----------------------------------------------


def test_the_app_refuses_rows_naming_files_outside_the_allowed_folders(tmp_path, monkeypatch):
    allowed, secret = tmp_path / "allowed", tmp_path / "secret"
    names = small_pngs(allowed / "img", 20)
    small_pngs(secret, 1)
    (secret / "i0.png").rename(secret / "secret.png")
    os.symlink(secret / "secret.png", allowed / "img" / "link.png")
    monkeypatch.setenv("WEAKNEG_DATA_FOLDERS", str(allowed))
    clean = write_image_csv(allowed, names)
    assert check_allowed_data(str(clean)).ok
    write_image_csv(
        allowed, [*names[:5], str(secret / "secret.png"), "../secret/secret.png", "img/link.png", *names[8:]]
    )
    result = check_allowed_data(str(allowed / "bags.csv"))
    assert not result.ok and result.n_bags == 0  # nothing is read from the files
    (problem,) = result.problems
    assert "3 file(s) named by bags.csv lie outside the folders this app may read" in problem
    target = (secret / "secret.png").resolve()
    for line in (7, 8, 9):  # the header is line 1: rows 6, 7 and 8 of the table
        assert f"row {line}: {target}" in problem, problem
    assert check_data(allowed / "bags.csv").ok  # the command line needs no permission


# --- read-only stores ------------------------------------------------------------------------------------------


def test_run_on_a_read_only_store_is_one_line_and_writes_nothing(tmp_path, capfd):
    db = tmp_path / "runs.db"
    code, _, err = run_cli(capfd, "run", "--target-class", 3, "--epochs", 1, "--store", f"sqlite:///{db}")
    assert code == 0, err

    def files():  # SQLite's -shm index changes under any reader: the database and its log are what must not
        return {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and not p.name.endswith("-shm")}

    gc.collect()  # the first run's engine, in cycles, closes its last connection now: SQLite then folds its log
    before = files()  # into the database, which is not the read-only run's write (make test saw it land in between)
    code, out, err = run_cli(capfd, "run", "--target-class", 3, "--epochs", 1, "--store", f"sqlite:///{db}?mode=ro")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "is read-only" in err and "nothing was written" in err
    assert files() == before
    assert len(RunStore(f"sqlite:///{db}").list_runs()) == 1


def test_a_data_root_that_is_a_file_is_said_for_every_data_set_without_raising(monkeypatch):
    from weakneg.data import dataset_status

    monkeypatch.setenv("WEAKNEG_DATA_ROOT", "/etc/hostname")
    status = dataset_status()  # what the Launch page lists: a read never raises
    assert status and all("the data root /etc/hostname is a file" in message for message in status.values())
