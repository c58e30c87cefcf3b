"""Lazy package exports: a name is imported from its submodule on first use, so importing a package
(and ``dsegym list``) does not import torch, numba or a simulator it never touches.

>>> ns = {}
>>> getter = lazy_exports("json", {"JSONEncoder": "encoder"}, ns)
>>> getter("JSONEncoder")().encode([1]), "JSONEncoder" in ns
('[1]', True)
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps a name to the submodule defining it;
    the value is cached in ``namespace`` (the package's globals) once imported."""
    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return __getattr__
