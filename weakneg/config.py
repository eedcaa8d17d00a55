"""RunConfig: everything that defines one run, validated with messages a person can act on."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError
from .targets import is_multilabel, multilabel_targets

SAVE_EMBEDDINGS = ("all", "last", "none")
DEVICES = ("auto", "cpu", "cuda")
MAX_EPOCHS = 100_000  # more is a typo, not an experiment (and would hold a worker for months)
MAX_BAG_SIZE = 10_000
MAX_BATCH_SIZE = 1_000_000  # bags per step; more than any data set here holds (torch overflows near 2**63)
MAX_LR = 10.0  # Adam's step is about lr per weight: above this training diverges at once (1e300 overflows float32)


@dataclass
class RunConfig:
    dataset: str = "digits"
    target_class: int | str | list = 0  # one class (binary run); "all", "a,b" or a list: one multi-label run
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
        _at_least("batch_size", self.batch_size, 1, MAX_BATCH_SIZE)
        _at_least("seed", self.seed, 0, 2**32 - 1)
        _at_least("patience", self.patience, 0)
        _at_least("max_instances", self.max_instances, 0)
        _positive("lr", self.lr, "e.g. 1e-3")
        if self.lr > MAX_LR:
            raise ConfigError(f"lr must be <= {MAX_LR:g} (e.g. 1e-3), got {self.lr!r}")
        if (
            isinstance(self.weight_decay, bool)
            or not isinstance(self.weight_decay, (int, float))
            or not (0 <= self.weight_decay < math.inf)
        ):
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if is_multilabel(self.target_class):
            check_multilabel(self)
        elif self.sampler == "adaptive_multilabel" and self.sampler_params.get("scope", "negatives") != "negatives":
            raise ConfigError(
                "sampler 'adaptive_multilabel': scope batches or both draws a multi-label run's batches; a binary run "
                "takes scope negatives (or run every class at once: target_class all)"
            )
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
        and isinstance(dataset, str)
        and dataset in DATASETS
        and "download" not in DATASETS[dataset].options
    ):
        return {**values, "dataset_options": {k: v for k, v in options.items() if k != "download"}}
    return values


def parse_value(text: str) -> Any:
    """A value a person typed: JSON when it parses (numbers, true/false, null), an empty field is null, a
    bracketed list of unquoted names (`[tumor, normal]`) a list, else text."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):  # [tumor, normal]: a list of unquoted names
        inner = stripped[1:-1].strip()
        return [_unquoted(parse_value(part.strip())) for part in inner.split(",")] if inner else []
    return text


def _unquoted(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


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


def check_multilabel(cfg: RunConfig) -> None:
    """A multi-label run's own rules (its target names classes, once each; one way to draw batches), each refused
    with the fix."""
    targets = multilabel_targets(cfg.target_class)
    if targets is not None and not targets:
        raise ConfigError(
            f"target_class {cfg.target_class!r} names no class; choose at least one: 'all', one class, or classes "
            "joined by commas"
        )
    if targets is not None and len(set(map(str, targets))) != len(targets):
        raise ConfigError(f"target_class {cfg.target_class!r} names a class twice; name each class once")
    params = cfg.sampler_params or {}
    if (
        cfg.weighted_sampling
        and cfg.sampler == "adaptive_multilabel"
        and params.get("scope", "negatives") != "negatives"
    ):
        raise ConfigError(
            "weighted_sampling and adaptive_multilabel's scope batches/both both draw the training batches; "
            "choose one (e.g. --sampler-param scope=negatives)"
        )


def negatives_per_epoch(n_positive: int, pn_ratio: float, pool_size: int, sampler: str = "random") -> int:
    """k = round(n_pos / r), capped at the pool size (docs/definitions.md); the whole pool for a sampler that
    takes it (`full`)."""
    from .samplers import get_sampler

    if get_sampler(sampler).whole_pool:
        return pool_size
    if pn_ratio <= 0:
        raise ConfigError(f"pn_ratio must be > 0, got {pn_ratio}")
    return int(min(round(n_positive / pn_ratio), pool_size))


def negatives_warning(n_positive: int, pn_ratio: float, pool_size: int, sampler: str = "random") -> str | None:
    """A warning when k covers the whole pool: every epoch then trains on every negative, whatever the sampler
    picks (the `full` sampler takes the whole pool by definition: no warning)."""
    from .samplers import get_sampler

    k = negatives_per_epoch(n_positive, pn_ratio, pool_size, sampler)
    if get_sampler(sampler).whole_pool or k < pool_size or pool_size == 0:
        return None
    wanted = round(n_positive / pn_ratio)
    fix = (  # k <= pool - 1 needs n_pos / r < pool - 0.5
        f"raise the P-N ratio above {n_positive / (pool_size - 0.5):.3g} to select"
        if pool_size > 1
        else "the pool holds one negative: there is nothing to select"
    )
    return (
        f"k = {k} is the whole pool of {pool_size:,} negatives (round({n_positive} / {pn_ratio:g}) = {wanted:,}): "
        f"every epoch trains on every negative, so the sampler {sampler!r} has no effect; {fix}"
    )


def check_negatives(n_positive: int, pn_ratio: float, pool_size: int, sampler: str = "random") -> int:
    """k, or ConfigError when a run could not train on anything (no positive bags, or no negatives per epoch)."""
    if n_positive == 0:
        raise ConfigError("the target class has no positive training bags; choose another class or more data")
    k = negatives_per_epoch(n_positive, pn_ratio, pool_size, sampler)
    if k == 0:
        raise ConfigError(
            "no negatives per epoch: the pool is empty"
            if pool_size == 0
            else f"no negatives per epoch: k = round({n_positive} / {pn_ratio:g}) = 0; lower the P-N ratio "
            f"(below {2 * n_positive:,} gives k >= 1)"
        )
    return k


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
