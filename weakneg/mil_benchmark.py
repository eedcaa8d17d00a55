"""`benchmark-mil`: our heads on the classic MIL benchmarks, k-fold cross-validated, beside published figures.

Each (data set, head, fold) is one ordinary run (no store) of the trainer: Ilse et al. 2018's instance
embedding `mil_mlp` (256-128; or another vector model, e.g. the small `mlp`), Adam with their learning rate
and weight decay (5e-4 each), the head, the `full` sampler unless another is asked for (the balanced sets need
no negative sampling), tested on fold `fold` of `folds` stratified folds (data/mil.py). Reported per data
set and head: mean and standard deviation over folds of bag accuracy (threshold 0.5), AP and ROC AUC at the
last epoch.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np

from .config import RunConfig
from .data.mil import BENCHMARKS, PUBLISHED_SOURCE
from .errors import ConfigError
from . import threads
from .train import Experiment, prepare

__all__ = ["MilSettings", "PUBLISHED_SOURCE", "run_benchmark", "run_fold", "spread"]


@dataclass(frozen=True)
class MilSettings:
    datasets: tuple[str, ...] = ("musk1", "musk2", "elephant")
    heads: tuple[str, ...] = ("attention", "mean_softmax")
    samplers: tuple[str, ...] = ("full",)
    model: str = "mil_mlp"  # Ilse et al. 2018's 256-128 embedding: closer to their figures than `mlp` (64-32)
    folds: int = 10
    epochs: int = 40
    lr: float = 5e-4
    weight_decay: float = 5e-4  # Ilse et al.'s
    batch_size: int = 8
    pn_ratio: float = 0.5
    val_fraction: float = 0.0  # > 0 with patience: early stopping on a validation split of the training bags
    patience: int = 0
    seeds: tuple[int, ...] = (0,)
    sampler_params: dict = field(default_factory=dict)

    def check(self) -> MilSettings:
        unknown = sorted(set(self.datasets) - set(BENCHMARKS))
        if unknown:
            raise ConfigError(f"unknown MIL benchmark(s) {unknown}; choose from: {', '.join(BENCHMARKS)}")
        if self.folds < 2:
            raise ConfigError(f"--folds must be at least 2, got {self.folds}")
        for cfg in (
            self.config(d, h, s, 0, seed)
            for d in self.datasets
            for h in self.heads
            for s in self.samplers
            for seed in self.seeds[:1]
        ):
            cfg.validate()
        return self

    def config(self, dataset: str, head: str, sampler: str, fold: int, seed: int) -> RunConfig:
        return RunConfig(
            dataset=dataset,
            target_class=0,
            model=self.model,
            head=head,
            sampler=sampler,
            pn_ratio=self.pn_ratio,
            epochs=self.epochs,
            lr=self.lr,
            weight_decay=self.weight_decay,
            batch_size=self.batch_size,
            seed=seed,
            device="cpu",
            save_embeddings="none",
            val_fraction=self.val_fraction,
            patience=self.patience,
            dataset_options={"folds": self.folds, "fold": fold},
        )


def run_fold(cfg: RunConfig) -> dict[str, float]:
    """One run; the test accuracy, AP and AUC of its last epoch (or of its best validation epoch)."""
    experiment = Experiment(cfg, prepare(cfg), None, None)
    with threads.small_models():
        result = experiment.run()
        log_probs, _, _ = experiment.forward_all(experiment.test_bags, np.arange(len(experiment.test_bags)))
    predicted = (log_probs[:, 1].exp() > 0.5).long().cpu().numpy()
    final = result.final  # the best validation epoch when stopping early (its weights are restored), else the last
    return {
        "accuracy": float((predicted == experiment.test_bags.labels).mean()),
        "ap": final["ap"],
        "auc": final["auc"],
    }


def spread(values: list[float]) -> tuple[float, float]:
    """(mean, standard deviation) over the finite values."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return math.nan, math.nan
    return statistics.fmean(finite), statistics.pstdev(finite) if len(finite) > 1 else 0.0


def run_benchmark(settings: MilSettings, log: Callable[[str], None] = lambda line: None) -> list[dict]:
    """One row per (data set, head, sampler): mean and spread of each metric over folds (and seeds)."""
    settings.check()
    rows = []
    for dataset in settings.datasets:
        for head in settings.heads:
            for sampler in settings.samplers:
                folds = [
                    run_fold(settings.config(dataset, head, sampler, fold, seed))
                    for seed in settings.seeds
                    for fold in range(settings.folds)
                ]
                row = {
                    "dataset": dataset,
                    "head": head,
                    "sampler": sampler,
                    "runs": len(folds),
                    "published_accuracy": BENCHMARKS[dataset][2],
                }
                for metric in ("accuracy", "ap", "auc"):
                    row[metric], row[f"{metric}_sd"] = spread([f[metric] for f in folds])
                rows.append(row)
                log(
                    f"{dataset} {head} {sampler}: accuracy {row['accuracy']:.3f} ± {row['accuracy_sd']:.3f}, "
                    f"AP {row['ap']:.3f} ± {row['ap_sd']:.3f}, AUC {row['auc']:.3f} ± {row['auc_sd']:.3f}"
                )
    return rows
