"""The launch form's choices and its live counts, computed from the real bags (cached per bag layout)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from ..config import RunConfig, check_negatives, negatives_warning
from ..data import DATASETS, LoadedBags, dataset_status, load_bags, resolve_root
from ..data.making import READY, Progress
from ..models import MODELS, models_for as models_for_modality

BAG_FIELDS = (
    "dataset",
    "target_class",
    "bag_size",
    "seed",
    "max_instances",
    "val_fraction",
    "dataset_options",
    "data_root",
)  # everything that changes which bags a run has


@dataclass(frozen=True)
class LaunchCounts:
    n_pos: int
    pool: int
    k: int
    warning: str | None = None  # k covers the whole pool: the sampler has no effect (config.negatives_warning)
    classes: tuple[ClassCounts, ...] = ()  # a multi-label run: each class's counts (n_pos, pool, k: their sums)

    @property
    def text(self) -> str:
        if not self.classes:
            return f"{self.n_pos:,} positive bags, {self.k:,} of {self.pool:,} negatives per epoch"
        return (
            f"one model for {len(self.classes)} class(es); per class {_span(c.n_pos for c in self.classes)} positive "
            f"bags and {_span(c.k for c in self.classes)} of {_span(c.pool for c in self.classes)} negatives per "
            "epoch (its negatives: the bags without it)"
        )


@dataclass(frozen=True)
class ClassCounts:
    name: str
    n_pos: int
    pool: int
    k: int


def _span(values) -> str:
    low, high = min(values := list(values)), max(values)
    return f"{low:,}" if low == high else f"{low:,}-{high:,}"


def dataset_choices(data_root: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """(datasets ready now: name -> description, datasets missing: name -> how to get them)."""
    status = dataset_status(data_root)
    ready = {name: DATASETS[name].description for name, message in status.items() if message is None}
    missing = {name: message for name, message in status.items() if message is not None}
    return ready, missing


def models_for(dataset: str) -> dict[str, str]:
    """Models that accept the dataset's modality: name -> description."""
    return {name: MODELS[name].description for name in models_for_modality(DATASETS[dataset].modality)}


def _bag_key(cfg: RunConfig) -> str:
    """The bag layout, with the data folder resolved: two homes (or two tests) never share an entry."""
    values = {**cfg.to_dict(), "data_root": str(resolve_root(cfg.data_root).resolve())}
    return json.dumps({name: values[name] for name in BAG_FIELDS}, sort_keys=True, default=str)


@lru_cache(maxsize=16)
def _cached_bags(key: str) -> LoadedBags:
    return load_bags(RunConfig(**json.loads(key)))


def bags_for(cfg: RunConfig) -> LoadedBags:
    """The run's bags, rebuilt deterministically from its config and kept for the next call with the same layout."""
    return _cached_bags(_bag_key(cfg))


def launch_counts(cfg: RunConfig) -> LaunchCounts:
    """Positive bags, negatives per epoch and pool size of a config (raises ConfigError / DatasetMissing, and
    ConfigError for a run with k = 0, as `jobs.submit` would), with the warning a run taking the whole pool gets."""
    bags = bags_for(cfg)
    if bags.multilabel:
        return _class_counts(cfg, bags)
    n_pos = int((bags.train.labels == 1).sum())
    pool = int((bags.train.labels == 0).sum())
    k = check_negatives(n_pos, cfg.pn_ratio, pool, cfg.sampler)
    return LaunchCounts(n_pos, pool, k, negatives_warning(n_pos, cfg.pn_ratio, pool, cfg.sampler))


def multilabel_target(chosen: list[str], names: list[str]) -> str:
    """The form's chosen classes as a run's target_class: `all`, or their positions joined by commas ("3," for one
    class alone; positions, since a name may hold a comma). Nothing chosen: ",", which the config refuses."""
    if chosen and set(chosen) == set(names):
        return "all"
    positions = [str(names.index(name)) for name in chosen]
    return ",".join(positions) + ("," if len(positions) <= 1 else "")


def _class_counts(cfg: RunConfig, bags: LoadedBags) -> LaunchCounts:
    """A multi-label run's counts, class by class (k = 0 for any class refused, naming it)."""
    from ..train import class_negatives, sampler_warnings  # torch: only when a multi-label form asks

    classes = tuple(ClassCounts(*counts) for counts in class_negatives(cfg, bags))
    total = {name: sum(getattr(c, name) for c in classes) for name in ("n_pos", "pool", "k")}
    return LaunchCounts(**total, warning="; ".join(sampler_warnings(cfg, bags)) or None, classes=classes)


def grid_warnings(configs: list[RunConfig]) -> list[str]:
    """The Sweeps form's check of every run in a grid against its bags (cached per bag layout, as the Launch form's
    counts): ConfigError for a run with k = 0, else the distinct warnings (k reaching the whole pool). A grid of
    more bag layouts than the cache holds is left to the launch (`sweep.check_data`), so a redraw stays quick."""
    cached = _cached_bags.cache_info().maxsize
    if cached is not None and len({_bag_key(cfg) for cfg in configs}) > cached:
        return []
    warnings = []
    for cfg in configs:
        warning = launch_counts(cfg).warning
        if warning and warning not in warnings:
            warnings.append(warning)
    return warnings


def data_preparation(cfg: RunConfig) -> Progress | None:
    """None when the run's data can be loaded now; else how their first-use preparation (soundscapes: generating
    the clips and their features) stands. Reads files only: making them is a person's choice
    (`start_data_preparation`), never a side effect of choosing a dataset."""
    spec = DATASETS[cfg.dataset]
    if spec.preparation is None:
        return None
    progress = spec.preparation(cfg.dataset_options)
    return None if progress.state == READY else progress


def start_data_preparation(cfg: RunConfig, retry: bool = False) -> Progress | None:
    """Start making the run's data in a background thread (unless ready or being made by anyone)."""
    prepare = DATASETS[cfg.dataset].prepare_in_background
    return None if prepare is None else prepare(cfg.dataset_options, retry)


def dataset_options_help(dataset: str) -> str:
    """The dataset's declared options, one per line, for the form's help."""
    declared = DATASETS[dataset].options
    if not declared:
        return f"{dataset} has no dataset options."
    return "\n".join(f"- `{option.line(name)}`" for name, option in declared.items())
