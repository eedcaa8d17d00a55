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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .config import RunConfig
from .data import LoadedBags, VectorBags
from .errors import ConfigError, RunCancelled
from .metrics import bag_metrics

# --- the synthetic world -------------------------------------------------------------------------

KINDS = ("background", "concept_a", "concept_b", "poison", "distractor")
BACKGROUND, CONCEPT_A, CONCEPT_B, POISON, DISTRACTOR = range(len(KINDS))
DIM = 8
# Concepts sit 3 standard deviations from the background along their own axis (they overlap it:
# learnable, not trivial); the poison and the distractor sit far away with a tight spread (trivial).
CENTRES = np.zeros((len(KINDS), DIM))
CENTRES[CONCEPT_A, 0] = 3.0
CENTRES[CONCEPT_B, 1] = 3.0
CENTRES[POISON, 2] = 6.0
CENTRES[DISTRACTOR, 3] = 6.0
SPREADS = np.array([1.0, 1.0, 1.0, 0.5, 0.5])
FREQUENT, RARE = 3, 1  # distractor copies per bag in the false-frequency test


@dataclass
class TestBags:
    """One test's bags: training, held-out bags of the training distribution, the swapped test, and the
    same test bags with every shortcut instance replaced by background (`clean`: nothing to key on)."""

    name: str
    train: VectorBags
    heldout: VectorBags
    test: VectorBags
    clean: VectorBags
    kinds: dict[str, np.ndarray]  # split -> (B, bag_size) instance kinds, for analysis and tests only


def _bag_kinds(composition: list[int], bag_size: int, rng: np.random.Generator) -> np.ndarray:
    """The instance kinds of one bag: the given ones, padded with background, shuffled."""
    if len(composition) > bag_size:
        raise ConfigError(f"bag_size {bag_size} is too small for this MIL test (needs {len(composition)}); use >= 5")
    kinds = np.array(composition + [BACKGROUND] * (bag_size - len(composition)), dtype=np.int64)
    return rng.permutation(kinds)


def _draw(kinds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gaussian feature vectors for an array of instance kinds."""
    noise = rng.standard_normal(kinds.shape + (DIM,))
    return (CENTRES[kinds] + SPREADS[kinds][..., None] * noise).astype(np.float32)


def _bags(kinds: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> VectorBags:
    """VectorBags from per-bag instance kinds (B, n); contents counts each kind per bag."""
    n_bags, bag_size = kinds.shape
    contents = np.zeros((n_bags, len(KINDS)), dtype=np.int16)
    np.add.at(contents, (np.repeat(np.arange(n_bags), bag_size), kinds.ravel()), 1)
    points = _draw(kinds.ravel(), rng)
    return VectorBags(points, np.arange(n_bags * bag_size).reshape(n_bags, bag_size), labels, contents)


# Each test is: (positive composition, negative composition) per phase; a composition is a function of the
# rng giving the non-background kinds of one bag. "train" also describes the held-out bags.
Composition = Callable[[np.random.Generator], list[int]]


def _fixed(*kinds: int) -> Composition:
    return lambda rng: list(kinds)


def _one_of(*options: tuple[int, ...]) -> Composition:
    return lambda rng: list(options[int(rng.integers(len(options)))])


@dataclass(frozen=True)
class MilTest:
    name: str
    title: str
    rule: str  # the labelling rule, in words
    shortcut: str  # what a model that violates the assumption keys on
    shortcut_name: str  # the same, in two or three words
    train: tuple[Composition, Composition]  # (positive bag, negative bag)
    test: tuple[Composition, Composition]
    shortcut_kind: int  # the instance kind whose placement changes between train and test
    positive_rule: Callable[[np.ndarray], np.ndarray] = field(default=lambda contents: contents[:, CONCEPT_A] > 0)


TESTS: dict[str, MilTest] = {t.name: t for t in [
    MilTest("poison", "single concept, poison swap",
            "positive iff the bag holds concept A",
            "the poison, seen only in negative training bags, used as negative evidence", "the poison",
            train=(_fixed(CONCEPT_A), _fixed(POISON)), test=(_fixed(CONCEPT_A, POISON), _fixed()), shortcut_kind=POISON),
    MilTest("threshold_poison", "two concepts (threshold MIL), poison swap",
            "positive iff the bag holds concept A and concept B",
            "the poison, seen only in negative training bags, used as negative evidence", "the poison",
            train=(_fixed(CONCEPT_A, CONCEPT_B), _one_of((CONCEPT_A, POISON), (CONCEPT_B, POISON), (POISON,))),
            test=(_fixed(CONCEPT_A, CONCEPT_B, POISON), _one_of((CONCEPT_A,), (CONCEPT_B,), ())), shortcut_kind=POISON,
            positive_rule=lambda contents: (contents[:, CONCEPT_A] > 0) & (contents[:, CONCEPT_B] > 0)),
    MilTest("false_frequency", "single concept, distractor count swap",
            "positive iff the bag holds concept A (a distractor is in every bag)",
            "how many copies of the distractor a bag holds (its count, not its presence)", "the distractor's count",
            train=(_fixed(CONCEPT_A, *[DISTRACTOR] * RARE), _fixed(*[DISTRACTOR] * FREQUENT)),
            test=(_fixed(CONCEPT_A, *[DISTRACTOR] * FREQUENT), _fixed(*[DISTRACTOR] * RARE)), shortcut_kind=DISTRACTOR),
]}


@dataclass(frozen=True)
class Sizes:
    """Bag counts. The training pool holds many more negatives than positives, as in weak-label data."""

    train_pos: int = 100
    train_neg: int = 500
    eval_pos: int = 200  # per evaluation set (held-out and swapped test), and as many negatives
    bag_size: int = 5


def make_test_bags(name: str, seed: int = 0, sizes: Sizes = Sizes()) -> TestBags:
    """The bags of one test, deterministic from (test, seed)."""
    test = _get_test(name)
    rng = np.random.default_rng([seed, list(TESTS).index(name)])

    def split(phase: tuple[Composition, Composition], n_pos: int, n_neg: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.permutation(np.repeat([1, 0], [n_pos, n_neg]))
        kinds = np.stack([_bag_kinds(phase[0 if y else 1](rng), sizes.bag_size, rng) for y in labels])
        return kinds, labels

    train_kinds, train_labels = split(test.train, sizes.train_pos, sizes.train_neg)
    heldout_kinds, heldout_labels = split(test.train, sizes.eval_pos, sizes.eval_pos)
    train, heldout = _bags(train_kinds, train_labels, rng), _bags(heldout_kinds, heldout_labels, rng)
    kinds, labels = split(test.test, sizes.eval_pos, sizes.eval_pos)
    clean_kinds = np.where(kinds == test.shortcut_kind, BACKGROUND, kinds)
    swapped = _bags(kinds, labels, rng)
    clean = _bags(clean_kinds, labels, rng)
    # Pair the two sets: the same instances wherever nothing was replaced, so their difference is the shortcut's.
    kept = (kinds == clean_kinds).ravel()
    clean.points[kept] = swapped.points[kept]
    clean = VectorBags(clean.points, clean.members, clean.labels, clean.contents)
    return TestBags(name, train, heldout, swapped, clean,
                    {"train": train_kinds, "heldout": heldout_kinds, "test": kinds, "clean": clean_kinds})


def _get_test(name: str) -> MilTest:
    if name not in TESTS:
        raise ConfigError(f"unknown MIL test {name!r}; choose one of: {', '.join(TESTS)}")
    return TESTS[name]


# --- the decision rule ----------------------------------------------------------------------------

MIN_FIT_AUC = 0.8  # below this on held-out training-distribution bags the model has not learned the task
MIN_DROP = 0.05  # smallest AUC drop we call a violation, however many bags
Z = 3.0  # standard errors of the paired AUC difference that a drop must exceed (one-sided p ~ 0.001)

RESPECTS, VIOLATES, INCONCLUSIVE = "respects", "violates", "inconclusive"


def _placement_values(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's structural components: for each positive, the fraction of negatives it outscores (ties
    count half); for each negative, the fraction of positives that outscore it. Their means are the AUC."""
    positives, negatives = scores[labels == 1], scores[labels == 0]
    sorted_neg, sorted_pos = np.sort(negatives), np.sort(positives)
    below = np.searchsorted(sorted_neg, positives, "left") + np.searchsorted(sorted_neg, positives, "right")
    above = (2 * len(positives) - np.searchsorted(sorted_pos, negatives, "left")
             - np.searchsorted(sorted_pos, negatives, "right"))
    return below / (2.0 * len(negatives)), above / (2.0 * len(positives))


def paired_auc_difference(labels: np.ndarray, scores_a: np.ndarray, scores_b: np.ndarray) -> tuple[float, float]:
    """(AUC_a - AUC_b, its standard error) for two scorings of the same bags (DeLong et al. 1988)."""
    labels = np.asarray(labels)
    pos_a, neg_a = _placement_values(labels, np.asarray(scores_a, dtype=np.float64))
    pos_b, neg_b = _placement_values(labels, np.asarray(scores_b, dtype=np.float64))
    difference = pos_a.mean() - pos_b.mean()
    variance = np.var(pos_a - pos_b, ddof=1) / len(pos_a) + np.var(neg_a - neg_b, ddof=1) / len(neg_a)
    return float(difference), float(math.sqrt(max(variance, 0.0)))


def decide(train_auc: float, drop: float, drop_se: float) -> tuple[str, float]:
    """(verdict, tolerance).

    inconclusive: the model did not fit the training distribution (held-out AUC < MIN_FIT_AUC).
    violates: the swapped-test AUC is below the clean AUC (the same bags, shortcut instances made
    background) by more than max(MIN_DROP, Z * SE), SE from DeLong's paired test. A MIL-respecting model
    takes no evidence from the shortcut instances, so putting them into the bags cannot reorder them.
    MIN_DROP keeps tiny, real but harmless effects from counting: a shortcut instance *replaces* a
    background one, which can lower a max-pooled bag whose maximum was that background instance.
    """
    tolerance = max(MIN_DROP, Z * drop_se)
    if not train_auc >= MIN_FIT_AUC:
        return INCONCLUSIVE, tolerance
    return (VIOLATES if drop > tolerance else RESPECTS), tolerance


def explain(test: MilTest, verdict: str, train_auc: float, test_auc: float, shortcut_effect: float) -> str:
    """One line on what the model learned."""
    if verdict == INCONCLUSIVE:
        return (f"did not learn the training task '{test.rule}' (held-out AUC {train_auc:.3f} < {MIN_FIT_AUC}; "
                f"too few epochs, or the head cannot represent the rule): the test cannot judge it")
    effect = f"the shortcut moves a positive test bag's probability by {shortcut_effect:+.2f} on average"
    if verdict == RESPECTS:
        return f"learned the rule '{test.rule}' and ignored {test.shortcut_name}; {effect}"
    inverted = " and ranks positives below negatives" if test_auc < 0.5 else ""
    return f"keys on {test.shortcut}{inverted}; {effect}"


# --- running a check ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckSettings:
    """What a check trains: the head, sampler and model under test, and a short, fixed schedule."""

    head: str = "mean_softmax"
    sampler: str = "random"
    sampler_params: dict[str, Any] = field(default_factory=dict)
    model: str = "mlp"
    seed: int = 0
    epochs: int = 20
    lr: float = 1e-2  # max pooling stalls in a few seeds out of eight at 3e-3 in 20 epochs; none does at 1e-2
    pn_ratio: float = 0.5
    sizes: Sizes = Sizes()

    def run_config(self, test: str) -> RunConfig:
        # The dataset name is descriptive only: in-memory bags skip the dataset registry.
        return RunConfig(dataset=f"milcheck:{test}", target_class=1, sampler=self.sampler,
                         sampler_params=dict(self.sampler_params), pn_ratio=self.pn_ratio, epochs=self.epochs,
                         bag_size=self.sizes.bag_size, model=self.model, head=self.head, lr=self.lr, seed=self.seed,
                         device="cpu", save_embeddings="none")

    def validate(self) -> "CheckSettings":
        from .models import HEADS, MODELS
        from .samplers import get_sampler

        if self.head not in HEADS:
            raise ConfigError(f"unknown head {self.head!r}; choose one of: {', '.join(HEADS)}")
        if self.model not in MODELS or MODELS[self.model].modality != "vector":
            vector = [m.name for m in MODELS.values() if m.modality == "vector"]
            raise ConfigError(f"MIL checks use feature-vector bags: model must be one of {', '.join(vector)}, "
                              f"got {self.model!r}")
        get_sampler(self.sampler).check_params(self.sampler_params)
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise ConfigError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if self.sizes.bag_size < 5:
            raise ConfigError(f"bag_size must be >= 5 for the MIL tests, got {self.sizes.bag_size}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"head": self.head, "sampler": self.sampler, "sampler_params": dict(self.sampler_params),
                "model": self.model, "seed": self.seed, "epochs": self.epochs, "lr": self.lr, "pn_ratio": self.pn_ratio,
                "sizes": vars(self.sizes).copy()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "CheckSettings":
        values = dict(values)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known - {"kind", "tests", "dataset"})
        if unknown:
            raise ConfigError(f"unknown MIL check setting(s) {unknown}; known: {sorted(known)}")
        sizes = Sizes(**values.pop("sizes", {}))
        return cls(sizes=sizes, **{k: v for k, v in values.items() if k in known and k != "sizes"})


def run_test(name: str, settings: CheckSettings) -> dict[str, Any]:
    """Train the settings' model on one test with the real training loop; measure, decide, explain."""
    from .train import Experiment, one_torch_thread

    test = _get_test(name)
    bags = make_test_bags(name, settings.seed, settings.sizes)
    data = LoadedBags(f"milcheck:{name}", ["negative", "positive"], 1, bags.train, bags.test)
    experiment = Experiment(settings.validate().run_config(name), data, None, None)
    with one_torch_thread():
        result = experiment.run()
    if result.status != "finished":
        raise RuntimeError(f"MIL test {name} training {result.status}: {result.error}")
    train_auc = experiment.evaluate(bags.heldout)["auc"]
    clean_probs = _positive_probs(experiment, bags.clean)
    test_probs = _positive_probs(experiment, bags.test)
    labels = bags.test.labels
    clean_auc, test_auc = bag_metrics(labels, clean_probs)["auc"], bag_metrics(labels, test_probs)["auc"]
    drop, drop_se = paired_auc_difference(labels, clean_probs, test_probs)
    shortcut_effect = float((test_probs - clean_probs)[labels == 1].mean())
    verdict, tolerance = decide(train_auc, drop, drop_se)
    return {"test": name, "title": test.title, "rule": test.rule, "train_auc": train_auc, "clean_auc": clean_auc,
            "test_auc": test_auc, "drop": drop, "drop_se": drop_se, "tolerance": tolerance,
            "shortcut_effect": shortcut_effect, "verdict": verdict,
            "explanation": explain(test, verdict, train_auc, test_auc, shortcut_effect)}


def _positive_probs(experiment, bags: VectorBags) -> np.ndarray:
    log_probs, _, _ = experiment.forward_all(bags, np.arange(len(bags)))
    return log_probs[:, 1].exp().double().cpu().numpy()


def run_checks(settings: CheckSettings, tests: list[str] | None = None,
               on_test: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """All (or the named) tests for one head and sampler: {"settings": ..., "tests": [per-test dicts]}."""
    settings.validate()
    names = list(tests or TESTS)
    for name in names:
        _get_test(name)
    results = []
    for name in names:
        results.append(run_test(name, settings))
        if on_test:
            on_test(results[-1])
    return {"settings": settings.to_dict(), "tests": results}


def overall(results: list[dict[str, Any]]) -> str:
    """One word for a head: violates if any test says so; respects if every judged test does."""
    verdicts = {r["verdict"] for r in results}
    if VIOLATES in verdicts:
        return VIOLATES
    return RESPECTS if RESPECTS in verdicts else INCONCLUSIVE


# --- as a job -----------------------------------------------------------------------------------

def job_config(settings: CheckSettings, tests: list[str] | None = None) -> dict[str, Any]:
    """The stored config of a MIL-check job (dataset/head/sampler/seed are shown in run lists)."""
    return {**settings.to_dict(), "kind": "milcheck", "dataset": "milcheck", "tests": list(tests or TESTS)}


def run_job(store, run_id: int, config: dict[str, Any]) -> None:
    """Worker entry (jobs.JOB_KINDS["milcheck"]): run the checks, keep partial results, store the result."""
    from .store import CANCELLED, FAILED, FINISHED

    try:
        settings = CheckSettings.from_dict(config).validate()
    except ConfigError as error:
        store.finish_run(run_id, FAILED, error=str(error))
        raise
    tests = config.get("tests") or list(TESTS)
    store.start_run(run_id, target_name="MIL assumption", epochs_total=len(tests))
    done: list[dict[str, Any]] = []

    def on_test(result: dict[str, Any]) -> None:
        done.append(result)
        store.update_run(run_id, epochs_done=len(done), result={"settings": settings.to_dict(), "tests": done})
        if store.cancel_requested(run_id):
            raise RunCancelled(f"MIL check {run_id} was cancelled")

    try:
        result = run_checks(settings, tests, on_test)
    except RunCancelled:
        store.finish_run(run_id, CANCELLED, error="cancelled by the user; finished tests are kept",
                         result={"settings": settings.to_dict(), "tests": done})
        return
    store.finish_run(run_id, FINISHED, result=result)


def submit(store, settings: CheckSettings, tests: list[str] | None = None) -> int:
    """Validate, then queue a MIL-check job and start it when a worker slot is free."""
    from .jobs import submit_job

    settings.validate()
    for name in tests or []:
        _get_test(name)
    return submit_job("milcheck", job_config(settings, tests), store)


def active_checks(store) -> list[dict[str, Any]]:
    """MIL-check jobs still queued or running, newest first."""
    from .store import ACTIVE

    return store.list_runs(kind="milcheck", status=list(ACTIVE))


def latest_results(store, sampler: str | None = None, seed: int | None = None) -> dict[str, dict[str, Any]]:
    """The newest finished MIL-check result per head (optionally for one sampler / seed): head -> result."""
    from .store import FINISHED

    filters: dict[str, Any] = {"kind": "milcheck", "status": FINISHED}
    if sampler is not None:
        filters["sampler"] = sampler
    if seed is not None:
        filters["seed"] = seed
    latest: dict[str, dict[str, Any]] = {}
    for run in store.list_runs(**filters):  # newest first
        if run["head"] not in latest and run["result"]:
            latest[run["head"]] = {**run["result"], "run_id": run["id"]}
    return latest


def verdict_table(results_by_head: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows (one per test) with one column per head: 'verdict (train AUC -> test AUC)'."""
    names = [n for n in TESTS if any(t["test"] == n for r in results_by_head.values() for t in r["tests"])]
    rows = []
    for name in names:
        row: dict[str, Any] = {"test": TESTS[name].title}
        for head, result in results_by_head.items():
            found = [t for t in result["tests"] if t["test"] == name]
            row[head] = format_cell(found[0]) if found else "-"
        rows.append(row)
    return rows


def format_cell(result: dict[str, Any]) -> str:
    return f"{result['verdict']} ({result['train_auc']:.3f} -> {result['test_auc']:.3f})"
