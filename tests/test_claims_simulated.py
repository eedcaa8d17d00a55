"""Every decision rule of `compare`, checked by simulation over 2-10 classes x 2-10 seeds: false positives at
most 5% plus four simulation standard errors (10,000 stores per design: 5% + 0.9%) under no effect and under class
effects that cancel; planted effects found with the power the tool predicts (within four standard errors of a
binomial rate, plus 0.01 for the predicted curve's own rounding); the seeds and classes it asks for deliver 80%."""

import numpy as np
import pytest

from weakneg import claims, comparison, paired_stats

from compare_support import record
from claims_simulation import (
    CLASSES,
    SEEDS,
    SIMS,
    bound,
    class_verdicts,
    differences,
    new_rate,
    peeking_rate,
    these_rate,
)

DESIGNS = [(c, s) for c in CLASSES for s in SEEDS]


def _tolerance(p: float, sims: int = SIMS) -> float:
    return 4 * np.sqrt(p * (1 - p) / sims) + 0.01


@pytest.mark.parametrize("classes, seeds", DESIGNS)
def test_no_effect_gives_at_most_5_percent_decisions(classes, seeds):
    rng = np.random.default_rng(classes * 100 + seeds)
    d = differences(rng, classes, seeds)
    assert these_rate(d) <= bound()
    assert new_rate(d) <= bound()
    assert class_verdicts(d).any(-1).mean() <= bound()  # Holm: any class called better or worse


@pytest.mark.parametrize("classes, seeds", DESIGNS)
def test_class_effects_that_cancel_give_at_most_5_percent(classes, seeds):
    rng = np.random.default_rng(1000 + classes * 100 + seeds)
    # class effects twice the seed noise, averaging exactly zero over the classes compared: "these classes" are
    # on average no better, and a population of such classes has mean zero too
    cancelling = differences(rng, classes, seeds, class_sd=2.0, cancel=True)
    assert these_rate(cancelling) <= bound()
    assert new_rate(cancelling) <= bound()
    # class effects drawn from a population of mean zero (not centred): the new-classes claim's null
    drawn = differences(rng, classes, seeds, class_sd=2.0)
    assert new_rate(drawn) <= bound()


def test_the_harness_catches_a_claim_read_the_wrong_way():
    """The these-classes t applied to new classes (class effects drawn, mean zero in the population) decides far
    more than 5%: the simulation would have caught the old unnamed overall verdict's mix-up."""
    d = differences(np.random.default_rng(5), 4, 4, class_sd=1.0)
    assert these_rate(d) > 0.3


@pytest.mark.parametrize("classes, seeds", DESIGNS)
def test_planted_effects_are_found_with_the_predicted_power(classes, seeds):
    rng = np.random.default_rng(2000 + classes * 100 + seeds)
    effect = 0.6  # in seed SDs: powers from ~10% to ~100% over these designs
    predicted = float(claims.these_power(effect, 1.0, classes, seeds))
    assert abs(these_rate(differences(rng, classes, seeds, effect=effect)) - predicted) <= _tolerance(predicted)
    class_sd = 0.5  # the new-classes claim: class effects vary around the effect
    spread = np.sqrt(class_sd**2 + 1.0 / seeds)  # SD of a class mean
    predicted = float(claims.new_power(1.0, spread, classes))
    found = new_rate(differences(rng, classes, seeds, effect=1.0, class_sd=class_sd))
    assert abs(found - predicted) <= _tolerance(predicted)


@pytest.mark.parametrize("sd, effect, classes", [(0.02, 0.01, 1), (0.02, 0.01, 4), (0.01, 0.01, 2), (0.05, 0.02, 6)])
def test_the_seeds_the_tool_asks_for_give_80_percent(sd, effect, classes):
    rng = np.random.default_rng(int(sd * 1000) + classes)
    n = claims.seeds_needed(sd, effect, classes)
    found = these_rate(differences(rng, classes, n, effect=effect, seed_sd=sd))
    assert found >= 0.8 - _tolerance(0.8)
    if n > 2:  # one seed fewer would not do
        assert float(claims.these_power(effect, sd, classes, n - 1)) < 0.8
    per_class = claims.seeds_per_class(sd, effect, max(classes, 2))
    hits = class_verdicts(differences(rng, max(classes, 2), per_class, effect=effect, seed_sd=sd))
    assert hits[:, 0].mean() >= 0.8 - _tolerance(0.8)  # each class's own Holm verdict, Holm accounted for


def test_too_few_classes_below_five_is_where_even_a_consistent_effect_is_missed():
    """MIN_CLASSES: with class effects whose mean is twice their spread (almost every class improves), the
    new-classes t over 4 classes finds it less than 80% of the time; over 5, more than 80%."""
    rng = np.random.default_rng(11)
    rates = {c: new_rate(differences(rng, c, 5, effect=2.0, class_sd=1.0, seed_sd=1e-9)) for c in (4, 5)}
    assert rates[4] < 0.8 <= rates[5] and claims.MIN_CLASSES == 5
    assert claims.new_verdict(1.0, 0.001, 4) == claims.TOO_FEW_CLASSES
    assert claims.new_verdict(1.0, 0.001, 5) == claims.BETTER


def test_peeking_after_every_added_seed_inflates_false_positives():
    """Why the Compare page warns: looking after each seed from 2 to 10 and stopping at the first decision
    calls a null sampler better or worse far more often than 5%."""
    d = differences(np.random.default_rng(13), 4, 10)
    assert peeking_rate(d) > 0.12 and these_rate(d) <= bound()


def test_classes_with_unequal_seed_noise_stay_near_5_percent():
    """The pooled t assumes one seed SD for all classes. With SDs spread fourfold across classes it errs in at most
    9% of null stores (2 classes x 2 seeds, the worst design), nearer 5% with more classes or seeds: documented in
    docs/definitions.md."""
    rng = np.random.default_rng(17)
    rates = {(c, s): these_rate(differences(rng, c, s, seed_sd_spread=4.0)) for c, s in DESIGNS}
    assert max(rates.values()) <= bound(0.09)
    assert rates[(10, 10)] <= bound()


def test_a_simulated_comparison_through_a_real_store_gives_the_same_claims(store):
    """End to end: one simulated comparison (5 classes x 3 seeds, class effects that cancel) written as finished
    runs to SQLite and read back by `compare` gives exactly what the simulation's arrays give."""
    d = differences(np.random.default_rng(23), 5, 3, sims=1, class_sd=0.02, seed_sd=0.01, cancel=True)[0]
    for cls in range(5):
        for seed in range(3):
            record(store, "random", cls, seed, 0.5)
            record(store, "badge", cls, seed, 0.5 + float(d[cls, seed]))
    row = paired_stats.compare(comparison.runs_frame(store))["samplers"].iloc[0]
    for name, claim in (("these_classes", claims.these_classes(d)), ("new_classes", claims.new_classes(d))):
        assert row[f"{name}_mean_delta"] == pytest.approx(float(claim.mean), abs=1e-12)
        assert row[f"{name}_p"] == pytest.approx(float(claim.p), rel=1e-9)
        assert row[f"{name}_ci_low"] == pytest.approx(float(claim.low), abs=1e-12)
    assert row["new_classes_verdict"] in (claims.NO_DIFFERENCE, claims.BETTER, claims.WORSE)  # 5 classes: decides
