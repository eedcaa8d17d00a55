"""The synthetic worlds of the MIL checks: the three test families (poison, threshold_poison,
false_frequency) as VectorBags, deterministic from a seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np

from ..data import VectorBags
from ..errors import ConfigError

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


TESTS: dict[str, MilTest] = {
    t.name: t
    for t in [
        MilTest(
            "poison",
            "single concept, poison swap",
            "positive iff the bag holds concept A",
            "the poison, seen only in negative training bags, used as negative evidence",
            "the poison",
            train=(_fixed(CONCEPT_A), _fixed(POISON)),
            test=(_fixed(CONCEPT_A, POISON), _fixed()),
            shortcut_kind=POISON,
        ),
        MilTest(
            "threshold_poison",
            "two concepts (threshold MIL), poison swap",
            "positive iff the bag holds concept A and concept B",
            "the poison, seen only in negative training bags, used as negative evidence",
            "the poison",
            train=(_fixed(CONCEPT_A, CONCEPT_B), _one_of((CONCEPT_A, POISON), (CONCEPT_B, POISON), (POISON,))),
            test=(_fixed(CONCEPT_A, CONCEPT_B, POISON), _one_of((CONCEPT_A,), (CONCEPT_B,), ())),
            shortcut_kind=POISON,
            positive_rule=lambda contents: (contents[:, CONCEPT_A] > 0) & (contents[:, CONCEPT_B] > 0),
        ),
        MilTest(
            "false_frequency",
            "single concept, distractor count swap",
            "positive iff the bag holds concept A (a distractor is in every bag)",
            "how many copies of the distractor a bag holds (its count, not its presence)",
            "the distractor's count",
            train=(_fixed(CONCEPT_A, *[DISTRACTOR] * RARE), _fixed(*[DISTRACTOR] * FREQUENT)),
            test=(_fixed(CONCEPT_A, *[DISTRACTOR] * FREQUENT), _fixed(*[DISTRACTOR] * RARE)),
            shortcut_kind=DISTRACTOR,
        ),
    ]
}


@dataclass(frozen=True)
class Sizes:
    """Bag counts. The training pool holds many more negatives than positives, as in weak-label data."""

    train_pos: int = 100
    train_neg: int = 500
    eval_pos: int = 200  # per evaluation set (held-out and swapped test), and as many negatives
    bag_size: int = 5


def make_test_bags(name: str, seed: int = 0, sizes: Sizes = Sizes()) -> TestBags:
    """The bags of one test, deterministic from (test, seed)."""
    test = get_test(name)
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
    return TestBags(
        name,
        train,
        heldout,
        swapped,
        clean,
        {"train": train_kinds, "heldout": heldout_kinds, "test": kinds, "clean": clean_kinds},
    )


def get_test(name: str) -> MilTest:
    if name not in TESTS:
        raise ConfigError(f"unknown MIL test {name!r}; choose one of: {', '.join(TESTS)}")
    return TESTS[name]
