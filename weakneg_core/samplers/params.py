"""Typed sampler parameters: each sampler declares its parameters (type, bounds or choices, one line of help)
next to its code, so the engine refuses a bad value before anything runs and the app draws the right widget.

A declaration is a `Param`; a sampler passes `params={"name": Param(...)}` to `SamplerSpec` (bare defaults
are still accepted and stay untyped). `Param.check` returns the value (an int given for a float becomes a
float) or raises ConfigError with a message a person can act on; the forms show that same message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

KINDS = ("choice", "int", "float", "bool")


@dataclass(frozen=True)
class Param:
    default: Any
    kind: str  # one of KINDS
    help: str = ""
    choices: tuple = ()  # kind "choice"
    minimum: float | None = None  # inclusive lower bound
    above: float | None = None  # exclusive lower bound
    maximum: float | None = None  # inclusive upper bound
    nullable: bool = False  # None allowed (its meaning goes in `help`)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Param kind must be one of {KINDS}, got {self.kind!r}")

    def bounds_text(self) -> str:
        """The allowed values in words, e.g. "a number > 0", "one of predicted, known"."""
        if self.kind == "choice":
            text = "one of " + ", ".join(map(str, self.choices))
        elif self.kind == "bool":
            text = "true or false"
        else:
            noun = "a whole number" if self.kind == "int" else "a finite number"
            low = (f"at least {_plain(self.minimum)}" if self.minimum is not None
                   else f"greater than {_plain(self.above)}" if self.above is not None else "")
            if self.minimum is not None and self.maximum is not None:
                text = f"{noun} from {_plain(self.minimum)} to {_plain(self.maximum)}"
            else:
                high = f"at most {_plain(self.maximum)}" if self.maximum is not None else ""
                text = " ".join(part for part in (noun, low, "and" if low and high else "", high) if part)
        return text + (" or null" if self.nullable else "")

    def check(self, sampler: str, name: str, value: Any) -> Any:
        """The value, normalised (int -> float for a float parameter); ConfigError when it is not allowed."""
        if value is None and self.nullable:
            return None
        ok, normal = _accepts(self, value)
        if not ok:
            raise ConfigError(f"sampler {sampler!r}: parameter {name} must be {self.bounds_text()}, got {value!r}")
        return normal


def _accepts(param: Param, value: Any) -> tuple[bool, Any]:
    if param.kind == "choice":
        return value in param.choices and not isinstance(value, bool), value
    if param.kind == "bool":
        return isinstance(value, bool), value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False, value
    if param.kind == "int" and not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
        return False, value
    if not math.isfinite(value):
        return False, value
    if ((param.minimum is not None and value < param.minimum) or (param.above is not None and value <= param.above)
            or (param.maximum is not None and value > param.maximum)):
        return False, value
    return True, int(value) if param.kind == "int" else float(value)


def _plain(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


def split(declared: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Param]]:
    """A sampler's `params` as written -> (defaults, the typed declarations among them)."""
    defaults = {name: p.default if isinstance(p, Param) else p for name, p in declared.items()}
    typed = {name: p for name, p in declared.items() if isinstance(p, Param)}
    return defaults, typed


def check_values(sampler: str, typed: dict[str, Param], values: dict[str, Any]) -> dict[str, Any]:
    """The values with each typed one checked and normalised (untyped ones pass as given)."""
    return {name: typed[name].check(sampler, name, value) if name in typed else value
            for name, value in values.items()}


def label_param(default: str, help: str) -> Param:
    """The gradient label shared by the gradient samplers: the known (negative) label or the model's prediction."""
    return Param(default, "choice", help, choices=("known", "predicted"))


def embedding_label(spec, params: dict[str, Any]) -> str:
    """The label a sampler takes gradients at ("known" or "predicted"): its `label` parameter when it has one
    (BADGE: predicted by default), else the known label. The app's map is drawn from these gradients."""
    if "label" not in spec.params:
        return "known"
    return str({**spec.params, **params}["label"])
