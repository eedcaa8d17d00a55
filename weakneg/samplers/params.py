"""Typed sampler parameters: each sampler declares its parameters (type, bounds or choices, one line of help)
next to its code, so the engine refuses a bad value before anything runs and the app draws the right widget.

A declaration is a `Param`; a sampler passes `params={"name": Param(...)}` to `SamplerSpec` (bare defaults
are still accepted and stay untyped). `Param.check` returns the value (an int given for a float becomes a
float) or raises ConfigError with a message a person can act on; the forms show that same message.
"""

from __future__ import annotations

from typing import Any

from ..declared import Declared
from ..errors import ConfigError


class Param(Declared):
    """A sampler's parameter."""

    def check(self, sampler: str, name: str, value: Any) -> Any:
        """The value, normalised (int -> float for a float parameter); ConfigError when it is not allowed."""
        ok, normal = self.normalised(value)
        if not ok:
            raise ConfigError(f"sampler {sampler!r}: parameter {name} must be {self.bounds_text()}, got {value!r}")
        return normal


def split(declared: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Param]]:
    """A sampler's `params` as written -> (defaults, the typed declarations among them)."""
    defaults = {name: p.default if isinstance(p, Param) else p for name, p in declared.items()}
    typed = {name: p for name, p in declared.items() if isinstance(p, Param)}
    return defaults, typed


def check_values(sampler: str, typed: dict[str, Param], values: dict[str, Any]) -> dict[str, Any]:
    """The values with each typed one checked and normalised (untyped ones pass as given)."""
    return {name: typed[name].check(sampler, name, value) if name in typed else value for name, value in values.items()}


def label_param(default: str, help: str) -> Param:
    """The gradient label shared by the gradient samplers: the known (negative) label or the model's prediction."""
    return Param(default, "choice", help, choices=("known", "predicted"))


def embedding_label(spec, params: dict[str, Any]) -> str:
    """The label a sampler takes gradients at ("known" or "predicted"): its `label` parameter when it has one
    (BADGE: predicted by default), else the known label. The app's map is drawn from these gradients."""
    if "label" not in spec.params:
        return "known"
    return str({**spec.params, **params}["label"])
