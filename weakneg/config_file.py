"""Configuration files (TOML) for `run --config` and `sweep --config`, and the file `show --config` prints.

A file's keys are the command's flags with underscores (`--pn-ratio` -> `pn_ratio`); the repeatable KEY=VALUE
flags are tables (`--dataset-option` -> `[dataset_options]`, `--sampler-param` -> `[sampler_params]`, for a sweep
`[sampler_params.badge]`, `[grid]` of lists and `[set]`). The CLI turns a file into the flags it stands for and
puts them before the ones typed, so that typed flags win. Every key and type is checked here first: one line
naming the key and the file.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

# how a key's value is written as flags: "scalar", "flag" (true/false), "list" (nargs), "pairs" (KEY=VALUE table),
# "sampler_pairs" (SAMPLER:KEY=VALUE, a table of tables) or "grid" (FIELD=V1,V2, a table of lists)
SHAPES = ("scalar", "flag", "list", "pairs", "sampler_pairs", "grid")


@dataclass(frozen=True)
class FileKey:
    """One key of a configuration file and the flag it stands for."""

    key: str
    flag: str  # e.g. "--pn-ratio"
    shape: str  # one of SHAPES
    kind: type = str  # int, float or str: the type of a scalar or of a list's items


def read_toml(path: str | Path) -> dict[str, Any]:
    """The file's tables; ConfigError (one line) when it cannot be read or is not TOML."""
    path = Path(path).expanduser()
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder; --config takes a TOML file") from None
    except OSError as error:
        raise ConfigError(f"{path} cannot be read ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {str(error).splitlines()[0]}") from None


def flags_from_file(path: str | Path, keys: dict[str, FileKey]) -> list[str]:
    """The flags a configuration file stands for (in file order); unknown keys and wrong types name the key."""
    values = read_toml(path)
    unknown = [key for key in values if key not in keys]
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r}"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
            + f"; known keys: {', '.join(sorted(keys))}"
        )
    argv: list[str] = []
    for key, value in values.items():
        argv += _flags(keys[key], value, path)
    return argv


def _flags(spec: FileKey, value: Any, path) -> list[str]:
    where = f"{path}: key {spec.key!r}"
    if spec.shape == "flag":
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {_shown(value)}")
        return [spec.flag] if value else []
    if spec.shape == "scalar":
        return [spec.flag, _scalar(value, spec.kind, where)]
    if spec.shape == "list":
        items = value if isinstance(value, list) else [value]
        if not items:
            raise ConfigError(f"{where} must hold at least one value, got []")
        return [spec.flag, *(_scalar(v, spec.kind, f"{where} item") for v in items)]
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where} must be a table (e.g. [{spec.key}] or {spec.key} = {{ a = 1 }}), got {_shown(value)}"
        )
    if spec.shape == "pairs":
        return [t for name, v in value.items() for t in (spec.flag, f"{name}={_json(v)}")]
    if spec.shape == "grid":
        out = []
        for name, items in value.items():
            items = items if isinstance(items, list) else [items]
            if any(isinstance(v, (dict, list)) for v in items):
                raise ConfigError(f"{where}.{name} must be a list of numbers or strings, got {_shown(items)}")
            out += [spec.flag, f"{name}=" + ",".join(_json(v) for v in items)]
        return out
    out = []  # sampler_pairs: {sampler: {param: value}}
    for sampler, params in value.items():
        if not isinstance(params, dict):
            raise ConfigError(f"{where}.{sampler} must be a table of the sampler's parameters, got {_shown(params)}")
        out += [t for name, v in params.items() for t in (spec.flag, f"{sampler}:{name}={_json(v)}")]
    return out


def _scalar(value: Any, kind: type, where: str) -> str:
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise ConfigError(f"{where} must be {_kind_name(kind)}, got {_shown(value)}")
    if kind is int and not isinstance(value, int):
        raise ConfigError(f"{where} must be an integer, got {_shown(value)}")
    if kind is float and not isinstance(value, (int, float)):
        raise ConfigError(f"{where} must be a number, got {_shown(value)}")
    if kind is str and not isinstance(value, (str, int)):  # an int for names that may be indices (classes)
        raise ConfigError(f"{where} must be a string, got {_shown(value)}")
    return repr(value) if isinstance(value, float) else str(value)


def _kind_name(kind: type) -> str:
    return {int: "an integer", float: "a number"}.get(kind, "a string")


def _json(value: Any) -> str:
    """A table value as the KEY=VALUE flags read it back (config.parse_value: JSON)."""
    try:
        return json.dumps(value, allow_nan=True)
    except TypeError:  # TOML dates and times
        return json.dumps(str(value))


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- writing: the file `show --config` prints ---------------------------------------------------------------


def to_toml(values: dict[str, Any], header: str = "") -> str:
    """A TOML document of plain values: scalars first, then one [table] per dict. TOML has no null: None values
    are left out (a field left out takes its default, which is what None stands for in a run's config)."""
    lines = [f"# {line}" for line in header.splitlines()]
    tables = []
    for key, value in values.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif value is not None:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, table in tables:
        lines += ["", f"[{_key(key)}]"] + [f"{_key(k)} = {_value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None) + " }"
    raise ConfigError(f"cannot write {value!r} ({type(value).__name__}) to a TOML file")
