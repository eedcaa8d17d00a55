"""The optional parts of the package and the extra that installs each (pyproject.toml): a core install
(`pip install weakneg`) that reaches for one says so in one line, with the command that adds it."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from .errors import WeaknegError


class MissingExtra(WeaknegError):
    """An optional dependency is not installed; the message names the pip command."""


def need(module: str, extra: str, purpose: str) -> ModuleType:
    """`module`, imported; if it is not installed, MissingExtra: "<purpose> needs X: pip install 'weakneg[extra]'"."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise MissingExtra(f"{purpose} needs {top}, which is not installed: pip install 'weakneg[{extra}]'") from None


def available(module: str) -> bool:
    """Whether `module` can be imported, without importing it (UMAP's import alone takes seconds)."""
    return importlib.util.find_spec(module) is not None


def check(module: str, extra: str, purpose: str) -> None:
    """Like `need`, for a module another process imports (the app's Streamlit): found, not imported."""
    if not available(module):
        raise MissingExtra(f"{purpose} needs {module}, which is not installed: pip install 'weakneg[{extra}]'")
