"""A declared value: its type, bounds or choices, default and one line of help. Samplers declare their parameters
(samplers/params.py) and datasets their options (data/options.py) with it, so the engine refuses a bad value before
anything runs, in words a person can act on, and the app draws the matching field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

KINDS = ("choice", "int", "float", "bool", "text", "names")  # names: a list of texts or one comma-separated text


@dataclass(frozen=True)
class Declared:
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
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    def bounds_text(self) -> str:
        """The allowed values in words, e.g. "a finite number greater than 0", "one of known, predicted"."""
        if self.kind == "choice":
            text = "one of " + ", ".join(map(str, self.choices))
        elif self.kind == "bool":
            text = "true or false"
        elif self.kind == "text":
            text = "text"
        elif self.kind == "names":
            text = "a list of names (or one comma-separated text)"
        else:
            noun = "a whole number" if self.kind == "int" else "a finite number"
            low = (
                f"at least {_plain(self.minimum)}"
                if self.minimum is not None
                else f"greater than {_plain(self.above)}"
                if self.above is not None
                else ""
            )
            if self.minimum is not None and self.maximum is not None:
                text = f"{noun} from {_plain(self.minimum)} to {_plain(self.maximum)}"
            else:
                high = f"at most {_plain(self.maximum)}" if self.maximum is not None else ""
                text = " ".join(part for part in (noun, low, "and" if low and high else "", high) if part)
        return text + (" or null" if self.nullable else "")

    def normalised(self, value: Any) -> tuple[bool, Any]:
        """(allowed?, the value normalised: an integral float for an int becomes an int, an int for a float a
        float)."""
        if value is None:
            return self.nullable, None
        if self.kind == "choice":
            return value in self.choices and not isinstance(value, bool), value
        if self.kind == "bool":
            return isinstance(value, bool), value
        if self.kind == "text":
            return isinstance(value, str) and bool(value.strip()), value
        if self.kind == "names":
            return isinstance(value, str) or (
                isinstance(value, (list, tuple)) and all(isinstance(v, str) and v for v in value)
            ), value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False, value
        if self.kind == "int" and not float(value).is_integer():
            return False, value
        if (
            (self.minimum is not None and value < self.minimum)
            or (self.above is not None and value <= self.above)
            or (self.maximum is not None and value > self.maximum)
        ):
            return False, value
        return True, int(value) if self.kind == "int" else float(value)

    def line(self, name: str) -> str:
        """One line for people: `name=default  (bounds) help`."""
        default = "" if self.default is None else _shown(self.default)
        return f"{name}={default}  ({self.bounds_text()}) {self.help}"


def _plain(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)
