"""The user's own instance table (--data PATH): CSV, Parquet and .npz files the tests write, natural bags of any
size, splits, fingerprints, and every bad input refused with its own message before anything is written."""

import json

import numpy as np
import pandas as pd
import pytest

from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.data import load_bags
from weakneg.data.user import user_data_options
from weakneg.errors import ConfigError
from weakneg.store import RunStore

SIZES = [3, 1, 6, 2, 4, 5, 2, 7, 3, 1, 4, 2] * 3


def instance_frame(seed=0, d=3):
    """One row per instance: bag_id, f0..f{d-1}, label (1 when the bag holds a concept instance), instance_label."""
    rng = np.random.default_rng(seed)
    rows = []
    for b, size in enumerate(SIZES):
        positive = b % 3 == 0
        for i in range(size):
            concept = positive and i == 0
            features = rng.normal(size=d) + (3.0 if concept else 0.0)
            rows.append(
                {
                    "bag_id": f"bag{b:02d}",
                    **{f"f{j}": features[j] for j in range(d)},
                    "label": int(positive),
                    "instance_label": int(concept),
                }
            )
    return pd.DataFrame(rows)


def run_cli(*args):
    try:
        return main(list(args))
    except SystemExit as exit_:
        return exit_.code


def store_url(tmp_path):
    return f"sqlite:///{tmp_path / 'runs.db'}"


def test_csv_table_loads_natural_bags_of_any_size(tmp_path):
    frame = instance_frame()
    frame.to_csv(tmp_path / "bags.csv", index=False)
    dataset, options = user_data_options(tmp_path / "bags.csv")
    data = load_bags(
        RunConfig(
            dataset=dataset, model="mlp", target_class="positive", dataset_options={**options, "standardize": False}
        )
    )
    assert dataset == "table" and data.class_names == ["positive"]
    assert len(data.train) + len(data.test) == len(SIZES)
    for split in (data.train, data.test):
        for position in range(len(split)):
            bag = split.ids[position]  # bag ids are positions in file order
            rows = frame[frame.bag_id == f"bag{bag:02d}"]
            np.testing.assert_allclose(
                split.points[split.instance_rows(position)], rows[["f0", "f1", "f2"]].to_numpy(np.float32)
            )
            assert split.labels[position] == rows.label.iloc[0]
    assert data.train.ragged and options["fingerprint"].startswith("sha256:")


def test_run_from_the_command_line_records_path_and_fingerprint(tmp_path, capsys):
    instance_frame().to_csv(tmp_path / "bags.csv", index=False)
    assert (
        run_cli(
            "run",
            "--data",
            str(tmp_path / "bags.csv"),
            "--target-class",
            "positive",
            "--epochs",
            "2",
            "--head",
            "attention",
            "--sampler",
            "badge",
            "--store",
            store_url(tmp_path),
            "--json",
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    run = RunStore(store_url(tmp_path)).get_run(result["run_id"])
    assert run.dataset == "table" and run.config["model"] == "mlp"
    options = run.config["dataset_options"]
    assert options["path"] == str((tmp_path / "bags.csv").resolve()) and options["fingerprint"].startswith("sha256:")


def test_parquet_array_column_and_a_multilabel_bag_table(tmp_path):
    frame = instance_frame(d=4)
    table = pd.DataFrame({"bag_id": frame.bag_id, "embedding": list(frame[["f0", "f1", "f2", "f3"]].to_numpy())})
    table.to_parquet(tmp_path / "instances.parquet")
    bags = pd.DataFrame({"bag_id": sorted(set(frame.bag_id))})
    bags["cat"] = [int(i % 3 == 0) for i in range(len(bags))]
    bags["dog"] = [int(i % 2 == 0) for i in range(len(bags))]
    bags.to_csv(tmp_path / "bag_labels.csv", index=False)
    dataset, options = user_data_options(tmp_path / "instances.parquet", options={"bags": "bag_labels.csv"})
    data = load_bags(RunConfig(dataset=dataset, model="mlp", target_class="dog", dataset_options=options))
    assert data.class_names == ["cat", "dog"] and data.target == 1
    assert data.train.input_shape[-1] == 4
    for split in (data.train, data.test):
        np.testing.assert_array_equal(split.labels, (split.ids % 2 == 0).astype(int))
        np.testing.assert_array_equal(split.contents[:, 0], (split.ids % 3 == 0).astype(int))


def test_npz_with_a_split_column(tmp_path):
    frame = instance_frame()
    bag_number = frame.bag_id.str[3:].astype(int)
    np.savez(
        tmp_path / "bags.npz",
        bag_id=frame.bag_id.to_numpy().astype(str),
        features=frame[["f0", "f1", "f2"]].to_numpy(),
        label=frame.label.to_numpy(),
        split=np.where(bag_number < 24, "train", "test"),
    )
    dataset, options = user_data_options(tmp_path / "bags.npz")
    data = load_bags(RunConfig(dataset=dataset, model="mlp", target_class=0, dataset_options=options))
    assert sorted(data.train.ids) == list(range(24)) and sorted(data.test.ids) == list(range(24, 36))


def test_without_a_split_folds_are_deterministic_by_bag(tmp_path):
    instance_frame().to_csv(tmp_path / "bags.csv", index=False)
    _, options = user_data_options(tmp_path / "bags.csv")
    tests = [
        load_bags(RunConfig(dataset="table", model="mlp", dataset_options={**options, "fold": f})).test.ids
        for f in range(5)
    ]
    assert sorted(np.concatenate(tests)) == list(range(len(SIZES)))
    again = load_bags(RunConfig(dataset="table", model="mlp", dataset_options={**options, "fold": 2})).test.ids
    np.testing.assert_array_equal(again, tests[2])


def test_changed_data_are_refused_by_their_fingerprint(tmp_path):
    frame = instance_frame()
    frame.to_csv(tmp_path / "bags.csv", index=False)
    _, options = user_data_options(tmp_path / "bags.csv")
    frame.assign(f0=frame.f0 + 1).to_csv(tmp_path / "bags.csv", index=False)
    with pytest.raises(ConfigError, match="not the ones this run was configured with"):
        load_bags(RunConfig(dataset="table", model="mlp", dataset_options=options))


def write_bad(tmp_path, case):
    frame = instance_frame()
    path = tmp_path / "bags.csv"
    if case == "missing column":
        frame.drop(columns="bag_id").to_csv(path, index=False)
    elif case == "label not 0/1":
        frame.assign(label=np.where(frame.label == 1, 2, 0)).to_csv(path, index=False)
    elif case == "unknown class":
        frame.assign(label=np.where(frame.label == 1, "cat", "dog")).to_csv(path, index=False)
        return path, ["--dataset-option", 'classes=["cat", "cow"]']
    elif case == "nan features":
        frame.loc[4, "f1"] = np.nan
        frame.to_csv(path, index=False)
    elif case == "empty bag":
        frame.drop(columns="label").to_csv(path, index=False)
        bags = frame.groupby("bag_id").label.first().reset_index()
        pd.concat([bags, pd.DataFrame({"bag_id": ["ghost"], "label": [1]})]).to_csv(tmp_path / "b.csv", index=False)
        return path, ["--dataset-option", "bags=b.csv"]
    elif case == "mixed labels":
        frame.loc[frame.bag_id == "bag00", "label"] = [1, 0, 1]
        frame.to_csv(path, index=False)
    elif case == "unreadable":
        path = tmp_path / "bags.parquet"
        path.write_bytes(b"this is not parquet")
    elif case == "no such file":
        path = tmp_path / "nowhere.csv"
    return path, []


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing column", "missing bag id column 'bag_id'"),
        ("label not 0/1", "labels must be 0/1 or class names, found 2"),
        ("unknown class", "labels 'dog' are not in the class list ['cat', 'cow']"),
        ("nan features", "1 row(s) have NaN or infinite features (rows 4"),
        ("empty bag", "bag(s) 'ghost' in b.csv have no instances"),
        ("mixed labels", "bag(s) 'bag00' have different labels on their rows"),
        ("unreadable", "does not open as a parquet table"),
        ("no such file", "cannot be read on"),
    ],
)
def test_bad_input_gives_its_message_and_writes_nothing(tmp_path, capsys, case, message):
    path, extra = write_bad(tmp_path, case)
    code = run_cli(
        "run", "--data", str(path), "--target-class", "0", "--epochs", "1", "--store", store_url(tmp_path), *extra
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "runs.db").exists()
