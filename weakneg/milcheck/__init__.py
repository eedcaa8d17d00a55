"""Does a bag model respect the multiple-instance (MIL) assumption? Algorithmic unit tests.

After Raff & Holt, "Reproducibility in Multiple Instance Learning: A Case For Algorithmic Unit
Tests" (NeurIPS 2023). Under the standard MIL assumption a bag is positive if and only if it holds a
positive instance: evidence is only ever *positive*. No instance can make a bag "more negative".
Each test builds synthetic bags of Gaussian feature vectors (our own generator, written from the
paper's description) in which a shortcut that a MIL-respecting model cannot use is available at
training time and reversed at test time:

- `poison`: one concept decides the label; a "poison" instance sits in every negative training
  bag and, at test time, in every positive bag instead. Using it means using negative evidence.
- `threshold_poison`: positive needs *both* concepts A and B (threshold / presence-based MIL);
  negatives hold A alone, B alone or neither; the same poison swap.
- `false_frequency`: one concept decides the label; a distractor instance sits in *every* bag,
  but many copies in negative training bags and one in positive ones; at test time the counts
  swap. Presence cannot use it; only counting can.

The poison and the distractor are far from everything else (easy to learn); the concepts overlap
the background (harder), so a model that can take the shortcut does.

Decision rule (`decide`): each test is scored three ways. *Train AUC*: held-out bags drawn like the
training bags (did the model learn the task? below MIN_FIT_AUC it cannot be judged). *Test AUC*: the
swapped test bags. *Clean AUC*: the very same test bags with every shortcut instance replaced by a
background one. A MIL-respecting model takes no evidence from the shortcut instances (they are never
positive evidence), so putting them into the bags cannot reorder the bags: test AUC ~ clean AUC. We
call it a violation when the test AUC falls below the clean AUC by more than `max(MIN_DROP, Z * SE)`
(SE: DeLong's standard error of the difference of two paired AUCs); below 0.5 the model ranks positives *under*
negatives. The paired mean change of a positive test bag's probability caused by the shortcut
(test minus clean) says what the model learned.

The package, one job per module: `worlds` (the synthetic test families), `verdict` (the decision
rule), `check` (settings, training on each test, summaries), `jobs` (the worker entry `run_job` and
the store-facing helpers), `here` (checks in the server's own process for a read-only demo: one at a time,
results kept by settings). Every name is re-exported here: `weakneg.milcheck.X` keeps working,
and jobs.JOB_KINDS["milcheck"] names "weakneg.milcheck:run_job".
"""

from __future__ import annotations

from .check import CheckSettings, format_cell, overall, run_checks, run_test, verdict_table
from .here import BUSY_MESSAGE, Busy, keep_result, kept_result, run_here
from .jobs import active_checks, job_config, latest_results, run_job, submit
from .verdict import INCONCLUSIVE, MIN_DROP, MIN_FIT_AUC, RESPECTS, VIOLATES, Z, decide, explain, paired_auc_difference
from .worlds import (
    BACKGROUND,
    CENTRES,
    CONCEPT_A,
    CONCEPT_B,
    DIM,
    DISTRACTOR,
    FREQUENT,
    KINDS,
    POISON,
    RARE,
    SPREADS,
    TESTS,
    Composition,
    MilTest,
    Sizes,
    TestBags,
    make_test_bags,
)

__all__ = [
    # worlds
    "KINDS",
    "BACKGROUND",
    "CONCEPT_A",
    "CONCEPT_B",
    "POISON",
    "DISTRACTOR",
    "DIM",
    "CENTRES",
    "SPREADS",
    "FREQUENT",
    "RARE",
    "TestBags",
    "Composition",
    "MilTest",
    "TESTS",
    "Sizes",
    "make_test_bags",
    # verdict
    "MIN_FIT_AUC",
    "MIN_DROP",
    "Z",
    "RESPECTS",
    "VIOLATES",
    "INCONCLUSIVE",
    "paired_auc_difference",
    "decide",
    "explain",
    # check
    "CheckSettings",
    "run_test",
    "run_checks",
    "overall",
    "verdict_table",
    "format_cell",
    # in the server's process, one at a time, results kept
    "Busy",
    "BUSY_MESSAGE",
    "run_here",
    "kept_result",
    "keep_result",
    # jobs
    "job_config",
    "run_job",
    "submit",
    "active_checks",
    "latest_results",
]
