"""MIL-assumption checks: the generators, the paired AUC test, the decision rule, and real training runs
showing that the check can both pass (max pooling) and fail (mean pooling)."""

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from weakneg import milcheck
from weakneg.errors import ConfigError
from weakneg.milcheck import (
    BACKGROUND,
    CENTRES,
    CONCEPT_A,
    CONCEPT_B,
    DISTRACTOR,
    FREQUENT,
    INCONCLUSIVE,
    KINDS,
    POISON,
    RARE,
    RESPECTS,
    SPREADS,
    TESTS,
    VIOLATES,
    CheckSettings,
    Sizes,
)
from weakneg.store import FAILED, FINISHED

SIZES = Sizes(train_pos=60, train_neg=300, eval_pos=100)


def count(kinds, kind):
    return (kinds == kind).sum(1)


# --- generators -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(TESTS))
def test_bag_labels_follow_the_tests_presence_rule_and_contents_match_instances(name):
    bags = milcheck.make_test_bags(name, seed=3, sizes=SIZES)
    for split in ("train", "heldout", "test", "clean"):
        part, kinds = getattr(bags, split), bags.kinds[split]
        assert kinds.shape == (len(part), SIZES.bag_size)
        expected = np.stack([count(kinds, k) for k in range(len(KINDS))], axis=1)
        np.testing.assert_array_equal(part.contents, expected)
        np.testing.assert_array_equal(part.labels, TESTS[name].positive_rule(part.contents).astype(int))
    assert (bags.train.labels == 1).sum() == SIZES.train_pos and (bags.train.labels == 0).sum() == SIZES.train_neg
    assert (bags.test.labels == 1).sum() == (bags.test.labels == 0).sum() == SIZES.eval_pos


@pytest.mark.parametrize("name", ["poison", "threshold_poison"])
def test_poison_is_only_in_negative_bags_for_training_and_only_in_positive_bags_for_testing(name):
    bags = milcheck.make_test_bags(name, seed=0, sizes=SIZES)
    for split in ("train", "heldout"):
        poison, labels = count(bags.kinds[split], POISON), getattr(bags, split).labels
        assert np.all(poison[labels == 0] == 1) and np.all(poison[labels == 1] == 0)
    poison, labels = count(bags.kinds["test"], POISON), bags.test.labels
    assert np.all(poison[labels == 1] == 1) and np.all(poison[labels == 0] == 0)
    assert count(bags.kinds["clean"], POISON).sum() == 0


def test_threshold_negatives_hold_one_concept_or_none_and_positives_hold_both():
    bags = milcheck.make_test_bags("threshold_poison", seed=0, sizes=SIZES)
    for split in ("train", "test"):
        kinds, labels = bags.kinds[split], getattr(bags, split).labels
        a, b = count(kinds, CONCEPT_A), count(kinds, CONCEPT_B)
        assert np.all((a == 1) & (b == 1) == (labels == 1))
        negative_types = {(int(x), int(y)) for x, y in zip(a[labels == 0], b[labels == 0])}
        assert negative_types == {(1, 0), (0, 1), (0, 0)}  # all three kinds of negative occur


def test_false_frequency_swaps_the_distractor_count_not_its_presence():
    bags = milcheck.make_test_bags("false_frequency", seed=0, sizes=SIZES)
    for split, (positive, negative) in {"train": (RARE, FREQUENT), "test": (FREQUENT, RARE)}.items():
        distractors, labels = count(bags.kinds[split], DISTRACTOR), getattr(bags, split).labels
        assert np.all(distractors[labels == 1] == positive) and np.all(distractors[labels == 0] == negative)
        assert np.all(distractors >= 1)  # present in every bag: presence says nothing
        assert np.all(count(bags.kinds[split], CONCEPT_A) == labels)


def test_instances_are_drawn_from_their_kinds_gaussian():
    bags = milcheck.make_test_bags("poison", seed=1, sizes=Sizes(train_pos=400, train_neg=2000, eval_pos=10))
    points = bags.train.points[bags.train.members]  # (B, n, d)
    for kind in (BACKGROUND, CONCEPT_A, POISON):
        drawn = points[bags.kinds["train"] == kind]
        np.testing.assert_allclose(drawn.mean(0), CENTRES[kind], atol=0.15)
        np.testing.assert_allclose(drawn.std(0), SPREADS[kind], rtol=0.1)


def test_clean_bags_are_the_test_bags_with_only_the_shortcut_instances_replaced():
    bags = milcheck.make_test_bags("false_frequency", seed=0, sizes=SIZES)
    test_points, clean_points = bags.test.points[bags.test.members], bags.clean.points[bags.clean.members]
    replaced = bags.kinds["test"] == DISTRACTOR
    np.testing.assert_array_equal(test_points[~replaced], clean_points[~replaced])
    assert np.all(bags.kinds["clean"][replaced] == BACKGROUND)
    assert np.abs(clean_points[replaced][:, 3]).mean() < 1.5  # background-like, far from the distractor at 6


def test_generation_is_deterministic_from_the_seed():
    first, again = milcheck.make_test_bags("poison", 5, SIZES), milcheck.make_test_bags("poison", 5, SIZES)
    other = milcheck.make_test_bags("poison", 6, SIZES)
    np.testing.assert_array_equal(first.train.points, again.train.points)
    np.testing.assert_array_equal(first.test.labels, again.test.labels)
    assert not np.array_equal(first.train.points, other.train.points)


def test_unknown_test_and_small_bags_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="choose one of: poison"):
        milcheck.make_test_bags("nope")
    with pytest.raises(ConfigError, match="bag_size must be >= 5"):
        CheckSettings(sizes=Sizes(bag_size=3)).validate()
    with pytest.raises(ConfigError, match="model must be one of mlp"):
        CheckSettings(model="simple_cnn").validate()


# --- statistics and the decision rule -----------------------------------------------------------


def test_paired_auc_difference_matches_sklearn_and_a_bootstrap():
    rng = np.random.default_rng(0)
    labels = np.repeat([1, 0], [80, 120])
    a = labels * 1.0 + rng.normal(size=200)
    b = np.round(a + rng.normal(scale=0.7, size=200), 1)  # correlated with a, with ties
    difference, se = milcheck.paired_auc_difference(labels, a, b)
    assert difference == pytest.approx(roc_auc_score(labels, a) - roc_auc_score(labels, b), abs=1e-12)
    boot = []
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    for _ in range(200):  # stratified bootstrap of the paired difference: an independent estimate of its SE
        pick = np.concatenate([rng.choice(positives, len(positives)), rng.choice(negatives, len(negatives))])
        boot.append(roc_auc_score(labels[pick], a[pick]) - roc_auc_score(labels[pick], b[pick]))
    assert se == pytest.approx(np.std(boot), rel=0.2)
    assert milcheck.paired_auc_difference(labels, a, a) == (0.0, 0.0)


def test_decision_rule():
    assert milcheck.decide(train_auc=0.7, drop=0.6, drop_se=0.01) == (INCONCLUSIVE, milcheck.MIN_DROP)
    assert milcheck.decide(0.95, 0.3, 0.01)[0] == VIOLATES
    assert milcheck.decide(0.95, 0.04, 0.001)[0] == RESPECTS  # under the smallest drop that counts
    assert milcheck.decide(0.95, 0.1, 0.05) == (RESPECTS, pytest.approx(0.15))  # within 3 standard errors
    assert milcheck.decide(0.95, -0.2, 0.01)[0] == RESPECTS  # the shortcut helped: no negative evidence used


# --- real training: the check passes and fails --------------------------------------------------


def test_max_pooling_respects_the_single_concept_test():
    result = milcheck.run_test("poison", CheckSettings(head="softmax_max", seed=0))
    assert result["verdict"] == RESPECTS, result
    assert result["train_auc"] > 0.85 and result["test_auc"] > 0.8
    assert abs(result["shortcut_effect"]) < 0.05  # the poison does not move a max-pooled bag


def test_mean_pooling_keys_on_the_poison_and_is_reported_as_violating():
    result = milcheck.run_test("poison", CheckSettings(head="mean_softmax", seed=0))
    assert result["verdict"] == VIOLATES, result
    assert result["train_auc"] > 0.95 and result["test_auc"] < 0.5  # positives ranked under negatives
    assert result["shortcut_effect"] < -0.5
    assert "keys on the poison" in result["explanation"] and "below negatives" in result["explanation"]


def test_run_checks_restores_the_thread_count_and_reports_each_test(monkeypatch):
    import torch

    before = torch.get_num_threads()
    seen = []
    out = milcheck.run_checks(
        CheckSettings(head="mean_softmax", epochs=3, sizes=SIZES), ["false_frequency"], on_test=seen.append
    )
    assert torch.get_num_threads() == before
    assert [t["test"] for t in out["tests"]] == ["false_frequency"] == [t["test"] for t in seen]
    assert out["settings"]["head"] == "mean_softmax"


# --- as a job, and from the command line ---------------------------------------------------------


def quick(head, **changes):
    return CheckSettings(head=head, epochs=8, sizes=SIZES, **changes)


def test_run_job_stores_the_result_and_the_verdict_table_reads_it(store):
    run_id = store.create_run(milcheck.job_config(quick("mean_softmax"), ["poison"]), kind="milcheck")
    milcheck.run_job(store, run_id, store.get_run(run_id).config)
    run = store.get_run(run_id)
    assert run.status == FINISHED and run.head == "mean_softmax" and run.sampler == "random"
    assert [t["test"] for t in run.result["tests"]] == ["poison"]
    latest = milcheck.latest_results(store, sampler="random", seed=0)
    assert list(latest) == ["mean_softmax"] and latest["mean_softmax"]["run_id"] == run_id
    (row,) = milcheck.verdict_table(latest)
    assert row["test"] == TESTS["poison"].title and row["mean_softmax"].startswith(run.result["tests"][0]["verdict"])
    assert milcheck.latest_results(store, sampler="badge") == {}


def test_run_job_with_a_bad_config_fails_the_run_with_one_line(store):
    run_id = store.create_run({"kind": "milcheck", "head": "nope", "sampler": "random"}, kind="milcheck")
    with pytest.raises(ConfigError):
        milcheck.run_job(store, run_id, store.get_run(run_id).config)
    run = store.get_run(run_id)
    assert run.status == FAILED and "unknown head 'nope'" in run.error


def test_submitted_check_runs_in_a_worker_process(store):
    from weakneg import jobs

    run_id = milcheck.submit(store, quick("softmax_max"), ["poison"])
    (run,) = jobs.wait(store, [run_id], timeout_s=120)
    assert run.status == FINISHED, run.error
    assert run.kind == "milcheck" and run.result["tests"][0]["test"] == "poison"


def test_cli_json_and_errors(capsys):
    from weakneg.cli import main

    assert main(["milcheck", "--head", "softmax_max", "--test", "poison", "--seed", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (test,) = out["heads"]["softmax_max"]["tests"]
    assert test["test"] == "poison" and test["verdict"] == RESPECTS
    assert main(["milcheck", "--head", "nope"]) == 2
    assert capsys.readouterr().err.strip() == (
        "weakneg: error: unknown head 'nope'; choose one of: mean_softmax, softmax_mean, softmax_max, attention"
    )


def test_cli_all_heads_prints_the_verdict_table(capsys):
    from weakneg.cli import main

    assert main(["milcheck", "--head", "all", "--test", "poison", "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("verdicts (train AUC -> test AUC)") :]
    assert all(head in table for head in ("mean_softmax", "softmax_mean", "softmax_max", "attention"))
