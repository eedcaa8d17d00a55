"""Where weakneg keeps data and results; every default can be overridden by an environment variable.

WEAKNEG_HOME       base directory (default ~/.weakneg)
WEAKNEG_DATA_ROOT  dataset root (default $WEAKNEG_HOME/data)
WEAKNEG_STORE      SQLAlchemy URL of the run store (default sqlite:///$WEAKNEG_HOME/runs.db)
WEAKNEG_ARTIFACTS  per-run artifact folders (default $WEAKNEG_HOME/artifacts)
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import WeaknegError


def home() -> Path:
    value = os.environ.get("WEAKNEG_HOME")
    if value is None:
        return Path.home() / ".weakneg"
    path = Path(value).expanduser()
    if not value.strip() or not path.is_absolute():
        raise WeaknegError(f"WEAKNEG_HOME must be an absolute folder path, got {value!r}")
    if path.exists() and not path.is_dir():
        raise WeaknegError(f"WEAKNEG_HOME={value} is a file, not a folder")
    return path


def data_root() -> Path:
    return Path(os.environ.get("WEAKNEG_DATA_ROOT", home() / "data")).expanduser()


def store_url() -> str:
    return os.environ.get("WEAKNEG_STORE", f"sqlite:///{home() / 'runs.db'}")


def artifacts_root() -> Path:
    return Path(os.environ.get("WEAKNEG_ARTIFACTS", home() / "artifacts")).expanduser()


def cache_root() -> Path:
    return home() / "cache"
