"""Multi-label runs (issue 22): one model for every class, negatives chosen per class.

Each class of the multi-label head is checked against the binary head it stands for (same outputs, same loss,
same gradients, plain autograd as the reference); every sampler per class against the binary sampler run on a
Pool built from that binary head alone; adaptive_multilabel's probabilities against a case worked by hand; and
a digits run end to end through the CLI and the store."""

import json
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.data import load_bags
from weakneg.errors import ConfigError
from weakneg.models.multilabel import MULTILABEL_HEADS, MultiLabelHead, masked_bce
from weakneg.samplers import SAMPLERS, Pool
from weakneg.samplers.adaptive_multilabel import (
    batch_order,
    imbalance_weights,
    rank_probabilities,
    weighted_sample_loss,
)
from weakneg.samplers.per_class import ClassOutputs, class_rng, select_per_class
from weakneg.store import RunStore
from weakneg.store.epoch_record import CLASSES_FILE
from weakneg.train import run_experiment

C, D = 3, 6


def features(n_bags=40, n=4, ragged=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(n_bags, n, D, generator=g, dtype=torch.float64)
    if not ragged:
        return h, None
    sizes = torch.randint(1, n + 1, (n_bags,), generator=g)
    mask = torch.arange(n)[None, :] < sizes[:, None]
    return h.masked_fill(~mask[..., None], 1e6), mask  # padding holds garbage: it must never be read


def head_of(kind, seed=1):
    torch.manual_seed(seed)
    return MultiLabelHead(kind, D, C).double()


@pytest.mark.parametrize("ragged", [False, True])
@pytest.mark.parametrize("kind", MULTILABEL_HEADS)
def test_each_class_of_the_multilabel_head_is_the_binary_head_it_views(kind, ragged):
    h, mask = features(ragged=ragged)
    head = head_of(kind)
    out = head(h, mask)
    assert out.shape == (len(h), C, 2)
    np.testing.assert_allclose(out.exp().sum(-1).detach(), 1.0, atol=1e-6)  # [absent, present] sum to 1
    pooled = head.pool(h, mask)
    for c in range(C):
        view = head.view(c).double()
        torch.testing.assert_close(out[:, c].detach(), view(h, mask), rtol=1e-9, atol=1e-9)
        torch.testing.assert_close(pooled[:, c].detach(), view.pool(h, mask), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind", MULTILABEL_HEADS)
def test_the_masked_per_class_loss_is_the_binary_runs_loss_on_the_same_bags_with_the_same_gradients(kind):
    h, mask = features(ragged=True, seed=3)
    head = head_of(kind, seed=4)
    g = torch.Generator().manual_seed(5)
    targets = (torch.rand(len(h), C, generator=g) < 0.3).long()
    chosen = torch.rand(len(h), C, generator=g) < 0.6
    per_class = masked_bce(head(h, mask), targets, chosen)
    per_class.sum().backward()
    for c in range(C):
        rows = torch.nonzero(chosen[:, c]).flatten()
        view = head.view(c).double().requires_grad_(True)
        # the binary run's loss (train.Experiment.train_epoch): mean NLL of the one-hot target on its bags
        binary = -(torch.nn.functional.one_hot(targets[rows, c], 2) * view(h[rows], mask[rows])).sum(1).mean()
        torch.testing.assert_close(per_class[c], binary.detach(), rtol=1e-10, atol=1e-12)
        binary.backward()
        # the binary gradient of the positive logit row is class c's row (the absent row is its negative)
        torch.testing.assert_close(
            head.classifier.weight.grad[c], view.classifier.weight.grad[1], rtol=1e-8, atol=1e-10
        )
        torch.testing.assert_close(head.classifier.bias.grad[c], view.classifier.bias.grad[1], rtol=1e-8, atol=1e-10)


def test_the_loss_of_a_class_is_plain_bce_of_its_sigmoid():
    h, _ = features(seed=6)
    head = head_of("mean_softmax", seed=7)
    targets = torch.randint(0, 2, (len(h), C), generator=torch.Generator().manual_seed(8))
    chosen = torch.ones(len(h), C, dtype=torch.bool)
    logits = head.classifier(h.mean(1))
    reference = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets.double(), reduction="none")
    torch.testing.assert_close(masked_bce(head(h), targets, chosen), reference.mean(0))


def outputs_of(head, h, mask):
    with torch.no_grad():
        return ClassOutputs(head(h, mask), head.pool(h, mask), h, mask)


def binary_pool(view, h, mask, negatives, positives, epoch):
    """The Pool a binary run of the class builds, from the binary head alone (train.Experiment.pool_from)."""
    with torch.no_grad():
        neg, pos = torch.as_tensor(negatives), torch.as_tensor(positives)
        m = (lambda rows: None) if mask is None else (lambda rows: mask[rows])
        return Pool(
            view(h[neg], m(neg)),
            view.pool(h[neg], m(neg)),
            h[neg],
            torch.zeros(len(neg), dtype=torch.long),
            view(h[pos], m(pos)),
            view.pool(h[pos], m(pos)),
            view,
            epoch,
            positive_instance_features=h[pos],
            instance_mask=m(neg),
            positive_instance_mask=m(pos),
        )


SPECIAL = {"adaptive": {"warmup_epochs": 0}, "adaptive_multilabel": {"warmup_epochs": 0}}


@pytest.mark.parametrize("kind", ["mean_softmax", "softmax_max", "attention"])
@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_sampler_per_class_equals_the_binary_sampler_on_the_same_outputs(name, kind):
    h, mask = features(n_bags=60, ragged=kind == "softmax_max", seed=9)
    head = head_of(kind, seed=10)
    labels = (np.random.default_rng(11).random((len(h), C)) < 0.3).astype(np.int64)
    ks = [7, 3, 12]
    spec = SAMPLERS[name]
    params = SPECIAL.get(name, {})
    per_class = select_per_class(
        spec, outputs_of(head, h, mask), [head.view(c) for c in range(C)], labels, ks, 2, 5, params
    )
    for c, (negatives, selection) in enumerate(per_class):
        np.testing.assert_array_equal(negatives, np.flatnonzero(labels[:, c] == 0))
        pool = binary_pool(head.view(c).double(), h, mask, negatives, np.flatnonzero(labels[:, c] == 1), 2)
        want = spec(pool, ks[c], class_rng(5, 2, c), params)
        np.testing.assert_array_equal(selection.indices, want.indices)
        np.testing.assert_allclose(selection.scores, want.scores, rtol=1e-7, atol=1e-9, equal_nan=True)
        assert (
            len(set(labels[negatives[selection.indices], c])) <= 1 and not labels[negatives[selection.indices], c].any()
        )


@pytest.mark.parametrize("kind", ["mean_softmax", "attention"])
def test_per_class_gradient_embeddings_are_the_output_rows_gradient_by_plain_autograd(kind):
    """grad_norm and BADGE per class read class c's closed-form embedding: sqrt(2) times d BCE_c / d (w_c, b_c)."""
    h, _ = features(n_bags=12, seed=12)
    head = head_of(kind, seed=13)
    labels = np.zeros((len(h), C), dtype=np.int64)
    outputs = outputs_of(head, h, None)
    for c in range(C):
        view = head.view(c).double()
        pool = binary_pool(view, h, None, np.arange(len(h)), np.arange(0), 1)
        embedding = pool.grad_embedding("known").matrix()  # (N, 2 (d+1)): rows [absent, present]
        for b in range(len(h)):
            head.zero_grad()
            logit = head.logits(h[b : b + 1])[0, c]
            torch.nn.functional.binary_cross_entropy_with_logits(
                logit, torch.tensor(0.0, dtype=torch.float64)
            ).backward()
            reference = torch.cat([head.classifier.weight.grad[c], head.classifier.bias.grad[c : c + 1]])
            present = embedding[b].view(2, D + 1)[1]
            torch.testing.assert_close(present, reference, rtol=1e-8, atol=1e-10)
            torch.testing.assert_close(embedding[b].view(2, D + 1)[0], -reference, rtol=1e-8, atol=1e-10)
    assert outputs.log_probs.shape == (len(h), C, 2) and labels.sum() == 0


def test_adaptive_multilabel_probabilities_against_a_hand_computed_case():
    # imbalance ratios: class 0 in 2 bags, class 1 in 1 bag -> IR = (2/2, 2/1) = (1, 2)
    labels = np.array([[1, 0], [1, 1], [0, 0]])
    np.testing.assert_allclose(imbalance_weights(labels), [1.0, 2.0])
    p = torch.tensor([[0.8, 0.1], [0.5, 0.25], [0.4, 0.5]], dtype=torch.float64)  # p(present)
    log_probs = torch.stack([torch.log1p(-p), torch.log(p)], dim=-1)
    loss = weighted_sample_loss(log_probs, torch.as_tensor(labels), torch.tensor([1.0, 2.0]))
    by_hand = [
        -math.log(0.8) - math.log(0.9),  # present 0 (weight 1), absent 1 (weight 1)
        -math.log(0.5) - 2 * math.log(0.25),  # present 0 (1), present 1 (IR 2)
        -math.log(0.6) - math.log(0.5),
    ]
    np.testing.assert_allclose(loss.numpy(), by_hand)
    # ranks by loss, hardest first: losses (0.5, 2.0, 1.0, 0.1) -> ranks (2, 0, 1, 3)
    losses = np.array([0.5, 2.0, 1.0, 0.1])
    # two levels: groups floor(rank * 2 / 4) = (1, 0, 0, 1); weights 4^(1 - g) = (1, 4, 4, 1) / 10
    np.testing.assert_allclose(rank_probabilities(losses, 4.0, 2), [0.1, 0.4, 0.4, 0.1])
    # one level per bag (the plain rank rule): 4^((3 - rank) / 3)
    weights = np.array([4 ** (1 / 3), 4.0, 4 ** (2 / 3), 1.0])
    np.testing.assert_allclose(rank_probabilities(losses, 4.0), weights / weights.sum())
    # one level: uniform; a NaN loss ranks last
    np.testing.assert_allclose(rank_probabilities(losses, 4.0, 1), [0.25] * 4)
    np.testing.assert_allclose(rank_probabilities([np.nan, 1.0], 9.0), [0.1, 0.9])


def test_adaptive_multilabel_draws_uniformly_in_warm_up_then_by_rank():
    spec = SAMPLERS["adaptive_multilabel"]
    n = 8
    loss = torch.arange(n, dtype=torch.float64)
    pool = Pool(
        torch.zeros(n, 2), torch.zeros(n, 1), torch.zeros(n, 1, 1), torch.zeros(n, dtype=torch.long),
        torch.zeros(0, 2), torch.zeros(0, 1), None, epoch=1, sample_loss=loss,
    )  # fmt: skip
    warm = spec(pool, 3, np.random.default_rng(0), {"warmup_epochs": 1})
    np.testing.assert_allclose(warm.scores, 1 / n)
    pool.epoch = 2
    later = spec(pool, 3, np.random.default_rng(0), {"warmup_epochs": 1, "levels": 2, "selection_pressure": 3.0})
    np.testing.assert_allclose(later.scores, np.where(loss.numpy() >= 4, 3.0, 1.0) / 16)
    # whole batches: each batch drawn without repeats by the same probabilities; the negatives scope keeps the shuffle
    params = {"selection_pressure": 3.0, "warmup_epochs": 1, "levels": 2, "scope": "batches"}
    order = batch_order(loss, n, 3, 2, params, np.random.default_rng(1))
    assert len(order) == n and all(len(set(order[i : i + 3])) == len(order[i : i + 3]) for i in (0, 3, 6))
    assert batch_order(loss, n, 3, 2, {**params, "scope": "negatives"}, np.random.default_rng(1)) is None
    assert batch_order(loss, n, 3, 1, params, np.random.default_rng(1)) is None  # warm-up


def test_a_multilabel_run_is_refused_what_it_cannot_do_with_one_line():
    for changes, words in [
        ({"target_class": ","}, "names no class"),
        ({"target_class": "1,1"}, "names a class twice"),
    ]:
        with pytest.raises(ConfigError, match=words):
            RunConfig(target_class="all", **{k: v for k, v in changes.items() if k != "target_class"}).replace(
                **{k: v for k, v in changes.items() if k == "target_class"}
            ).validate()
    with pytest.raises(ConfigError, match="unknown target class 'cat'"):
        load_bags(RunConfig(target_class="0,cat"))


def test_cli_refuses_a_bad_multilabel_run_with_exit_2(capsys):
    args = ["--sampler", "adaptive_multilabel", "--sampler-param", "scope=batches", "--weighted-sampling"]
    assert main(["run", "--dataset", "digits", "--target-class", "all", *args]) == 2
    assert "both draw the training batches" in capsys.readouterr().err


def test_multilabel_digits_bags_carry_every_class_they_hold():
    data = load_bags(RunConfig(dataset="digits", target_class="all", bag_size=3, seed=2))
    assert data.multilabel and data.targets == list(range(10)) and data.target_name == "all"
    bags = data.train
    assert bags.members.shape[1] == 3 and len(np.unique(bags.members)) == bags.members.size  # each image once
    from weakneg.data.images import load_digits_data

    digits = load_digits_data(None, {}).train_labels
    # contents counts each bag's images per class: check against the instance labels of its members
    rows = bags.sources[bags.members]
    for b in range(0, len(bags.members), 37):
        np.testing.assert_array_equal(np.bincount(digits[rows[b]], minlength=10), bags.contents[b])
    named = load_bags(RunConfig(dataset="digits", target_class="7,2", bag_size=3, seed=2))
    assert named.targets == [7, 2] and named.target_name == "7,2"
    np.testing.assert_array_equal(named.train.members, bags.members)  # one layout whatever the classes


def test_multilabel_run_end_to_end_through_the_cli_and_the_store(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    args = ["run", "--dataset", "digits", "--target-class", "all", "--bag-size", "2", "--epochs", "2"]
    args += ["--sampler", "badge", "--save-embeddings", "none", "--seed", "3", "--store", url, "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    names = [str(i) for i in range(10)]
    assert summary["status"] == "finished" and summary["classes"] == names
    assert set(summary["per_class"]) == set(names)
    aps = [summary["per_class"][n]["ap"] for n in names]
    assert summary["ap"] == pytest.approx(np.mean(aps)) and summary["map"] == summary["ap"]
    assert summary["auc"] == pytest.approx(np.mean([summary["per_class"][n]["auc"] for n in names]))
    store = RunStore(url)
    run = store.get_run(summary["run_id"])
    assert run.final_ap == pytest.approx(summary["ap"]) and run.result["per_class"]["3"]["ap"] == pytest.approx(aps[3])
    start = store.load_epoch_record(run.id, 0).bags
    labels, ids = start.class_labels, start.bag_ids
    assert labels.shape == (len(ids), 10)
    for epoch in (1, 2):
        saved = store.load_arrays(run.id, CLASSES_FILE.format(epoch=epoch))
        offsets = saved["chosen_offsets"]
        assert len(offsets) == 11 and offsets[-1] == len(saved["chosen_ids"]) == len(saved["chosen_scores"])
        for c in range(10):
            picked = saved["chosen_ids"][offsets[c] : offsets[c + 1]]
            n_pos = int(labels[:, c].sum())
            assert len(picked) == min(round(n_pos / 0.5), len(ids) - n_pos) == summary["k_per_class"][str(c)]
            assert len(set(picked)) == len(picked)
            assert not labels[np.searchsorted(ids, picked), c].any()  # class c's negatives only
        assert not any(name.startswith(f"epoch_{epoch:04d}.") for name in store.artifact_names(run.id))
    # the stored per-class AP is scikit-learn's on the model's test predictions: recompute from a reloaded run
    record = store.load_arrays(run.id, CLASSES_FILE.format(epoch=2))
    np.testing.assert_allclose(record["ap"], aps)
    assert np.all((record["ap"] > 0) & (record["ap"] <= 1))
    assert average_precision_score([0, 1], [0.2, 0.7]) == 1.0 and roc_auc_score([0, 1], [0.2, 0.7]) == 1.0


def test_a_users_table_with_several_labels_per_bag_trains_one_multilabel_model(tmp_path, capsys):
    """Labels like "car;dog": each bag carries the classes its label lists, and each class is learned."""
    rng = np.random.default_rng(0)
    classes, rows, carried = ["bird", "car", "dog"], [], {}
    for b in range(150):
        present = [c for c in classes if rng.random() < 0.4] or [classes[b % 3]]
        carried[f"b{b}"] = present
        for i in range(int(rng.integers(2, 6))):
            x = rng.normal(0, 1, 3)
            for c in present:
                x[classes.index(c)] += 4.0 if i == 0 else 0.0  # one instance shows each class the bag carries
            rows.append({"bag_id": f"b{b}", "f1": x[0], "f2": x[1], "f3": x[2], "label": ";".join(present)})
    path = tmp_path / "bags.csv"
    import pandas as pd

    pd.DataFrame(rows).to_csv(path, index=False)
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    args = ["run", "--data", str(path), "--target-class", "all", "--epochs", "15", "--store", url, "--json"]
    assert main(args + ["--sampler", "margin", "--pn-ratio", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["classes"] == classes and set(summary["per_class"]) == set(classes)
    store = RunStore(url)
    start = store.load_epoch_record(summary["run_id"], 0).bags
    assert start.class_labels.shape[1] == 3
    for name, values in summary["per_class"].items():
        assert values["auc"] >= 0.7, (name, values)  # the planted instance is found for every class (chance: 0.5)


def test_run_and_show_print_each_class_of_a_multilabel_run(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    args = ["run", "--dataset", "digits", "--target-class", "4,9", "--bag-size", "2", "--epochs", "1"]
    assert main(args + ["--save-embeddings", "none", "--store", url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "2 classes in one model" in out[0] and "mAP" in out[0]
    assert out[1].split() == ["class", "k", "ap", "auc", "dprime"] and [line.split()[0] for line in out[2:4]] == [
        "4",
        "9",
    ]
    run = RunStore(url).list_runs()[0]
    assert main(["show", str(run.id), "--store", url]) == 0
    shown = capsys.readouterr().out
    assert "per class (final epoch; micro AP" in shown
    for name in ("4", "9"):
        ap = run.result["per_class"][name]["ap"]
        assert any(line.split()[:2] == [name, f"{ap:.4f}"] for line in shown.splitlines())


def write_cifar(root):
    """Small CIFAR-10 python batches (60 random images each, classes in turn), the layout torchvision unpacks."""
    import pickle

    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (60, 3072)).astype(np.uint8), b"labels": list(np.arange(60) % 10)}
        with open(folder / name, "wb") as handle:
            pickle.dump(batch, handle)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({b"label_names": [f"class{i}".encode() for i in range(10)]}, handle)
    return root


def test_a_cifar_layout_builds_one_target_free_bag_set_for_a_multilabel_run(tmp_path):
    root = write_cifar(tmp_path)
    data = load_bags(RunConfig(dataset="cifar10", target_class="class1,class4", bag_size=3, data_root=str(root)))
    assert data.targets == [1, 4] and data.target_names == ["class1", "class4"]
    assert len(data.train) == 300 // 3 and len(data.test) == 60 // 3  # every image in one bag
    result = run_experiment(RunConfig(dataset="cifar10", target_class="class1,class4", bag_size=3, epochs=1,
                                      data_root=str(root), save_embeddings="none"))  # fmt: skip
    assert result.status == "finished" and set(result.summary()["per_class"]) == {"class1", "class4"}


@pytest.mark.slow  # generates audio from the Debian samples
def test_soundscapes_train_one_model_for_their_families(tmp_path, monkeypatch):
    monkeypatch.setenv("WEAKNEG_HOME", str(tmp_path))
    options = {"n_train": 24, "n_test": 12, "families": ["ambi", "bd", "tabla"]}
    cfg = RunConfig(dataset="soundscapes", target_class="all", model="audio_cnn", sampler="badge", epochs=2,
                    pn_ratio=1.0, batch_size=8, dataset_options=options, save_embeddings="none")  # fmt: skip
    data = load_bags(cfg)
    manifest_labels = (np.asarray(data.train.contents) > 0).astype(int)
    result = run_experiment(cfg, data=data)
    summary = result.summary()
    assert result.status == "finished" and summary["classes"] == ["ambi", "bd", "tabla"]
    for c, name in enumerate(summary["classes"]):
        n_pos = int(manifest_labels[:, c].sum())
        assert summary["k_per_class"][name] == min(round(n_pos / 1.0), len(manifest_labels) - n_pos)
        assert 0 <= summary["per_class"][name]["auc"] <= 1


def test_per_class_records_round_trip_through_the_versioned_epoch_record(store):
    """A multi-label epoch's picks and a class pool come back field by field; a newer version is refused, naming
    the file; epoch 0's bags keep the trained classes."""
    from weakneg.store import CorruptArtifact
    from weakneg.store.epoch_record import VERSION, BagArrays, ClassPicks, EpochArrays, PoolArrays

    run_id = store.create_run({"dataset": "digits"})
    picks = ClassPicks(
        class_names=np.array(["a", "b"]),
        ap=np.array([0.5, 0.25]),
        auc=np.array([0.7, 0.6]),
        dprime=np.array([0.74, 0.36]),
        micro_ap=0.4,
        chosen_ids=np.array([7, 3, 9], dtype=np.int64),
        chosen_scores=np.array([0.9, 0.8, 0.1], dtype=np.float32),
        chosen_offsets=np.array([0, 2, 3], dtype=np.int64),
    )
    store.save_class_picks(run_id, 4, picks)
    back = store.load_class_picks(run_id, 4)
    assert back.micro_ap == 0.4 and list(back.picks(0)) == [7, 3] and list(back.picks(1)) == [9]
    for name in ("class_names", "ap", "auc", "dprime", "chosen_ids", "chosen_scores", "chosen_offsets"):
        np.testing.assert_array_equal(getattr(back, name), getattr(picks, name))
    assert int(store.load_arrays(run_id, CLASSES_FILE.format(epoch=4))["record_version"]) == VERSION
    pool = PoolArrays(
        pool_ids=np.array([3, 7, 9]),
        positive_ids=np.array([1]),
        scores=np.array([0.1, 0.2, 0.3], dtype=np.float32),
        pick_order=np.array([1, 0, -1], dtype=np.int32),
        pool_prob=np.array([0.2, 0.4, 0.6]),
        pool_grad=np.ones((3, 4), dtype=np.float16),
        positive_prob=np.array([0.9]),
        positive_grad=np.zeros((1, 4), dtype=np.float16),
        grad_label="predicted",
    )
    store.save_class_pool(run_id, 4, 1, pool)
    loaded = store.load_class_pool(run_id, 4, 1)
    assert loaded.grad_label == "predicted" and store.load_class_pool(run_id, 4, 0) is None
    np.testing.assert_array_equal(loaded.pick_order, pool.pick_order)
    np.testing.assert_array_equal(loaded.pool_grad, pool.pool_grad)
    bags = BagArrays(
        np.arange(3), np.array([1, 0, 1]), np.zeros((3, 10)), np.array(list("0123456789")),
        class_labels=np.array([[1, 0], [0, 0], [0, 1]], dtype=np.uint8), targets=np.array([2, 5]),
    )  # fmt: skip
    store.save_epoch_record(run_id, EpochArrays(epoch=0, bags=bags))
    got = store.load_epoch_record(run_id, 0).bags
    np.testing.assert_array_equal(got.class_labels, bags.class_labels)
    assert list(got.targets) == [2, 5]
    raw = store.load_arrays(run_id, CLASSES_FILE.format(epoch=4))
    store.save_arrays(run_id, CLASSES_FILE.format(epoch=4), **{**raw, "record_version": np.array(VERSION + 1)})
    with pytest.raises(CorruptArtifact, match="epoch_0004_classes.npz"):
        store.load_class_picks(run_id, 4)
