"""One kind of registry for every plugin family (samplers, models, datasets): a name -> spec mapping that each
family's modules fill with `register(Spec(...))` where the spec is defined, and that answers an unknown name
with one line listing the known ones.

A registry lives in a module that imports none of its plugins; the package that owns it imports the plugin
modules at its top. So no plugin imports its package back, and the import graph has no cycle
(tests/test_architecture.py checks both).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Generic, Protocol, TypeVar

from .errors import ConfigError


class Named(Protocol):
    # read-only: the specs are frozen dataclasses
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...


Spec = TypeVar("Spec", bound=Named)


class Registry(MutableMapping[str, Spec], Generic[Spec]):
    """Specs of one kind by name, in registration order (the order lists and menus show)."""

    def __init__(self, kind: str, spec_type: type):
        self.kind, self.spec_type = kind, spec_type
        self._specs: dict[str, Spec] = {}

    def register(self, spec: Spec) -> Spec:
        """Add a spec; a second spec under a taken name is refused (two modules would fight over it)."""
        if spec.name in self._specs and self._specs[spec.name] is not spec:
            raise ValueError(f"{self.kind} {spec.name!r} is registered twice; give one of them another name")
        self[spec.name] = spec
        return spec

    def lookup(self, name: str) -> Spec:
        """The spec of that name; ConfigError naming the known ones otherwise (`get` stays the mapping's: None)."""
        if name not in self._specs:
            raise ConfigError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self._specs)}")
        return self._specs[name]

    def __getitem__(self, name: str) -> Spec:
        return self._specs[name]

    def __setitem__(self, name: str, spec: Spec) -> None:
        if not isinstance(spec, self.spec_type):
            raise TypeError(f"a {self.kind} registry holds {self.spec_type.__name__}, not {type(spec).__name__}")
        if spec.name != name:
            raise ValueError(f"{self.kind} {spec.name!r} registered under another name, {name!r}")
        self._specs[name] = spec

    def __delitem__(self, name: str) -> None:
        del self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._specs)})"
