"""A registry of backends keyed by name, that tolerates missing optional dependencies.

Entries name their class as "module:Class" and the packages it needs; nothing is imported until a backend
is created, so a missing optional package only matters to someone who asks for that backend.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from filmscore.errors import DependencyError, UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class BackendEntry:
    name: str
    target: str  # "package.module:ClassName"
    requires: tuple[str, ...]  # importable module names the backend needs
    extra: str | None  # the pip extra that installs them, for the error message
    description: str


class Registry(Generic[T]):
    """Backends of one kind (ASR, text emotion, ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, BackendEntry] = {}

    def register(
        self,
        name: str,
        target: str,
        requires: tuple[str, ...] = (),
        extra: str | None = None,
        description: str = "",
    ) -> None:
        self._entries[name] = BackendEntry(name, target, requires, extra, description)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entry(self, name: str) -> BackendEntry:
        if name not in self._entries:
            raise UsageError(
                f"unknown {self.kind} backend {name!r}; choose one of {', '.join(self.names())}."
            )
        return self._entries[name]

    def missing(self, name: str) -> list[str]:
        """The modules a backend needs that are not installed (empty when it can run)."""
        return [module for module in self.entry(name).requires if importlib.util.find_spec(module) is None]

    def available(self) -> list[str]:
        return [name for name in self.names() if not self.missing(name)]

    def require(self, name: str) -> BackendEntry:
        """Check that a backend can be created, without importing it; unknown or missing ones fail here."""
        entry = self.entry(name)
        missing = self.missing(name)
        if missing:
            hint = f"pip install 'filmscore[{entry.extra}]'" if entry.extra else f"pip install {missing[0]}"
            raise DependencyError(
                f"the {self.kind} backend {name!r} needs {', '.join(missing)}, "
                f"which is not installed. Run: {hint}"
            )
        return entry

    def create(self, name: str, **options: Any) -> T:
        entry = self.require(name)
        module_name, _, class_name = entry.target.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        return cls(**options)
