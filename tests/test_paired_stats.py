"""Paired statistics on stores whose truth is known, and every number checked against scipy/statsmodels directly."""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from weakneg import comparison, paired_stats
from weakneg.paired_stats import BETTER, NO_DIFFERENCE, TOO_FEW, WORSE

from compare_support import record, truth_store


def _compare(store, metric="ap"):
    return paired_stats.compare(comparison.runs_frame(store), metric)


def test_a_truly_better_sampler_is_better_in_every_class(store):
    result = _compare(truth_store(store, effect=0.05))
    classes, samplers = result["classes"], result["samplers"]
    assert len(classes) == 10 and set(classes["verdict"]) == {BETTER}
    row = samplers.iloc[0]
    assert row["sampler"] == "badge(label=predicted)" and row["verdict"] == BETTER
    assert row["better"] == 10 and row["worse"] == 0 and row["classes"] == 10
    assert row["ci_low"] > 0.04 and row["ci_high"] < 0.06
    assert row["summary"] == "better in 10, worse in 0, no detectable difference in the rest, of 10 classes"
    assert result["notice"] is None and result["unpaired_runs"] == []


def test_nothing_different_gives_no_detectable_difference(store):
    result = _compare(truth_store(store, effect=0.0, rng_seed=1))
    assert (result["classes"]["verdict"] == NO_DIFFERENCE).sum() >= 9
    row = result["samplers"].iloc[0]
    assert row["verdict"] == NO_DIFFERENCE and row["ci_low"] < 0 < row["ci_high"]


def test_a_truly_worse_sampler_is_worse(store):
    result = _compare(truth_store(store, effect=-0.05, classes=4))
    assert set(result["classes"]["verdict"]) == {WORSE} and result["samplers"].iloc[0]["verdict"] == WORSE


@pytest.mark.parametrize(
    "p_values", [[0.01, 0.04, 0.03, 0.005], [0.2, 0.2, 0.01], [0.6, 0.9, 0.4, 0.7], [0.03], [0.0, 1.0, 0.5, 0.5, 0.001]]
)
def test_holm_matches_statsmodels(p_values):
    assert paired_stats.holm(np.array(p_values)) == pytest.approx(multipletests(p_values, method="holm")[1])


def test_holm_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.02, 0.03, 0.06, 0.06
    assert paired_stats.holm(np.array([0.01, 0.04, 0.03, 0.005])).tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_numbers_match_scipy_and_statsmodels(store):
    truth_store(store, effect=0.01, classes=4, seeds=5, seed_sd=0.01, rng_seed=3)
    frame = comparison.runs_frame(store)
    result = paired_stats.compare(frame, "auc")
    runs = frame.set_index(["sampler", "target_class", "seed"])["auc"]
    p_values, means = [], []
    for cls in range(4):
        mine = np.array([runs[("badge", cls, s)] for s in range(5)])
        base = np.array([runs[("random", cls, s)] for s in range(5)])
        d = mine - base
        test = stats.ttest_rel(mine, base)
        interval = test.confidence_interval(0.95)
        row = result["classes"].set_index("target_class").loc[cls]
        assert row["delta_mean"] == pytest.approx(d.mean())
        assert row["ci_low"] == pytest.approx(interval.low) and row["ci_high"] == pytest.approx(interval.high)
        assert row["p_value"] == pytest.approx(test.pvalue) and row["n_seeds"] == 5
        p_values.append(test.pvalue)
        means.append(d.mean())
    holm = multipletests(p_values, method="holm")[1]
    assert result["classes"].sort_values("target_class")["p_adjusted"].to_numpy() == pytest.approx(holm)
    means = np.array(means)
    row = result["samplers"].iloc[0]
    assert row["mean_delta"] == pytest.approx(means.mean())
    assert row["sign_test_p"] == pytest.approx(stats.binomtest(int((means > 0).sum()), 4).pvalue)
    assert row["wilcoxon_p"] == pytest.approx(stats.wilcoxon(means).pvalue)
    # pooled SD by hand: every class has 5 seeds, so it is the root of the mean per-class variance
    per_class_var = [
        np.var([runs[("badge", c, s)] - runs[("random", c, s)] for s in range(5)], ddof=1) for c in range(4)
    ]
    sd = math.sqrt(np.mean(per_class_var))
    assert row["pooled_sd"] == pytest.approx(sd)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert row["seeds_needed_0.01"] == max(2, math.ceil((z * sd / 0.01) ** 2))
    assert row["seeds_needed_0.02"] == max(2, math.ceil((z * sd / 0.02) ** 2))


def test_seeds_needed_by_hand():
    # z_0.975 + z_0.8 = 1.959964 + 0.841621 = 2.801585; sd 0.01, delta 0.01 -> 7.849 -> 8; delta 0.02 -> 1.96 -> 2
    assert paired_stats.seeds_needed(0.01, 0.01) == 8 and paired_stats.seeds_needed(0.01, 0.02) == 2
    assert paired_stats.seeds_needed(0.03, 0.01) == 71  # (2.801585 * 3)^2 = 70.64 -> 71
    assert paired_stats.seeds_needed(0.001, 0.02) == 2  # 0.0196 -> 1, but a paired test needs 2
    assert paired_stats.seeds_needed(float("nan"), 0.01) is None


def test_hierarchical_bootstrap_is_seeded_and_covers_the_mean():
    per_class = [np.array([0.01, 0.03, 0.02]), np.array([0.05, 0.04]), np.array([0.0, 0.02, 0.01, 0.03])]
    first = paired_stats.hierarchical_bootstrap(per_class, np.random.default_rng(7))
    assert first == paired_stats.hierarchical_bootstrap(per_class, np.random.default_rng(7))
    mean = np.mean([d.mean() for d in per_class])
    assert first[0] < mean < first[1]
    assert first[0] >= 0.0 and first[1] <= 0.05  # every resampled mean lies within the values' range
    one = paired_stats.hierarchical_bootstrap([np.array([0.02, 0.02])], np.random.default_rng(0))
    assert one == pytest.approx((0.02, 0.02))


def test_one_seed_gives_too_few_seeds(store):
    for cls in range(3):
        record(store, "random", cls, 0, 0.5)
        record(store, "badge", cls, 0, 0.9)
    result = _compare(store)
    assert set(result["classes"]["verdict"]) == {TOO_FEW}
    assert result["classes"]["p_value"].isna().all() and result["classes"]["ci_low"].isna().all()
    row = result["samplers"].iloc[0]
    assert row["verdict"] == TOO_FEW and row["too_few_seeds"] == 3 and row["seeds_needed_0.01"] is None


def test_different_bag_sizes_and_sampler_params_are_never_paired(store):
    for seed in (0, 1, 2):
        record(store, "random", 0, seed, 0.5, bag_size=5)
        record(store, "random", 0, seed, 0.5, bag_size=10)
        record(store, "badge", 0, seed, 0.6 + seed / 100, bag_size=5)
        record(store, "badge", 0, seed, 0.9, bag_size=10, sampler_params={"label": "known"})
        record(store, "badge", 0, seed, 0.1, bag_size=10, sampler_params={"label": "predicted"})
    record(store, "grad_norm", 0, 7, 0.7, bag_size=5)  # seed 7 has no random run
    frame = comparison.runs_frame(store)
    result = paired_stats.compare(frame)
    assert result["notice"].startswith("2 settings among these runs: bag_size 10 vs 5.")
    assert {s["setting"]: s["differs"] for s in result["settings"]} == {
        "digits (bag_size=5)": {"bag_size": 5},
        "digits (bag_size=10)": {"bag_size": 10},
    }
    classes = result["classes"].set_index(["setting", "sampler"])
    small = classes.loc[("digits (bag_size=5)", "badge(label=predicted)")]
    assert small["delta_mean"] == pytest.approx(0.11) and small["n_seeds"] == 3
    assert classes.loc[("digits (bag_size=10)", "badge(label=known)"), "delta_mean"] == pytest.approx(0.4)
    assert classes.loc[("digits (bag_size=10)", "badge(label=predicted)"), "delta_mean"] == pytest.approx(-0.4)
    assert len(result["deltas"]) == 9  # 3 samplers-with-params x 3 seeds, each with its own setting's random
    lone = frame.loc[frame["sampler"] == "grad_norm", "id"].tolist()
    assert result["unpaired_runs"] == lone


def test_empty_store_has_empty_tables(store):
    result = _compare(store)
    assert result["classes"].empty and result["samplers"].empty and result["settings"] == []
    assert result["notice"] is None and result["unpaired_runs"] == []


def test_one_class_uses_its_t_interval_and_few_pairs_give_no_overall_verdict(store):
    record(store, "random", 0, 0, 0.50)
    record(store, "random", 0, 1, 0.60)
    record(store, "badge", 0, 0, 0.507)  # deltas +0.007, +0.009: same sign, but two seeds
    record(store, "badge", 0, 1, 0.609)
    result = _compare(store)
    row, cls = result["samplers"].iloc[0], result["classes"].iloc[0]
    interval = stats.ttest_1samp([0.007, 0.009], 0).confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((interval.low, interval.high))
    assert row["verdict"] == cls["verdict"] == NO_DIFFERENCE  # a bootstrap over 2 seeds would have said better
    record(store, "random", 1, 0, 0.50)
    record(store, "random", 1, 1, 0.60)
    record(store, "badge", 1, 0, 0.505)
    record(store, "badge", 1, 1, 0.61)
    row = _compare(store)["samplers"].iloc[0]
    assert row["ci_low"] > 0 and row["verdict"] == TOO_FEW  # 4 same-signed differences: no overall verdict yet
