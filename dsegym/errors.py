"""Errors dsegym raises for bad input.

Every error is a ``ValueError`` too, so generic callers can catch it, and carries one line that names
what is wrong and what is allowed. The CLI turns any :class:`DsegymError` into that line and exit code 2.

>>> try:
...     raise UnknownIdError("problem", "accel-resnet81", ["accel-resnet18", "accel-resnet50"])
... except DsegymError as e:
...     print(e)
unknown problem 'accel-resnet81'; did you mean 'accel-resnet18'? (known: accel-resnet18, accel-resnet50)
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class DsegymError(ValueError):
    """Base class of every error caused by bad input to dsegym."""


class UnknownIdError(DsegymError, KeyError):
    """An id (problem, agent, workload, trace, memory ...) that is not registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        self.kind, self.name, self.known = kind, name, known
        close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.4)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        listing = ", ".join(known[:30]) + (", ..." if len(known) > 30 else "")
        super().__init__(f"unknown {kind} '{name}'{hint} (known: {listing})")

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return self.args[0]


class InvalidDesignError(DsegymError):
    """A design with an unknown parameter or a value outside what the parameter allows."""


class ConstraintViolation(InvalidDesignError):
    """A design whose values are each allowed but break a constraint between parameters."""


class InvalidActionError(DsegymError):
    """An environment action that is NaN, of the wrong shape or out of range."""


class ConfigError(DsegymError):
    """A malformed configuration (experiment YAML, problem kwargs, reward settings)."""


class TraceFormatError(DsegymError):
    """A memory trace file that cannot be parsed."""


class TopologyFormatError(DsegymError):
    """A layer topology (SCALE-Sim CSV, layer list) that cannot be parsed."""


class SimulationError(DsegymError):
    """A simulator that returned missing, non-finite or negative objective metrics (bad options or inputs)."""


class DatasetError(DsegymError):
    """A malformed trial dataset or model file."""
