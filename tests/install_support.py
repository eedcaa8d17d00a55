"""What a pip install of weakneg brings: the distributions its requirements reach (with or without extras),
resolved against what is installed here, and their size on disk. The install test and scripts/install_sizes.py
use it."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, metadata.Distribution]:
    return {canonical(d.metadata["Name"]): d for d in metadata.distributions()}


def closure(requirements: list[str], extras: set[str] = frozenset()) -> dict[str, metadata.Distribution]:
    """Every installed distribution the requirements reach, markers evaluated (for extras: `extras` of the top
    level, then each requirement's own). Raises KeyError naming a requirement that is not installed here."""
    have = installed()
    reached: dict[str, metadata.Distribution] = {}
    todo = [(Requirement(r), set(extras)) for r in requirements]
    while todo:
        requirement, wanted = todo.pop()
        if requirement.marker and not any(requirement.marker.evaluate({"extra": extra}) for extra in (wanted or {""})):
            continue
        name = canonical(requirement.name)
        if name == "weakneg":  # weakneg[all] inside weakneg[dev]: our own extras
            todo += [(Requirement(r), set(requirement.extras)) for r in requirements_of_self(requirement.extras)]
            continue
        dist = have[name]
        key = (name, frozenset(requirement.extras))
        if key in reached:
            continue
        reached[key] = dist
        todo += [(Requirement(r), set(requirement.extras)) for r in dist.requires or []]
    return {name: dist for (name, _), dist in reached.items()}


SELF: dict[str, list[str]] = {}  # extra -> requirements, filled by `project_requirements`


def requirements_of_self(extras) -> list[str]:
    return [r for extra in extras for r in SELF.get(extra, [])]


def project_requirements(pyproject: Path) -> tuple[list[str], dict[str, list[str]]]:
    """(core requirements, {extra: requirements}) from pyproject.toml."""
    import tomllib

    project = tomllib.loads(pyproject.read_text())["project"]
    SELF.clear()
    SELF.update(project["optional-dependencies"])
    return project["dependencies"], project["optional-dependencies"]


def top_level_paths(dist: metadata.Distribution) -> set[Path]:
    """The folders and files a distribution put directly in site-packages (its packages, modules, .libs, dist-info)."""
    site = Path(dist.locate_file(""))
    return {site / Path(f).parts[0] for f in dist.files or [] if not str(f).startswith("..")}


def size_on_disk(dists) -> int:
    """Bytes of every file the distributions installed (their RECORD), each file once."""
    seen: set[Path] = set()
    total = 0
    for dist in dists:
        for f in dist.files or []:
            path = Path(dist.locate_file(f)).resolve()
            if path not in seen and path.is_file():
                seen.add(path)
                total += path.stat().st_size
    return total
