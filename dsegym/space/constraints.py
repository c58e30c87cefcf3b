"""Constraints between design parameters, vectorised over a batch of designs.

>>> import numpy as np
>>> c = Constraint("pe_budget", lambda d: d["rows"] * d["cols"] <= 4096, "rows * cols <= 4096")
>>> c(dict(rows=np.array([64, 128]), cols=np.array([64, 64]))).tolist()
[True, False]
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np


class _KeyRecorder(dict):
    """A mapping that records which keys a constraint reads, to find the parameters it involves."""

    def __init__(self, data):
        super().__init__(data)
        self.read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


class Constraint:
    """A rule between parameters: ``fn(columns) -> bool array``, vectorised over designs.

    ``columns`` maps each parameter name to a numpy array (one entry per design).

    >>> c = Constraint("pe_budget", lambda d: d["rows"] * d["cols"] <= 4096, "rows * cols <= 4096")
    >>> c(dict(rows=np.array([64, 128]), cols=np.array([64, 64]))).tolist()
    [True, False]
    """

    def __init__(self, name: str, fn: Callable[[Mapping[str, np.ndarray]], Any], description: str = "",
                 params: Sequence[str] | None = None):
        self.name, self.fn, self.description = name, fn, description or name
        self.params = tuple(params) if params is not None else None

    def __call__(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """(n,) bool: which of the designs in ``columns`` honour the constraint."""
        n = len(next(iter(columns.values()))) if columns else 0
        out = np.asarray(self.fn(columns), dtype=bool)
        return np.broadcast_to(out, (n,)) if out.ndim == 0 else out

    def __repr__(self) -> str:
        return f"Constraint({self.name!r}: {self.description})"
