"""RunConfig: everything that defines one run, validated with messages a person can act on."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError

SAVE_EMBEDDINGS = ("all", "last", "none")
DEVICES = ("auto", "cpu", "cuda")
MAX_EPOCHS = 100_000  # more is a typo, not an experiment (and would hold a worker for months)
MAX_BAG_SIZE = 10_000


@dataclass
class RunConfig:
    dataset: str = "digits"
    target_class: int | str = 0
    sampler: str = "random"
    sampler_params: dict[str, Any] = field(default_factory=dict)
    pn_ratio: float = 0.5
    epochs: int = 10
    resample_every: int = 1
    bag_size: int = 5
    model: str = "simple_cnn"
    head: str = "mean_softmax"
    lr: float = 1e-3
    weight_decay: float = 5e-7
    batch_size: int = 32
    seed: int = 0
    device: str = "auto"
    val_fraction: float = 0.0
    patience: int = 0  # epochs without validation improvement before stopping; 0 = never stop early
    augment: bool = False
    weighted_sampling: bool = False
    max_instances: int = 0  # cap instances per split (0 = all): quick looks at large datasets
    save_embeddings: str = "all"  # gradient embeddings of the pool to the artifacts folder
    dataset_options: dict[str, Any] = field(default_factory=dict)
    data_root: str | None = None

    def validate(self) -> RunConfig:
        """Check every field that does not need the data; raise ConfigError naming the fix."""
        from .data import DATASETS
        from .models import HEADS, MODELS, check_model_fits
        from .samplers import get_sampler

        _one_of("dataset", self.dataset, DATASETS)
        DATASETS[self.dataset].check_options(self.dataset_options)
        _one_of("model", self.model, MODELS)
        _one_of("head", self.head, HEADS)
        check_model_fits(self.model, DATASETS[self.dataset].modality, self.dataset)
        _one_of("device", self.device, DEVICES)
        _one_of("save_embeddings", self.save_embeddings, SAVE_EMBEDDINGS)
        get_sampler(self.sampler).check_params(self.sampler_params)
        _positive("pn_ratio", self.pn_ratio, "e.g. 0.5 for two negatives per positive")
        _at_least("epochs", self.epochs, 1, MAX_EPOCHS)
        _at_least("resample_every", self.resample_every, 1)
        _at_least("bag_size", self.bag_size, 1, MAX_BAG_SIZE)
        _at_least("batch_size", self.batch_size, 1)
        _at_least("seed", self.seed, 0, 2**32 - 1)
        _at_least("patience", self.patience, 0)
        _at_least("max_instances", self.max_instances, 0)
        _positive("lr", self.lr, "e.g. 1e-3")
        if (
            isinstance(self.weight_decay, bool)
            or not isinstance(self.weight_decay, (int, float))
            or not (0 <= self.weight_decay < math.inf)
        ):
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.patience and not self.val_fraction:
            raise ConfigError("early stopping (patience > 0) needs a validation split: set val_fraction, e.g. 0.1")
        if self.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise ConfigError("device 'cuda' was asked for but no CUDA GPU is visible; use device 'auto' or 'cpu'")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        return from_known_fields(cls, without_stale_download(values), "config field")

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)


def without_stale_download(values: dict[str, Any]) -> dict[str, Any]:
    """Before datasets declared their options, `--download` stored `download: true` for any dataset, and those
    without files to fetch ignored it: such a stored run still resumes (the option is dropped, as it did nothing)."""
    from .data import DATASETS

    options, dataset = values.get("dataset_options"), values.get("dataset")
    if (
        isinstance(options, dict)
        and "download" in options
        and dataset in DATASETS
        and "download" not in DATASETS[dataset].options
    ):
        return {**values, "dataset_options": {k: v for k, v in options.items() if k != "download"}}
    return values


def parse_value(text: str) -> Any:
    """A value a person typed: JSON when it parses (numbers, true/false, null), an empty field is null, else text."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_pairs(pairs) -> dict[str, Any]:
    """KEY=VALUE strings (command line, forms) -> dict, values as `parse_value` reads them."""
    values = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected KEY=VALUE, got {pair!r}")
        values[key] = parse_value(raw)
    return values


def from_known_fields(cls, values: dict[str, Any], what: str):
    """Build a dataclass from a dict, naming any key it does not have."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown {what}(s) {unknown}; known: {sorted(known)}")
    return cls(**values)


def negatives_per_epoch(n_positive: int, pn_ratio: float, pool_size: int, sampler: str = "random") -> int:
    """k = round(n_pos / r), capped at the pool size (docs/definitions.md); the whole pool for a sampler that
    takes it (`full`)."""
    from .samplers import get_sampler

    if get_sampler(sampler).whole_pool:
        return pool_size
    if pn_ratio <= 0:
        raise ConfigError(f"pn_ratio must be > 0, got {pn_ratio}")
    return int(min(round(n_positive / pn_ratio), pool_size))


def check_negatives(n_positive: int, pool_size: int, pn_ratio: float, sampler: str = "random") -> int:
    """k for a run, refused (ConfigError) when the run could say nothing: with k = 0 the sampler never chooses a
    bag, every epoch trains on positives alone. The one rule the form, `run`, `submit` and sweeps all apply."""
    k = negatives_per_epoch(n_positive, pn_ratio, pool_size, sampler)
    if k == 0 and n_positive > 0 and pool_size > 0:
        raise ConfigError(
            f"pn_ratio {pn_ratio:g} gives 0 of {pool_size:,} negatives per epoch ({n_positive:,} positive bags / "
            f"{pn_ratio:g} rounds to 0), so the sampler never chooses a bag; use a pn_ratio below {2 * n_positive:,}, "
            f"e.g. 0.5 for two negatives per positive"
        )
    return k


def negatives_warning(n_positive: int, pool_size: int, pn_ratio: float, sampler: str = "random") -> str | None:
    """A warning when k reaches the whole pool (the run is valid, but every sampler then takes every negative, so
    it cannot tell samplers apart); None otherwise and for samplers that take the whole pool by design (`full`)."""
    from .samplers import get_sampler

    if get_sampler(sampler).whole_pool or pool_size == 0 or n_positive == 0 or round(n_positive / pn_ratio) < pool_size:
        return None
    fix = "choose sampler 'full'"
    if pool_size > 1:  # the smallest ratio (to 3 decimals, rounded up) that leaves k = pool - 1 or fewer
        fix = f"raise pn_ratio to {math.ceil(1000 * n_positive / (pool_size - 1)) / 1000:g} or more, or {fix}"
    return (
        f"k = {round(n_positive / pn_ratio):,} negatives per epoch ({n_positive:,} positive bags / pn_ratio "
        f"{pn_ratio:g}) reaches the whole pool of {pool_size:,}: every sampler takes all of them, so this run cannot "
        f"tell samplers apart; {fix}"
    )


def _one_of(name: str, value: Any, choices) -> None:
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}; choose one of: {', '.join(map(str, choices))}")


def _at_least(name: str, value: Any, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f">= {low} and <= {high:,}"
        raise ConfigError(f"{name} must be an integer {bounds}, got {value!r}")


def _positive(name: str, value: Any, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ConfigError(f"{name} must be a number > 0 and finite ({hint}), got {value!r}")
