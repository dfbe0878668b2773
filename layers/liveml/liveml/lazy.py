"""Packages whose public names load their modules on first use (PEP 562), so importing the package
stays cheap: ``liveml.serving`` without FastAPI, ``liveml.training`` without scikit-learn."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(namespace: dict[str, Any], where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the package whose ``globals()`` is ``namespace``: each name in
    ``where`` comes from the module it maps to (relative to the package, e.g. ``".train"``), once."""
    package = str(namespace["__name__"])

    def load(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        namespace[name] = value  # the next lookup finds it without coming here
        return value

    return load
