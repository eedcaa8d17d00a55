"""Paired statistics on stores whose truth is known, and every number checked against scipy/statsmodels directly."""

import math

import numpy as np
import pytest
from scipy import stats
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower, ttest_power

from weakneg import claims, comparison, paired_stats
from weakneg.paired_stats import BETTER, NO_DIFFERENCE, TOO_FEW, TOO_FEW_CLASSES, WORSE

from compare_support import record, truth_store


def _compare(store, metric="ap"):
    return paired_stats.compare(comparison.runs_frame(store), metric)


def test_a_truly_better_sampler_is_better_in_every_class(store):
    result = _compare(truth_store(store, effect=0.05))
    classes, samplers = result["classes"], result["samplers"]
    assert len(classes) == 10 and set(classes["verdict"]) == {BETTER}
    row = samplers.iloc[0]
    assert row["sampler"] == "badge(label=predicted)"
    assert row["these_classes_verdict"] == row["new_classes_verdict"] == BETTER  # 10 classes: both claims decide
    assert row["better"] == 10 and row["worse"] == 0 and row["classes"] == 10
    for claim in ("these_classes", "new_classes"):
        assert row[f"{claim}_ci_low"] > 0.04 and row[f"{claim}_ci_high"] < 0.06
    assert row["summary"] == "better in 10, worse in 0, no detectable difference in the rest, of 10 classes"
    assert result["notice"] is None and result["unpaired_runs"] == []


def test_nothing_different_gives_no_detectable_difference(store):
    result = _compare(truth_store(store, effect=0.0, rng_seed=1))
    assert (result["classes"]["verdict"] == NO_DIFFERENCE).sum() >= 9
    row = result["samplers"].iloc[0]
    for claim in ("these_classes", "new_classes"):
        assert row[f"{claim}_verdict"] == NO_DIFFERENCE and row[f"{claim}_ci_low"] < 0 < row[f"{claim}_ci_high"]


def test_a_truly_worse_sampler_is_worse(store):
    result = _compare(truth_store(store, effect=-0.05, classes=4))
    row = result["samplers"].iloc[0]
    assert set(result["classes"]["verdict"]) == {WORSE} and row["these_classes_verdict"] == WORSE
    assert row["new_classes_verdict"] == TOO_FEW_CLASSES and row["new_classes_p"] < 0.05  # 4 classes: no claim


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
    assert row["these_classes_mean_delta"] == row["new_classes_mean_delta"] == pytest.approx(means.mean())
    new = stats.ttest_1samp(means, 0.0)
    assert row["new_classes_p"] == pytest.approx(new.pvalue) and row["new_classes_df"] == 3
    interval = new.confidence_interval(0.95)
    assert (row["new_classes_ci_low"], row["new_classes_ci_high"]) == pytest.approx((interval.low, interval.high))
    # 4 classes: a sign test or Wilcoxon cannot go below 2^(1-4) = 0.125, so neither is shown, the floor is
    assert math.isnan(row["sign_test_p"]) and math.isnan(row["wilcoxon_p"]) and row["rank_test_floor"] == 0.125
    # pooled SD by hand: every class has 5 seeds, so it is the root of the mean per-class variance
    per_class_var = [
        np.var([runs[("badge", c, s)] - runs[("random", c, s)] for s in range(5)], ddof=1) for c in range(4)
    ]
    sd = math.sqrt(np.mean(per_class_var))
    assert row["pooled_sd"] == pytest.approx(sd)
    for effect in (0.01, 0.02):  # the these-classes claim's own power: noncentral t, df 4 (n - 1), 20 pairs
        n = row[f"seeds_needed_{effect}"]
        assert ttest_power(effect / sd, nobs=4 * n, alpha=0.05, df=4 * (n - 1)) >= 0.8
        assert n == 2 or ttest_power(effect / sd, nobs=4 * (n - 1), alpha=0.05, df=4 * (n - 2)) < 0.8
        # one class's Holm verdict: the paired t at 0.05 / 4 (Holm's strictest step)
        needed = TTestPower().solve_power(effect / sd, alpha=0.05 / 4, power=0.8)
        assert row[f"seeds_per_class_{effect}"] == max(2, math.ceil(needed))


def test_these_classes_matches_a_cell_means_regression():
    """The these-classes claim equals statsmodels' OLS of d on class indicators (no intercept), tested on the
    contrast 'mean of the class coefficients = 0': the pooled within-class variance, unequal seeds included."""
    per_class = [np.array([0.01, 0.03, 0.02]), np.array([0.05, 0.04]), np.array([0.0, 0.02, 0.01, 0.03])]
    d = np.zeros((3, 4))
    present = np.zeros((3, 4), dtype=bool)
    for i, values in enumerate(per_class):
        d[i, : len(values)], present[i, : len(values)] = values, True
    claim = claims.these_classes(d, present)
    y = np.concatenate(per_class)
    x = np.repeat(np.eye(3), [len(v) for v in per_class], axis=0)
    test = sm.OLS(y, x).fit().t_test(np.full((1, 3), 1 / 3))
    assert float(claim.mean) == pytest.approx(float(test.effect[0]))
    assert float(claim.p) == pytest.approx(float(test.pvalue))
    assert (float(claim.low), float(claim.high)) == pytest.approx(tuple(test.conf_int(0.05)[0]))
    assert int(claim.df) == 6  # 9 seeds - 3 class means


def test_seeds_needed_is_statsmodels_ttest_power():
    for sd, effect in [(0.01, 0.01), (0.03, 0.01), (0.02, 0.02), (0.005, 0.01)]:
        expected = max(2, math.ceil(TTestPower().solve_power(effect / sd, alpha=0.05, power=0.8)))
        assert paired_stats.claims.seeds_needed(sd, effect) == expected
    # sd 0.01, delta 0.01: the normal approximation said 8; the paired t needs 10 (power 0.75 at 9)
    assert paired_stats.claims.seeds_needed(0.01, 0.01) == 10
    assert paired_stats.claims.seeds_needed(float("nan"), 0.01) is None


def test_rank_tests_are_shown_only_where_they_can_decide(store):
    truth_store(store, effect=0.02, classes=6, seeds=3, rng_seed=4)
    result = _compare(store)
    means = result["classes"].sort_values("target_class")["delta_mean"].to_numpy()
    row = result["samplers"].iloc[0]
    assert row["sign_test_p"] == pytest.approx(stats.binomtest(int((means > 0).sum()), 6).pvalue)
    assert row["wilcoxon_p"] == pytest.approx(stats.wilcoxon(means).pvalue)
    assert row["rank_test_floor"] == pytest.approx(2**-5)


def test_one_seed_gives_too_few_seeds(store):
    for cls in range(3):
        record(store, "random", cls, 0, 0.5)
        record(store, "badge", cls, 0, 0.9)
    result = _compare(store)
    assert set(result["classes"]["verdict"]) == {TOO_FEW}
    assert result["classes"]["p_value"].isna().all() and result["classes"]["ci_low"].isna().all()
    row = result["samplers"].iloc[0]
    assert row["these_classes_verdict"] == TOO_FEW and row["too_few_seeds"] == 3 and row["seeds_needed_0.01"] is None
    assert row["new_classes_verdict"] == TOO_FEW_CLASSES


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


def test_one_class_uses_its_t_interval_and_two_classes_use_the_pooled_t(store):
    record(store, "random", 0, 0, 0.50)
    record(store, "random", 0, 1, 0.60)
    record(store, "badge", 0, 0, 0.507)  # deltas +0.007, +0.009: same sign, but two seeds
    record(store, "badge", 0, 1, 0.609)
    result = _compare(store)
    row, cls = result["samplers"].iloc[0], result["classes"].iloc[0]
    interval = stats.ttest_1samp([0.007, 0.009], 0).confidence_interval(0.95)
    assert (row["these_classes_ci_low"], row["these_classes_ci_high"]) == pytest.approx((interval.low, interval.high))
    assert row["these_classes_verdict"] == cls["verdict"] == NO_DIFFERENCE  # a bootstrap would have said better
    record(store, "random", 1, 0, 0.50)
    record(store, "random", 1, 1, 0.60)
    record(store, "badge", 1, 0, 0.505)
    record(store, "badge", 1, 1, 0.61)
    row = _compare(store)["samplers"].iloc[0]
    # by hand: class variances 2e-6 and 1.25e-5 pool to 7.25e-6 (df 2); se = sqrt(7.25e-6 (1/2 + 1/2)) / 2
    se = math.sqrt(7.25e-6) / 2
    assert row["these_classes_mean_delta"] == pytest.approx(0.00775)
    assert row["these_classes_p"] == pytest.approx(2 * stats.t.sf(0.00775 / se, 2))
    assert row["these_classes_verdict"] == BETTER and row["new_classes_verdict"] == TOO_FEW_CLASSES


def test_power_far_in_the_tail_is_never_nan():
    """scipy's noncentral t returns NaN for large noncentrality with few df (Fashion-MNIST AUC: class SD 0.0053,
    Δ 0.02 asked for 7 classes, Δ 0.01 for 5); power there is all but 1, and the counts fall as the effect grows."""
    assert float(claims.new_power(0.02, 0.0052878, 5)) > 0.99
    counts = [claims.classes_needed(0.0052878, e) for e in (0.005, 0.01, 0.02, 0.05)]
    assert counts == sorted(counts, reverse=True) and counts[-1] == claims.MIN_CLASSES
    seeds = [claims.seeds_needed(0.001, e, 4) for e in (0.001, 0.01, 0.1)]
    assert seeds == sorted(seeds, reverse=True) and seeds[-1] == 2
