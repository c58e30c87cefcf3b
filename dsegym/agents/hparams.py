"""Hyperparameter and seed validation shared by every agent.

Each agent's ``hyperparameters`` dict gives the defaults; ``hparam_rules`` maps a name to a rule that
says which values are allowed. Names without a rule get one inferred from the default's type (an
``int`` default allows integers, a ``float`` default finite reals, a ``bool`` default booleans, a
``str`` default strings). Every rule rejects NaN and infinity. Bad values raise one
:class:`~dsegym.errors.ConfigError` naming the agent, the hyperparameter and what is allowed.

>>> Int(1).check("ga", "population_size", 12)
12
>>> Int(1).check("ga", "population_size", "abc")
Traceback (most recent call last):
...
dsegym.errors.ConfigError: agent 'ga': hyperparameter population_size must be an integer >= 1, got 'abc'
>>> check_seed(2**32)
Traceback (most recent call last):
...
dsegym.errors.ConfigError: seed must be None or an integer in 0..4294967295, got 4294967296
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError

# One seed range for every agent and for the runner: numpy accepts any non-negative integer, but
# Stable-Baselines3 and torch's numpy bridge need seeds below 2**32.
SEED_MIN, SEED_MAX = 0, 2 ** 32 - 1


def check_seed(seed: Any, what: str = "seed") -> int | None:
    """``seed`` as a plain int (or None), or a ConfigError naming the allowed range."""
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) \
            or not SEED_MIN <= int(seed) <= SEED_MAX:
        raise ConfigError(f"{what} must be None or an integer in {SEED_MIN}..{SEED_MAX}, got {seed!r}")
    return int(seed)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v: Any) -> bool:
    return (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            and math.isfinite(float(v)))


class Rule:
    """A set of allowed values for one hyperparameter. ``optional=True`` also allows None."""

    def __init__(self, optional: bool = False):
        self.optional = optional

    def ok(self, value: Any) -> bool:  # pragma: no cover - every rule overrides it
        """Whether ``value`` is allowed (None is handled by :meth:`check`)."""
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - every rule overrides it
        """What is allowed, in words, for error messages."""
        raise NotImplementedError

    def check(self, agent: str, name: str, value: Any) -> Any:
        """``value`` if allowed, else a ConfigError naming the agent, the hyperparameter and the rule."""
        if value is None and self.optional:
            return value
        if not self.ok(value):
            what = self.describe() + (" or None" if self.optional else "")
            raise ConfigError(f"agent '{agent}': hyperparameter {name} must be {what}, got {value!r}")
        return value


def _bounds(low, high, low_open=False, high_open=False) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    return " and ".join(parts)


class Int(Rule):
    """Integers in ``[low, high]`` (either bound may be None)."""

    def __init__(self, low: int | None = None, high: int | None = None, optional: bool = False):
        super().__init__(optional)
        self.low, self.high = low, high

    def ok(self, value):
        """Whether ``value`` is allowed."""
        return (_is_int(value) and (self.low is None or value >= self.low)
                and (self.high is None or value <= self.high))

    def describe(self):
        """What is allowed, in words."""
        b = _bounds(self.low, self.high)
        return "an integer" + (f" {b}" if b else "")


class Real(Rule):
    """Finite reals between ``low`` and ``high``; ``low_open``/``high_open`` exclude the bound."""

    def __init__(self, low: float | None = None, high: float | None = None, low_open: bool = False,
                 high_open: bool = False, optional: bool = False):
        super().__init__(optional)
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open

    def ok(self, value):
        """Whether ``value`` is allowed."""
        if not _is_real(value):
            return False
        v = float(value)
        if self.low is not None and (v <= self.low if self.low_open else v < self.low):
            return False
        return not (self.high is not None and (v >= self.high if self.high_open else v > self.high))

    def describe(self):
        """What is allowed, in words."""
        b = _bounds(self.low, self.high, self.low_open, self.high_open)
        return "a finite number" + (f" {b}" if b else "")


class Bool(Rule):
    """True or False."""

    def ok(self, value):
        """Whether ``value`` is allowed."""
        return isinstance(value, (bool, np.bool_))

    def describe(self):
        """What is allowed, in words."""
        return "true or false"


class Choice(Rule):
    """One of a fixed list of values."""

    def __init__(self, *choices: Any, optional: bool = False):
        super().__init__(optional)
        self.choices = choices

    def ok(self, value):
        """Whether ``value`` is allowed."""
        try:
            return any(value == c and type(value) is type(c) for c in self.choices)
        except Exception:  # noqa: BLE001 - arrays and odd objects are simply not a choice
            return False

    def describe(self):
        """What is allowed, in words."""
        return "one of " + ", ".join(repr(c) for c in self.choices)


class Text(Rule):
    """Any string."""

    def ok(self, value):
        """Whether ``value`` is allowed."""
        return isinstance(value, str)

    def describe(self):
        """What is allowed, in words."""
        return "a string"


class Sizes(Rule):
    """A non-empty list of positive integers (layer widths)."""

    def ok(self, value):
        """Whether ``value`` is allowed."""
        return (isinstance(value, (list, tuple)) and len(value) > 0 and all(_is_int(v) and v > 0 for v in value))

    def describe(self):
        """What is allowed, in words."""
        return "a non-empty list of positive integers"


class MappingOf(Rule):
    """A mapping with string keys (e.g. reward keyword arguments)."""

    def ok(self, value):
        """Whether ``value`` is allowed."""
        return isinstance(value, Mapping) and all(isinstance(k, str) for k in value)

    def describe(self):
        """What is allowed, in words."""
        return "a mapping of names to values"


class Anything(Rule):
    """No check here (the agent validates it itself)."""

    def ok(self, value):
        """Whether ``value`` is allowed."""
        return True

    def describe(self):
        """What is allowed, in words."""
        return "anything"


def inferred_rule(default: Any) -> Rule:
    """The rule for a hyperparameter without a declared one, from its default's type."""
    if isinstance(default, (bool, np.bool_)):
        return Bool()
    if _is_int(default):
        return Int()
    if isinstance(default, (float, np.floating)):
        return Real()
    if isinstance(default, str):
        return Text()
    if isinstance(default, (list, tuple)):
        return Sizes()
    return Anything()


def check_hparams(agent: str, values: Mapping[str, Any], defaults: Mapping[str, Any],
                  rules: Mapping[str, Rule]) -> None:
    """Check every value in ``values`` against its rule (declared or inferred from ``defaults``)."""
    for name, value in values.items():
        rule = rules.get(name) or inferred_rule(defaults.get(name))
        rule.check(agent, name, value)


def positive_ints(names: Sequence[str]) -> dict[str, Rule]:
    """``{name: Int(1)}`` for each name."""
    return {n: Int(1) for n in names}
