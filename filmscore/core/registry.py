"""A registry of backends keyed by name, that tolerates missing optional dependencies.

Entries name their class as "module:Class" and the packages it needs; nothing is imported until a backend
is created, so a missing optional package only matters to someone who asks for that backend.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from filmscore.core.errors import DependencyError, UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class BackendEntry:
    name: str
    target: str  # "package.module:ClassName"
    requires: tuple[str, ...]  # importable module names the backend needs
    extra: str | None  # the pip extra that installs them, for the error message
    description: str
    install: str | None = None  # the command that installs what it needs, where the extra alone does not
    takes_model: bool = False  # accepts `model`: a path, or a name from the model manifest
    neural: bool = False  # a model of weights: accepts `device`, and "auto" prefers it when they are here


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
        install: str | None = None,
        takes_model: bool = False,
        neural: bool = False,
    ) -> None:
        self._entries[name] = BackendEntry(
            name, target, requires, extra, description, install, takes_model or neural, neural
        )

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[BackendEntry]:
        """In the order registered: the default first."""
        return list(self._entries.values())

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
            hint = entry.install or hint
            raise DependencyError(
                f"the {self.kind} backend {name!r} needs {', '.join(missing)}, "
                f"which is not installed. Run: {hint}"
            )
        return entry

    def create_configured(self, name: str, model: str | None, device: str, **options: Any) -> T:
        """A backend given the model and device the user chose, where it takes them; naming a model for a
        backend that loads none is a usage error rather than silently ignored."""
        entry = self.require(name)
        if model is not None:
            if not entry.takes_model:
                raise UsageError(f"the {self.kind} backend {name!r} loads no model; leave out its model flag")
            options["model"] = model
        if entry.neural:
            options["device"] = device
        return self.create(name, **options)

    def backend_class(self, name: str) -> Any:
        """The backend's class, imported (its own heavy imports still wait until it is created)."""
        module_name, _, class_name = self.require(name).target.partition(":")
        return getattr(importlib.import_module(module_name), class_name)

    def create(self, name: str, **options: Any) -> T:
        return self.backend_class(name)(**options)
