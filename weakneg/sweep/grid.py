"""A sweep's grid: its settings (`SweepConfig`), their validation and expansion into runs, and small helpers
for reading grid values (`parse_numbers`) and naming sweeps and runs."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ..config import RunConfig, from_known_fields
from ..errors import ConfigError

BACKENDS = ("local", "ray")
CONFIRM_AT = 10_000  # grids this large need an explicit yes (`--yes`, or the app's checkbox)
POLL_S = 1.0  # seconds between a sweep driver's looks at its runs
ALL_CLASSES = "all"
# friendly plural names -> RunConfig fields (the CLI and the app speak in plurals)
ALIASES = {
    "classes": "target_class",
    "samplers": "sampler",
    "seeds": "seed",
    "pn_ratios": "pn_ratio",
    "heads": "head",
    "models": "model",
    "datasets": "dataset",
    "bag_sizes": "bag_size",
    "lrs": "lr",
}
RUN_FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))


class SweepTooLarge(ConfigError):
    """A grid of CONFIRM_AT runs or more was launched without confirmation."""


@dataclass
class SweepConfig:
    base: RunConfig = field(default_factory=RunConfig)
    grid: dict[str, Any] = field(default_factory=dict)  # RunConfig field (or alias) -> list of values
    backend: str = "local"
    retries: int = 1  # extra attempts for a failed run
    max_concurrent: int = 0  # runs at once; 0 = the backend's default (jobs.max_concurrent() / Ray's resources)
    num_cpus: float = 1.0  # Ray: resources per run
    num_gpus: float = 0.0
    address: str | None = None  # Ray cluster address; None = RAY_ADDRESS, else a local Ray
    # per sampler, its parameters in every run of it, e.g. {"badge": {"label": "known"}} (over base.sampler_params,
    # which all samplers share; old sweeps have only those)
    sampler_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    # one multi-label run per grid point for all the classes given (`all`: every class) instead of a run per class
    multilabel: bool = False

    def __post_init__(self):
        if isinstance(self.base, dict):
            self.base = RunConfig.from_dict(self.base)
        self.grid = {ALIASES.get(name, name): values for name, values in self.grid.items()}

    def validate(self) -> SweepConfig:
        """Check the sweep's own fields and the grid's shape (names, non-empty lists); values are checked by expand."""
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown backend {self.backend!r}; choose one of: {', '.join(BACKENDS)}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigError(f"retries must be an integer >= 0, got {self.retries!r}")
        if isinstance(self.max_concurrent, bool) or not isinstance(self.max_concurrent, int) or self.max_concurrent < 0:
            raise ConfigError(
                f"max_concurrent must be an integer >= 0 (0 = the backend's default), got {self.max_concurrent!r}"
            )
        for name, value in (("num_cpus", self.num_cpus), ("num_gpus", self.num_gpus)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                raise ConfigError(f"{name} must be a number >= 0 (fractions allowed, e.g. 0.5), got {value!r}")
        if self.num_cpus == 0 and self.num_gpus == 0:
            raise ConfigError("a run needs some resources: num_cpus or num_gpus must be > 0")
        if not isinstance(self.multilabel, bool):
            raise ConfigError(f"multilabel must be true or false, got {self.multilabel!r}")
        for name, values in self.grid.items():
            if name not in RUN_FIELDS:
                raise ConfigError(
                    f"unknown sweep field {name!r}; sweep over any of: {', '.join(RUN_FIELDS)} "
                    f"(or the plurals {', '.join(ALIASES)})"
                )
            if name == "target_class" and values == ALL_CLASSES:
                continue
            if not isinstance(values, (list, tuple)):
                raise ConfigError(f"sweep field {_plural(name)!r} needs a list of values, got {values!r}")
            if not values:
                raise ConfigError(
                    f"sweep field {_plural(name)!r} is an empty list; give at least one value "
                    f"(or leave it out to use the base value {getattr(self.base, name)!r})"
                )
            seen = [json.dumps(v, sort_keys=True, default=str) for v in values]
            if len(set(seen)) != len(seen):
                raise ConfigError(f"sweep field {_plural(name)!r} repeats a value: {list(values)}")
        self._check_sampler_params()
        return self

    def samplers(self) -> list[str]:
        """The samplers this sweep runs."""
        swept = self.grid.get("sampler")
        return list(swept) if isinstance(swept, (list, tuple)) else [self.base.sampler]

    def params_for(self, sampler: str) -> dict[str, Any]:
        """The sampler parameters of this sweep's runs of `sampler`, checked and normalised (ConfigError)."""
        from ..samplers import get_sampler

        return get_sampler(sampler).check_params({**self.base.sampler_params, **self.sampler_params.get(sampler, {})})

    def _check_sampler_params(self) -> None:
        from ..samplers import SAMPLERS

        if not isinstance(self.sampler_params, dict):
            raise ConfigError(
                f"sampler_params must map a sampler to its parameters, e.g. "
                f'{{"badge": {{"label": "known"}}}}, got {self.sampler_params!r}'
            )
        swept = self.samplers()
        for sampler, values in self.sampler_params.items():
            if sampler not in SAMPLERS:
                raise ConfigError(f"sampler_params: unknown sampler {sampler!r}; samplers: {', '.join(SAMPLERS)}")
            if sampler not in swept:
                raise ConfigError(
                    f"sampler_params gives parameters to {sampler!r}, which this sweep does not run "
                    f"(its samplers: {', '.join(map(str, swept))})"
                )
            if not isinstance(values, dict):
                raise ConfigError(f"sampler_params for {sampler!r} must be KEY: VALUE pairs, got {values!r}")
            self.params_for(sampler)

    def axes(self) -> dict[str, list]:
        """The grid with `classes: all` expanded to class indices (per dataset when datasets vary too)."""
        self.validate()
        axes = {name: list(values) for name, values in self.grid.items() if name != "target_class"}
        classes = self.grid.get("target_class", [self.base.target_class])
        if classes == ALL_CLASSES or (isinstance(classes, list) and ALL_CLASSES in classes):
            if classes != ALL_CLASSES and len(classes) > 1:
                raise ConfigError("classes: give either 'all' or a list of classes, not both")
            classes = ALL_CLASSES
        axes["target_class"] = classes
        return axes

    def size(self) -> int:
        """Number of runs in the grid (reads the datasets' class lists for `classes: all`)."""
        axes = self.axes()
        others = math.prod(len(v) for k, v in axes.items() if k not in ("target_class", "dataset"))
        total = 0
        for dataset in axes.get("dataset", [self.base.dataset]):
            total += len(self._targets(dataset, axes["target_class"])) * others
        return total

    def expand(self, confirm: bool = False) -> list[RunConfig]:
        """Every run of the grid, validated, classes resolved to indices. Raises ConfigError naming the fix;
        SweepTooLarge for CONFIRM_AT runs or more without `confirm`."""
        n = self.size()
        if n >= CONFIRM_AT and not confirm:
            raise SweepTooLarge(
                f"this grid has {n:,} runs (>= {CONFIRM_AT:,}); confirm to launch it "
                f"(--yes on the command line, the confirmation box in the app) or make it smaller"
            )
        axes = self.axes()
        datasets = axes.pop("dataset", [self.base.dataset])
        wanted_classes = axes.pop("target_class")
        names = list(axes)
        for name, values in axes.items():  # one clear message per bad value, before the product
            for value in values:
                own = name == "sampler" and value in self.sampler_params
                base = self.base.replace(sampler_params=self.params_for(value)) if own else self.base
                _check_value(base, name, value)
        configs = []
        for dataset in datasets:
            base = self.base.replace(dataset=dataset)
            _check_value(base, "dataset", dataset)
            for target in self._targets(dataset, wanted_classes):
                for combo in itertools.product(*(axes[n_] for n_ in names)):
                    cfg = base.replace(target_class=target, **dict(zip(names, combo)))
                    if cfg.sampler in self.sampler_params:
                        cfg = cfg.replace(sampler_params=self.params_for(cfg.sampler))
                    try:
                        configs.append(cfg.validate())
                    except ConfigError as error:
                        raise ConfigError(f"grid point {_describe(cfg, names)}: {error}") from None
        return configs

    def _targets(self, dataset: str, wanted) -> list[int | str]:
        """Each run's target_class: the classes one by one, or (multilabel) all of them in one run's target."""
        if not self.multilabel:
            return list(self._classes(dataset, wanted))
        if wanted == ALL_CLASSES:
            return [ALL_CLASSES]
        indices = list(map(str, self._classes(dataset, wanted)))
        return [",".join(indices) + ("," if len(indices) == 1 else "")]  # "3,": one class in a multi-label model

    def _classes(self, dataset: str, wanted) -> list[int]:
        from ..data import class_names, resolve_class

        names = class_names(dataset, self.base.data_root, self.base.dataset_options)
        if wanted == ALL_CLASSES:
            return list(range(len(names)))
        resolved = [resolve_class(names, c) for c in wanted]
        if len(set(resolved)) != len(resolved):
            raise ConfigError(f"classes {list(wanted)} name the same class twice")
        return resolved

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base.to_dict(),
            "grid": dict(self.grid),
            "backend": self.backend,
            "retries": self.retries,
            "max_concurrent": self.max_concurrent,
            "num_cpus": self.num_cpus,
            "num_gpus": self.num_gpus,
            "address": self.address,
            "sampler_params": {name: dict(values) for name, values in self.sampler_params.items()},
            "multilabel": self.multilabel,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SweepConfig:
        return from_known_fields(cls, values, "sweep setting")


def _plural(name: str) -> str:
    return next((alias for alias, field_name in ALIASES.items() if field_name == name), name)


def _describe(cfg: RunConfig, names: list[str]) -> str:
    return ", ".join(f"{n}={getattr(cfg, n)!r}" for n in ["dataset", "target_class", *names])


def _check_value(base: RunConfig, name: str, value: Any) -> None:
    try:
        base.replace(**{name: value}).validate()
    except ConfigError as error:
        raise ConfigError(f"{_plural(name)}: {error}") from None
    except TypeError as error:  # e.g. a string where a number belongs
        raise ConfigError(f"{_plural(name)}: bad value {value!r} ({error})") from None


def run_key(cfg: RunConfig | dict) -> str:
    """A run's identity inside a sweep: its whole config, canonically."""
    values = cfg.to_dict() if isinstance(cfg, RunConfig) else cfg
    return json.dumps(values, sort_keys=True, default=str)


def data_key(cfg: RunConfig) -> tuple:
    """What defines a run's bags: runs that share it share their data (the sweep builds it once to check it)."""
    return (
        cfg.dataset,
        cfg.target_class,
        cfg.seed,
        cfg.bag_size,
        cfg.max_instances,
        cfg.val_fraction,
        json.dumps(cfg.dataset_options, sort_keys=True),
        cfg.data_root,
    )


def check_data(configs: list[RunConfig]) -> list[str]:
    """Build the bags once per distinct data setting so a missing dataset or impossible bag setting fails before
    any run is queued (raises DatasetMissing / ConfigError), and apply the run rule on negatives per epoch to every
    run (`config.check_negatives`: k = 0 is refused). Returns the distinct warnings (k reaching the whole pool)."""
    from ..train import check_run_negatives, prepare, sampler_warnings

    loaded: dict[tuple, Any] = {}
    warnings: list[str] = []
    for cfg in configs:
        key = data_key(cfg)
        if key not in loaded:
            loaded[key] = prepare(cfg)
        check_run_negatives(cfg, loaded[key])  # each run's own ratio and sampler (prepare checked the first)
        warnings += [w for w in sampler_warnings(cfg, loaded[key]) if w not in warnings]
    return warnings


def parse_numbers(text: str, kind: type = int) -> list:
    """'0 1 2', '0, 1, 2' or ranges of integers '0-4' -> a list of numbers (ConfigError on anything else)."""
    values: list = []
    for part in text.replace(",", " ").split():
        low, dash, high = part.partition("-")
        try:
            if dash and low and kind is int:
                values.extend(range(int(low), int(high) + 1))
            else:
                values.append(kind(part))
        except ValueError:
            raise ConfigError(
                f"cannot read {part!r} as {'an integer' if kind is int else 'a number'} (write e.g. `0 1 2` or `0-4`)"
            ) from None
    return values


def count_numbers(text: str, kind: type = int) -> int:
    """How many numbers `parse_numbers` would return, without building them: `0-9999999` costs nothing."""
    total = 0
    for part in text.replace(",", " ").split():
        low, dash, high = part.partition("-")
        try:
            if dash and low and kind is int:
                total += max(0, int(high) - int(low) + 1)
            else:
                kind(part)
                total += 1
        except ValueError:
            raise ConfigError(
                f"cannot read {part!r} as {'an integer' if kind is int else 'a number'} (write e.g. `0 1 2` or `0-4`)"
            ) from None
    return total


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return (f"{hours} h " if hours else "") + f"{rest // 60} min {rest % 60} s"


def new_sweep_id() -> str:
    return time.strftime("sw-%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def check_sweep_id(sweep_id: str | None) -> None:
    """A sweep id names its log file and report folder: letters, digits, '.', '_' and '-' only, at most 64."""
    if sweep_id is None:
        return
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}", sweep_id):
        raise ConfigError(
            f"sweep id {sweep_id!r} must be 1-64 letters, digits, '.', '_' or '-' (not starting with '.' or '-')"
        )
