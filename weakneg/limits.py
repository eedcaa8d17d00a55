"""What the server's operator allows a visitor: caps on what the app launches, and a read-only demo mode.

Set by environment variables, or by a TOML file named by WEAKNEG_CONFIG with a [limits] table (the variable
wins over the file); the names, defaults and meanings are in LIMITS below. The app's forms check a run or a
grid against these before they enable Launch, and jobs the app launches are checked again on the way out.
The command line is the operator's own tool and is not capped.

Read-only mode (WEAKNEG_READONLY=1, `readonly = true` in the file, or `serve --demo`): nothing can be
launched, cancelled, deleted, renamed or typed as a path; every view of existing runs, the Playground and the
MIL checks (which run in the server's process on their small generated worlds, one at a time, results kept:
milcheck/here.py) still work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, WeaknegError

# setting -> (environment variable, default, meaning)
LIMITS = {
    "max_epochs": ("WEAKNEG_MAX_EPOCHS", 500, "epochs of one run launched from the app"),
    "max_grid": ("WEAKNEG_MAX_GRID", 20_000, "runs in one sweep launched from the app"),
    "max_concurrent": (
        "WEAKNEG_MAX_CONCURRENT",
        None,
        "runs at once (default: one per core of WEAKNEG_THREADS, itself the cores by default)",
    ),
    "max_artifacts_gb": (
        "WEAKNEG_MAX_ARTIFACTS_GB",
        20.0,
        "disk for saved pool arrays; above it, no new run saves arrays (0 = no cap)",
    ),
    "readonly": ("WEAKNEG_READONLY", False, "read-only demo: nothing can be launched, cancelled or deleted"),
    "ray_address": ("RAY_ADDRESS", None, "the Ray cluster sweeps use (empty: a local Ray)"),
}


class ReadOnly(WeaknegError):
    """The server runs in read-only demo mode."""


@dataclass(frozen=True)
class Limits:
    max_epochs: int
    max_grid: int
    max_concurrent: int
    max_artifacts_gb: float
    readonly: bool
    ray_address: str | None

    def check_run(self, cfg, artifacts_root: Path | None = None) -> None:
        """Refuse a run the app may not launch (ConfigError / ReadOnly), naming the cap and how to change it."""
        self.refuse_if_readonly("launching runs")
        if isinstance(cfg.epochs, int) and cfg.epochs > self.max_epochs:
            raise ConfigError(
                f"epochs {cfg.epochs} is above this server's cap of {self.max_epochs} "
                f"(the operator sets it with {LIMITS['max_epochs'][0]})"
            )
        if artifacts_root is not None and cfg.save_embeddings != "none" and self.max_artifacts_gb > 0:
            used = artifacts_gb(artifacts_root)
            if used >= self.max_artifacts_gb:
                raise ConfigError(
                    f"saved pool arrays already take {used:.1f} GB, this server's cap is "
                    f"{self.max_artifacts_gb:g} GB ({LIMITS['max_artifacts_gb'][0]}): choose "
                    f"'none' for saved embeddings, or delete old runs on the Runs page"
                )

    def check_grid(self, size: int) -> None:
        self.refuse_if_readonly("launching sweeps")
        if size > self.max_grid:
            raise ConfigError(
                f"this grid has {size:,} runs, above this server's cap of {self.max_grid:,} runs per "
                f"sweep (the operator sets it with {LIMITS['max_grid'][0]}); make it smaller"
            )

    def refuse_if_readonly(self, action: str) -> None:
        if self.readonly:
            raise ReadOnly(
                f"this server is a read-only demo: {action} is switched off "
                f"(the operator unsets {LIMITS['readonly'][0]} to allow it)"
            )


def current(environ: Mapping[str, str] | None = None) -> Limits:
    """The limits in force now (read on every call: cheap, and a changed variable applies at once)."""
    environ = os.environ if environ is None else environ
    from_file = _file_values(environ.get("WEAKNEG_CONFIG"))
    values: dict[str, Any] = {}
    for name, (variable, default, _) in LIMITS.items():
        raw = environ.get(variable)
        if raw is None or raw == "":
            raw = from_file.get(name, default)
        values[name] = _read(name, variable, raw, default)
    if values["max_concurrent"] is None:
        from .threads import max_concurrent

        values["max_concurrent"] = max_concurrent(environ)
    return Limits(**values)


def artifacts_gb(root: Path) -> float:
    """Disk used by the files under root, in GB (10^9 bytes)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except OSError:  # a file removed while we walked
                pass
    return total / 1e9


def _file_values(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    import tomllib

    try:
        with open(path, "rb") as handle:
            return dict(tomllib.load(handle).get("limits", {}))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read the limits file WEAKNEG_CONFIG={path}: {error}") from None


def _read(name: str, variable: str, raw: Any, default: Any) -> Any:
    if raw is None:
        return None
    if name == "ray_address":
        return str(raw) or None
    if name == "readonly":
        if isinstance(raw, bool):
            return raw
        if str(raw).strip().lower() in ("1", "true", "yes", "on"):
            return True
        if str(raw).strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{variable} must be 1 or 0 (true or false), got {raw!r}")
    kind = float if isinstance(default, float) else int
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{variable} must be {'a number' if kind is float else 'a whole number'}, got {raw!r}"
        ) from None
    if value < 0 or (value == 0 and name in ("max_epochs", "max_grid")):
        raise ConfigError(f"{variable} must be > 0, got {raw!r}")
    return value
