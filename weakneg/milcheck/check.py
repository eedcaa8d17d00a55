"""Running a MIL check: the settings, training on each test with the engine (`Experiment`), the
per-test result, and the helpers that summarise results (overall word, verdict table)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import numpy as np

from ..config import RunConfig
from ..data import LoadedBags, VectorBags
from ..errors import ConfigError
from ..metrics import bag_metrics
from .verdict import INCONCLUSIVE, RESPECTS, VIOLATES, decide, explain, paired_auc_difference
from .worlds import TESTS, Sizes, get_test, make_test_bags

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
        return RunConfig(
            dataset=f"milcheck:{test}",
            target_class=1,
            sampler=self.sampler,
            sampler_params=dict(self.sampler_params),
            pn_ratio=self.pn_ratio,
            epochs=self.epochs,
            bag_size=self.sizes.bag_size,
            model=self.model,
            head=self.head,
            lr=self.lr,
            seed=self.seed,
            device="cpu",
            save_embeddings="none",
        )

    def validate(self) -> CheckSettings:
        from ..models import HEADS, MODELS, models_for
        from ..samplers import get_sampler

        if self.head not in HEADS:
            raise ConfigError(f"unknown head {self.head!r}; choose one of: {', '.join(HEADS)}")
        if self.model not in MODELS or MODELS[self.model].modality != "vector":
            raise ConfigError(
                f"MIL checks use feature-vector bags: model must be one of "
                f"{', '.join(models_for('vector'))}, got {self.model!r}"
            )
        get_sampler(self.sampler).check_params(self.sampler_params)
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise ConfigError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if self.sizes.bag_size < 5:
            raise ConfigError(f"bag_size must be >= 5 for the MIL tests, got {self.sizes.bag_size}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "head": self.head,
            "sampler": self.sampler,
            "sampler_params": dict(self.sampler_params),
            "model": self.model,
            "seed": self.seed,
            "epochs": self.epochs,
            "lr": self.lr,
            "pn_ratio": self.pn_ratio,
            "sizes": vars(self.sizes).copy(),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CheckSettings:
        values = dict(values)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known - {"kind", "tests", "dataset"})
        if unknown:
            raise ConfigError(f"unknown MIL check setting(s) {unknown}; known: {sorted(known)}")
        sizes = Sizes(**values.pop("sizes", {}))
        return cls(sizes=sizes, **{k: v for k, v in values.items() if k in known and k != "sizes"})


def run_test(name: str, settings: CheckSettings) -> dict[str, Any]:
    """Train the settings' model on one test with the real training loop; measure, decide, explain."""
    from .. import threads
    from ..train import Experiment

    test = get_test(name)
    bags = make_test_bags(name, settings.seed, settings.sizes)
    data = LoadedBags(f"milcheck:{name}", ["negative", "positive"], 1, bags.train, bags.test)
    experiment = Experiment(settings.validate().run_config(name), data, None, None)
    with threads.small_models():
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
    return {
        "test": name,
        "title": test.title,
        "rule": test.rule,
        "train_auc": train_auc,
        "clean_auc": clean_auc,
        "test_auc": test_auc,
        "drop": drop,
        "drop_se": drop_se,
        "tolerance": tolerance,
        "shortcut_effect": shortcut_effect,
        "verdict": verdict,
        "explanation": explain(test, verdict, train_auc, test_auc, shortcut_effect),
    }


def _positive_probs(experiment, bags: VectorBags) -> np.ndarray:
    log_probs, _, _ = experiment.forward_all(bags, np.arange(len(bags)))
    return log_probs[:, 1].exp().double().cpu().numpy()


def run_checks(
    settings: CheckSettings, tests: list[str] | None = None, on_test: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """All (or the named) tests for one head and sampler: {"settings": ..., "tests": [per-test dicts]}."""
    settings.validate()
    names = list(tests or TESTS)
    for name in names:
        get_test(name)
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
