"""Multi-label runs on every dataset issue 22 names besides digits, Fashion-MNIST and soundscapes: the CIFAR-10
layout, the AudioSet layout, the user's instance tables (`a;b` label lists, one 0/1 column per class in the table or
in a bag table), image-bag CSVs and clip CSVs with label lists. Each is written small in its published layout; each
bag's classes are checked against a matrix written by hand (or, for CIFAR's seeded bags, against labels decoded from
the pixels themselves); a one-epoch `run --target-class ... --json` then trains on them, and the classes its epoch 0
recorded per bag, its per-class positives and k_c are the table's. The same bag set serves a binary run unchanged."""

from __future__ import annotations

import json
import pickle

import numpy as np
import torch
import pandas as pd
import pytest
import soundfile
from PIL import Image
from test_audio_audioset import GOOD_TRAIN, audioset_root  # noqa: F401  (audioset_root is a fixture)

from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.data import load_bags
from weakneg.data.user import user_data_options
from weakneg.errors import ConfigError
from weakneg.store import RunStore

MALE = "Male speech, man speaking"  # an AudioSet display name: its comma is part of the name
# (bag, split, label cell): the label lists every format below writes, and by hand what each bag carries
TABLE_CLASSES = ["Dog", MALE, "Music"]  # sorted, as the loader lists names it finds
BAGS = [
    ("t0", "train", f"Music;{MALE}", [0, 1, 1]),
    ("t1", "train", "Dog", [1, 0, 0]),
    ("t2", "train", "", [0, 0, 0]),  # a bag that carries no class: a negative for each
    ("t3", "train", "Dog;Music", [1, 0, 1]),
    ("t4", "train", MALE, [0, 1, 0]),  # one name with a comma, alone in its cell
    ("t5", "train", "Music", [0, 0, 1]),
    ("t6", "train", f"Dog;{MALE};Music", [1, 1, 1]),
    ("t7", "train", "", [0, 0, 0]),
    ("s0", "test", "Dog", [1, 0, 0]),
    ("s1", "test", f"{MALE};Music", [0, 1, 1]),
    ("s2", "test", "", [0, 0, 0]),
    ("s3", "test", MALE, [0, 1, 0]),
]
TRAIN_ROWS = {b: row for b, (_, split, _, row) in enumerate(BAGS) if split == "train"}  # bag position -> classes


def run_json(tmp_path, capsys, *args, pn_ratio="1"):
    """One tiny multi-label epoch through the CLI: (the --json summary, the store)."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    options = ["--epochs", "1", "--pn-ratio", pn_ratio, "--save-embeddings", "none", "--store", url, "--json"]
    code = main(["run", *args, *options])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out), RunStore(url)


def check_trained_classes(summary, store, classes, expected, pn_ratio=1.0):
    """The run trained every class, `run --json` has each one's AP, AUC and d', and the classes its epoch 0
    recorded per bag, each class's positives and k_c are those of `expected` ({bag id: 0/1 per class})."""
    assert summary["status"] == "finished" and summary["classes"] == classes
    assert set(summary["per_class"]) == set(classes)
    for values in summary["per_class"].values():
        assert set(values) == {"ap", "auc", "dprime"} and 0 <= values["ap"] <= 1 and 0 <= values["auc"] <= 1
    bags = store.load_epoch_record(summary["run_id"], 0).bags
    assert sorted(bags.bag_ids.tolist()) == sorted(expected)
    got = {int(b): row.tolist() for b, row in zip(bags.bag_ids, bags.class_labels)}
    assert got == {b: list(row) for b, row in expected.items()}
    table = np.array(list(expected.values()))
    positives = table.sum(0)
    assert summary["n_pos"] == int(positives.sum())
    for name, n_pos in zip(classes, positives):
        assert summary["k_per_class"][name] == min(round(n_pos / pn_ratio), len(table) - n_pos)


# --- the user's instance table -------------------------------------------------------------------------------


def table_rows(columns="list"):
    """Instances of BAGS (2 or 3 each, three features; the first instance shows each class the bag carries)."""
    rng = np.random.default_rng(5)
    rows = []
    for b, (bag, split, cell, carried) in enumerate(BAGS):
        for i in range(2 + b % 2):
            x = rng.normal(0, 1, 3) + (4.0 * np.array(carried) if i == 0 else 0.0)
            row = {"bag_id": bag, "f1": x[0], "f2": x[1], "f3": x[2], "split": split}
            if columns == "list":
                row["label"] = cell
            elif columns == "one-hot":
                row.update(dict(zip(TABLE_CLASSES, carried)))
            rows.append(row)
    return pd.DataFrame(rows)


def write_table(tmp_path, form):
    """The same bags as `form`: a `label` list column, one 0/1 column per class, or a bag table of 0/1 columns."""
    path = tmp_path / "instances.csv"
    if form == "bag table":
        table_rows(columns=None).to_csv(path, index=False)
        pd.DataFrame([{"bag_id": b, **dict(zip(TABLE_CLASSES, row))} for b, _, _, row in BAGS]).to_csv(
            tmp_path / "labels.csv", index=False
        )
        return path, {"bags": "labels.csv"}
    table_rows("list" if form == "label list" else "one-hot").to_csv(path, index=False)
    return path, ({"label_columns": TABLE_CLASSES} if form == "0/1 columns" else {})


@pytest.mark.parametrize("form", ["label list", "0/1 columns", "bag table"])
def test_a_users_table_with_several_labels_per_bag_in_each_accepted_form(tmp_path, capsys, form):
    path, options = write_table(tmp_path, form)
    dataset, options = user_data_options(path, options=options)
    data = load_bags(RunConfig(dataset=dataset, target_class="all", dataset_options=options))
    assert data.class_names == TABLE_CLASSES and data.targets == [0, 1, 2]
    for split, name in ((data.train, "train"), (data.test, "test")):
        np.testing.assert_array_equal(split.contents, [row for _, s, _, row in BAGS if s == name])
    assert data.train.points.shape[1] == 3  # the 0/1 class columns are labels, never features
    binary = load_bags(RunConfig(dataset=dataset, target_class="Music", dataset_options=options))
    np.testing.assert_array_equal(binary.train.ids, data.train.ids)  # the same bags serve a binary run
    np.testing.assert_array_equal(binary.train.contents, data.train.contents)
    np.testing.assert_array_equal(binary.train.labels, data.train.contents[:, 2])

    args = ["--data", str(path), "--target-class", "all"]
    for key, value in options.items():
        if key in ("bags", "label_columns"):
            args += ["--dataset-option", f"{key}={json.dumps(value)}"]
    summary, store = run_json(tmp_path, capsys, *args)
    check_trained_classes(summary, store, TABLE_CLASSES, TRAIN_ROWS)


def test_label_lists_follow_one_rule_for_commas_and_empty_cells():
    from weakneg.data.labels import label_sets, parse_labels

    assert label_sets(["cat,dog", "owl", None]) == [{"cat", "dog"}, {"owl"}, set()]  # no ';' anywhere: ',' splits
    assert label_sets([f"{MALE};Music", MALE, " "]) == [{MALE, "Music"}, {MALE}, set()]  # ';' used: commas are names
    assert label_sets([MALE, "Music"], classes=[MALE, "Music"]) == [{MALE}, {"Music"}]  # a known name stays whole
    problems: list[str] = []
    assert parse_labels([1, 0, None, 1], None, "t.csv", problems)[0] == ["positive"]
    assert problems == ["t.csv: 1 bag(s) have no label (0/1 labels: write 0 or 1 for each)"]
    problems = []
    assert parse_labels([MALE, "Dog"], ["Dog", "Music"], "t.csv", problems)[1] == [
        {"Male speech", "man speaking"},
        {"Dog"},
    ]
    assert problems == [
        "t.csv: labels 'Male speech', 'man speaking' are not in the class list ['Dog', 'Music'] (a class name with a "
        "comma? separate labels with ';', then commas belong to names)"
    ]
    problems = []
    assert parse_labels(["", None], None, "t.csv", problems) == ([], [set(), set()])
    assert problems == ["t.csv: no bag has a label (give 0/1 or class names, several as a;b)"]


@pytest.mark.parametrize(
    "case, message",
    [
        ("absent class column", "missing label column(s) 'Owl' (dataset option label_columns)"),
        ("not 0/1", "per-class columns must hold 0/1, found '2'"),
        ("rows disagree", "bag(s) 't1' have different labels on their rows"),
        ("class absent from training", "1 of 3 classes have no positive bag in the train split (8 bags): 'Dog'"),
    ],
)
def test_bad_multilabel_tables_are_refused_in_one_line_with_the_fix(tmp_path, capsys, case, message):
    path, _ = write_table(tmp_path, "0/1 columns")
    frame = pd.read_csv(path)
    columns = list(TABLE_CLASSES)
    if case == "absent class column":
        columns.append("Owl")
    elif case == "not 0/1":
        frame.loc[0, "Music"] = 2
    elif case == "rows disagree":
        frame.loc[frame.index[frame.bag_id == "t1"][-1], "Dog"] = 0
    else:
        frame.loc[frame.split == "train", "Dog"] = 0
    frame.to_csv(path, index=False)
    args = ["run", "--data", str(path), "--target-class", "all", "--epochs", "1"]
    args += ["--dataset-option", f"label_columns={json.dumps(columns)}", "--store", f"sqlite:///{tmp_path / 'r.db'}"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    if case == "class absent from training":
        assert "train the 2 every split serves with --target-class 1,2," in err[0]  # the fix, ready to paste
    assert not (tmp_path / "r.db").exists()  # nothing written


# --- image-bag CSVs ---------------------------------------------------------------------------------------------


def write_image_bags(folder):
    """BAGS as image bags: 1-3 PNGs each; CSV bag_id,path,label,split with the label lists (and 0/1 columns)."""
    (folder / "img").mkdir()
    rng = np.random.default_rng(2)
    rows = []
    for b, (bag, split, cell, carried) in enumerate(BAGS):
        for i in range(1 + b % 3):
            name = f"img/{bag}_{i}.png"
            Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(folder / name)
            rows.append(
                {"bag_id": bag, "path": name, "label": cell, "split": split, **dict(zip(TABLE_CLASSES, carried))}
            )
    pd.DataFrame(rows).to_csv(folder / "bags.csv", index=False)
    return folder / "bags.csv"


def test_image_bags_with_label_lists_train_one_model_for_their_classes(tmp_path, capsys):
    path = write_image_bags(tmp_path)
    dataset, options = user_data_options(path, options={"image_size": 8})
    assert dataset == "image_bags"
    data = load_bags(RunConfig(dataset=dataset, target_class="all", dataset_options=options))
    assert data.class_names == TABLE_CLASSES
    for split, name in ((data.train, "train"), (data.test, "test")):
        np.testing.assert_array_equal(split.contents, [row for _, s, _, row in BAGS if s == name])
        assert [len(split.bag_images(p)) for p in range(len(split))] == [1 + b % 3 for b in split.ids]
    _, one_hot = user_data_options(path, options={"image_size": 8, "label_columns": TABLE_CLASSES})
    columns = load_bags(RunConfig(dataset=dataset, target_class="all", dataset_options=one_hot))
    np.testing.assert_array_equal(columns.train.contents, data.train.contents)  # the two forms agree
    args = ["--data", str(path), "--target-class", "all", "--dataset-option", "image_size=8"]
    summary, store = run_json(tmp_path, capsys, *args)
    check_trained_classes(summary, store, TABLE_CLASSES, TRAIN_ROWS)


# --- clip CSVs --------------------------------------------------------------------------------------------------


def write_clip_csv(folder):
    """BAGS as clips (1.2 s tones at 16 kHz): CSV clip,labels,split with the label lists (and 0/1 columns)."""
    (folder / "clips").mkdir()
    rows = []
    for b, (bag, split, cell, carried) in enumerate(BAGS):
        t = np.arange(int(1.2 * 16000)) / 16000
        soundfile.write(folder / "clips" / f"{bag}.wav", (0.2 * np.sin(2 * np.pi * (200 + 50 * b) * t)), 16000)
        rows.append({"clip": f"clips/{bag}.wav", "labels": cell, "split": split, **dict(zip(TABLE_CLASSES, carried))})
    pd.DataFrame(rows).to_csv(folder / "clips.csv", index=False)
    return folder / "clips.csv"


def test_a_clip_csv_with_label_lists_trains_one_model_for_its_classes(tmp_path, capsys):
    path = write_clip_csv(tmp_path)
    dataset, options = user_data_options(path)
    assert dataset == "audio_clips"
    data = load_bags(RunConfig(dataset=dataset, model="audio_cnn", target_class="all", dataset_options=options))
    assert data.class_names == TABLE_CLASSES  # "Male speech, man speaking" is one class, not two
    for split, name in ((data.train, "train"), (data.test, "test")):
        np.testing.assert_array_equal(split.contents, [row for _, s, _, row in BAGS if s == name])
        assert list(split.names) == [bag for bag, s, _, _ in BAGS if s == name]
    binary = load_bags(RunConfig(dataset=dataset, model="audio_cnn", target_class=MALE, dataset_options=options))
    np.testing.assert_array_equal(binary.train.labels, data.train.contents[:, 1])  # the same clips, binary
    np.testing.assert_array_equal(binary.train.ids, data.train.ids)
    _, one_hot = user_data_options(path, options={"label_columns": TABLE_CLASSES})
    columns = load_bags(RunConfig(dataset=dataset, model="audio_cnn", target_class="all", dataset_options=one_hot))
    assert columns.class_names == TABLE_CLASSES  # the two forms agree
    np.testing.assert_array_equal(columns.train.contents, data.train.contents)
    np.testing.assert_array_equal(columns.test.contents, data.test.contents)
    args = ["--data", str(path), "--target-class", "all", "--model", "audio_cnn", "--batch-size", "4"]
    summary, store = run_json(tmp_path, capsys, *args)
    check_trained_classes(summary, store, TABLE_CLASSES, TRAIN_ROWS)


# --- the AudioSet layout ----------------------------------------------------------------------------------------

# by hand, from test_audio_audioset.TRAIN's readable clips: Speech, Male speech, Music, Animal (the CSV row is the id)
AUDIOSET_TRAIN = {
    0: [1, 1, 0, 0],  # --PJHxphWEs  Speech, Male speech
    1: [0, 0, 1, 0],  # -0ADBcUJ4rs  Music
    2: [1, 0, 0, 0],  # 0FMdORf5iGs  Speech
    3: [0, 0, 1, 1],  # 1A2b3C4d5E6  Animal, Music
    8: [1, 1, 0, 1],  # zz9yy8xx7ww  three labels: three classes
    9: [0, 0, 1, 0],  # Qq_unknown1  Music (its unknown mid is dropped)
}
AUDIOSET_TEST = [[1, 0, 0, 0], [0, 0, 1, 0], [1, 1, 0, 0]]


def test_audioset_clips_carry_every_label_and_train_one_model(audioset_root, tmp_path, capsys):  # noqa: F811
    def config(target):
        return RunConfig(dataset="audioset", model="audio_cnn", data_root=str(audioset_root), target_class=target)

    data = load_bags(config("0,1,2"))
    assert list(data.train.ids) == list(AUDIOSET_TRAIN) and list(data.train.names) == [r[0] for r in GOOD_TRAIN]
    np.testing.assert_array_equal(data.train.contents, list(AUDIOSET_TRAIN.values()))
    np.testing.assert_array_equal(data.test.contents, AUDIOSET_TEST)
    assert data.train.contents[list(AUDIOSET_TRAIN).index(8)].sum() == 3
    binary = load_bags(config(1))  # a binary run reads the same clips: its labels are one column of the contents
    np.testing.assert_array_equal(binary.train.contents, data.train.contents)
    np.testing.assert_array_equal(binary.train.labels, data.train.contents[:, 1])

    absent = r"1 of 4 classes have no positive bag in the test split \(3 bags\): 'Animal'; "
    with pytest.raises(ConfigError, match=absent + "train the 3 every split serves with --target-class 0,1,2, or use"):
        load_bags(config("all"))  # no eval clip is an animal: said, with the classes that can be trained
    with pytest.raises(ConfigError, match=r"unknown target class 'Speech,Male speech, man speaking'; .* give their "
                       r"indices \(0,1,2\)"):  # fmt: skip
        load_bags(config(f"Speech,{MALE}"))  # ", " belongs to a name, so this is one (unknown) name, not a list
    args = ["--dataset", "audioset", "--data-root", str(audioset_root), "--model", "audio_cnn", "--batch-size", "4"]
    summary, store = run_json(tmp_path, capsys, *args, "--target-class", "0,1,2")
    expected = {b: row[:3] for b, row in AUDIOSET_TRAIN.items()}
    check_trained_classes(summary, store, ["Speech", MALE, "Music"], expected)


# --- the CIFAR-10 layout ----------------------------------------------------------------------------------------


def cifar_label(i: int) -> int:
    return (7 * i + 3 * (i // 10)) % 10  # no simple cycle: a bag's classes depend on which images it drew


def write_cifar(root, n_train=240, n_test=60):
    """CIFAR-10 python batches whose image i carries its own index in pixel (0, 0) (red: i % 256, green: i // 256)
    and label cifar_label(i); the train images are split over the five data batches as the real ones are."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(4)

    def batch(indices):
        data = rng.integers(0, 256, (len(indices), 3072)).astype(np.uint8)
        data[:, 0], data[:, 1024] = np.array(indices) % 256, np.array(indices) // 256
        return {b"data": data, b"labels": [cifar_label(i) for i in indices]}

    per = n_train // 5
    for k in range(5):
        with open(folder / f"data_batch_{k + 1}", "wb") as handle:
            pickle.dump(batch(range(k * per, (k + 1) * per)), handle)
    with open(folder / "test_batch", "wb") as handle:
        pickle.dump(batch(range(10_000, 10_000 + n_test)), handle)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({b"label_names": [f"class{i}".encode() for i in range(10)]}, handle)
    return root


def decoded_contents(bags) -> np.ndarray:
    """Each bag's class counts from the labels of the images its members show (their pixels say which images)."""
    index = bags.images[..., 0, 0, 0].astype(int) + 256 * bags.images[..., 0, 0, 1].astype(int)
    labels = np.array([cifar_label(i) for i in index])
    return np.stack([np.bincount(labels[row], minlength=10) for row in bags.members])


def test_a_cifar_layout_bags_carry_the_classes_of_their_images_and_train_one_model(tmp_path, capsys):
    root = write_cifar(tmp_path / "data")
    config = RunConfig(dataset="cifar10", target_class="all", bag_size=3, seed=1, data_root=str(root))
    data = load_bags(config)
    assert len(data.train) == 240 // 3 and len(data.test) == 60 // 3
    for bags in (data.train, data.test):
        np.testing.assert_array_equal(bags.contents, decoded_contents(bags))
        assert len(np.unique(bags.members)) == bags.members.size  # each image in one bag
    assert [cifar_label(i) for i in (0, 1, 9, 10, 11)] == [0, 7, 3, 3, 0]  # the labels written, by hand
    expected = {int(b): (row > 0).astype(int).tolist() for b, row in zip(data.train.ids, data.train.contents)}
    args = ["--dataset", "cifar10", "--data-root", str(root), "--bag-size", "3", "--seed", "1"]
    summary, store = run_json(tmp_path, capsys, *args, "--target-class", "all", pn_ratio="0.5")
    check_trained_classes(summary, store, [f"class{i}" for i in range(10)], expected, pn_ratio=0.5)


def test_an_augmented_multilabel_batch_mixes_targets_and_keeps_each_class_to_its_own_bags():
    from weakneg.data.augment import AugmentSettings, augment_batch, numpy_rng
    from weakneg.data.bags import BagSet
    from weakneg.train_multilabel import augment_classes

    settings = AugmentSettings(mixup_rate=1.0)  # every example mixed with a partner

    class Audio(BagSet):  # an audio bag set's augmentation
        def augment(self, inputs, targets, generator):
            return augment_batch(inputs, targets, generator, settings)

    inputs = torch.randn(6, 40, 16)
    labels = torch.tensor([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]])
    trained = torch.tensor([[1, 1], [1, 0], [1, 1], [0, 1], [1, 1], [1, 1]], dtype=torch.bool)
    mixed, targets, kept = augment_classes(
        Audio.__new__(Audio), inputs, labels, trained, torch.Generator().manual_seed(3)
    )
    # the same draw on the soft targets alone gives the same inputs and targets: the masks only travel along
    reference, soft = augment_batch(inputs, labels.float(), torch.Generator().manual_seed(3), settings)
    torch.testing.assert_close(mixed, reference)
    torch.testing.assert_close(targets, soft)
    # MixUp's own draw, repeated: each example's partner; class c trains on a mix only where both bags are c's
    rng = numpy_rng(torch.Generator().manual_seed(3))
    rng.random(6)
    partners = rng.integers(0, 5, size=6)
    partners = partners + (partners >= np.arange(6))
    torch.testing.assert_close(kept, trained & trained[torch.as_tensor(partners)])
    assert not torch.equal(kept, trained)  # this batch has mixes that leave a class out


def test_an_augmented_multilabel_audio_run_trains_on_soft_targets(tmp_path, capsys):
    path = write_clip_csv(tmp_path)
    args = ["--data", str(path), "--target-class", "all", "--model", "audio_cnn", "--batch-size", "4"]
    plain, store = run_json(tmp_path, capsys, *args)
    augmented, _ = run_json(tmp_path, capsys, *args, "--augment")
    assert plain["status"] == augmented["status"] == "finished" and store.get_run(augmented["run_id"]).config["augment"]
    (first,), (second,) = store.epochs(plain["run_id"]), store.epochs(augmented["run_id"])
    assert np.isfinite(second.train_loss) and second.train_loss != first.train_loss  # soft targets, masked mixes


def test_balanced_weights_by_hand_and_as_the_binary_runs_with_one_class():
    from weakneg.train_multilabel import balanced_weights

    labels = np.array([[1, 0], [1, 1], [0, 1], [0, 0], [1, 0], [0, 0]])
    # class 0 has 3 clips, class 1 has 2, none 2: a clip weighs the sum over its classes of 1 / count
    np.testing.assert_allclose(balanced_weights(labels), [1 / 3, 1 / 3 + 1 / 2, 1 / 2, 1 / 2, 1 / 3, 1 / 2])
    # one class: the binary run's weights, 1 / (clips of the clip's label), as the audio bag set gives them
    one = labels[:, :1]
    np.testing.assert_allclose(balanced_weights(one), 1.0 / np.bincount(one[:, 0])[one[:, 0]])


def test_weighted_sampling_draws_audio_batches_and_leaves_images_alone(tmp_path, capsys):
    path = write_clip_csv(tmp_path)
    args = ["--data", str(path), "--target-class", "all", "--model", "audio_cnn", "--batch-size", "4"]
    plain, store = run_json(tmp_path, capsys, *args)
    weighted, _ = run_json(tmp_path, capsys, *args, "--weighted-sampling")
    (first,), (second,) = store.epochs(plain["run_id"]), store.epochs(weighted["run_id"])
    assert weighted["status"] == "finished" and second.train_loss != first.train_loss  # other batches
    images = ["--dataset", "digits", "--target-class", "all", "--bag-size", "2", "--max-instances", "300"]
    plain, store = run_json(tmp_path / "digits", capsys, *images)
    weighted, _ = run_json(tmp_path / "digits", capsys, *images, "--weighted-sampling")
    (first,), (second,) = store.epochs(plain["run_id"]), store.epochs(weighted["run_id"])
    assert (second.train_loss, second.ap) == (first.train_loss, first.ap)  # no effect on images, as binary runs
