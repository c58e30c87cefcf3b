"""Typed design parameters: Categorical, Ordinal, PowerOfTwo, Integer and Float.

Each parameter knows its allowed values, its index grid (``cardinality`` points; a Float's ``bins``),
its unit-interval encoding (``to_unit``/``from_unit``, uniform ``u`` giving the natural prior) and its
Optuna distribution, so every encoding an agent needs derives from the one declaration.

>>> Integer("rows", 4, 256, log=True).allowed()
'integers 4..256'
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, InvalidDesignError


def _native(value: Any) -> Any:
    """Numpy scalars to plain Python values, so designs serialise and hash the same everywhere."""
    return value.item() if isinstance(value, np.generic) else value


class Parameter:
    """One typed design parameter. Use a subclass: Categorical, Integer, Ordinal, PowerOfTwo, Float."""

    kind = "parameter"

    def __init__(self, name: str, group: str = "default", default: Any = None, help: str = ""):
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"parameter name {name!r} must be a Python identifier")
        self.name, self.group, self.help = name, group, help
        self._default = default

    # --- subclasses define these -------------------------------------------------------------------
    cardinality: int  # number of points in the index grid (Float: its bins)
    dtype: str  # numpy dtype of the DataFrame column

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        raise NotImplementedError

    def valid_mask(self, values: np.ndarray) -> np.ndarray:
        """Bool array: which ``values`` are allowed (NaN and out-of-range entries are not)."""
        raise NotImplementedError

    def index_of(self, values: np.ndarray) -> np.ndarray:
        """Grid index of valid values (Float: nearest bin)."""
        raise NotImplementedError

    def value_at(self, index: np.ndarray) -> np.ndarray:
        """Values at integer grid indices (same shape as ``index``)."""
        raise NotImplementedError

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """Map valid values into [0, 1]; ``from_unit`` inverts it (uniform u gives the natural prior)."""
        idx = self.index_of(values)
        return (idx + 0.5) / self.cardinality

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Values of points ``u`` in [0, 1] (clipped); uniform ``u`` gives the natural prior."""
        idx = np.minimum(np.floor(np.clip(u, 0.0, 1.0) * self.cardinality), self.cardinality - 1)
        return self.value_at(idx.astype(np.int64))

    def optuna_distribution(self):
        """The Optuna distribution that searches this parameter."""
        raise NotImplementedError

    def from_optuna(self, value: Any) -> Any:
        """The parameter value of an Optuna value (IndexError if out of range)."""
        return value

    def parse(self, text: str) -> Any:
        """Parse a value written on the command line."""
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------------------------
    @property
    def default(self) -> Any:
        """The default value (the declared one, else a middle value)."""
        if self._default is not None:
            return self._default
        return _native(self.value_at(np.array([(self.cardinality - 1) // 2]))[0])

    def coerce(self, values: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Turn raw column values into this parameter's dtype; unparsable entries become NaN."""
        arr = np.asarray(values)
        if arr.dtype.kind in "iuf":
            return arr.astype(np.float64) if self.dtype == "float64" or arr.dtype.kind == "f" else arr
        if arr.dtype.kind == "b":  # True is not the number 1 of a design parameter
            return np.full(arr.shape, np.nan)
        out = np.full(arr.shape, np.nan)
        for i, v in enumerate(arr.ravel()):
            if isinstance(v, (bool, np.bool_)):
                continue
            try:
                out.flat[i] = float(v)
            except (TypeError, ValueError):
                pass
        return out

    def check(self, values: np.ndarray, where: str = "") -> np.ndarray:
        """Coerce and validate a column, raising one clear error for the first bad entry."""
        arr = self.coerce(values)
        ok = self.valid_mask(arr)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            bad = np.asarray(values).ravel()[i]
            loc = f" in design {i}" if where == "batch" and len(ok) > 1 else ""
            raise InvalidDesignError(
                f"invalid value {_native(bad)!r} for parameter '{self.name}'{loc}: allowed {self.allowed()}")
        return self.value_at(self.index_of(arr)) if self.kind != "float" else arr.astype(np.float64)

    def describe(self) -> dict[str, Any]:
        """Name, kind, group, allowed values, cardinality, default and help, as a dict."""
        return {"name": self.name, "kind": self.kind, "group": self.group, "allowed": self.allowed(),
                "cardinality": self.cardinality, "default": self.default, "help": self.help}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.allowed()}, group={self.group!r})"


class _Choice(Parameter):
    """A parameter with an explicit list of values (shared by Categorical and Ordinal)."""

    def __init__(self, name, values, group="default", default=None, help=""):
        super().__init__(name, group, default, help)
        values = tuple(_native(v) for v in values)
        if not values:
            raise ConfigError(f"parameter '{name}' needs at least one value")
        if len(set(values)) != len(values):
            raise ConfigError(f"parameter '{name}' has duplicate values: {values}")
        self.values = values
        self.cardinality = len(values)
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        self.numeric = numeric
        if numeric:
            self.dtype = "int64" if all(isinstance(v, int) for v in values) else "float64"
            self._array = np.array(values, dtype=self.dtype)
        else:
            self.dtype = "object"
            self._array = np.array(values, dtype=object)
        self._lookup = {v: i for i, v in enumerate(values)}
        if default is not None and default not in self._lookup:
            raise ConfigError(f"default {default!r} of '{name}' is not one of {list(values)}")

    def allowed(self) -> str:
        return "one of " + ", ".join(str(v) for v in self.values)

    def coerce(self, values):
        if self.numeric:
            return super().coerce(values)
        return np.asarray(values, dtype=object)

    def _indices(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values)
        if self.numeric and values.dtype.kind in "iuf":
            order = np.argsort(self._array, kind="stable")
            sorted_vals = self._array[order]
            pos = np.clip(np.searchsorted(sorted_vals, values), 0, len(sorted_vals) - 1)
            hit = sorted_vals[pos] == values
            return np.where(hit, order[pos], -1)
        return np.array([self._lookup.get(_native(v), -1) if _hashable(v) else -1 for v in values.ravel()],
                        dtype=np.int64).reshape(values.shape)

    def valid_mask(self, values):
        return self._indices(values) >= 0

    def index_of(self, values):
        return self._indices(values).astype(np.int64)

    def value_at(self, index):
        return self._array[np.asarray(index, dtype=np.int64)]

    def parse(self, text: str):
        for v in self.values:
            if str(v) == text:
                return v
        if self.numeric:
            try:
                num = float(text)
            except ValueError:
                return text
            for v in self.values:
                if v == num:
                    return v
            return int(num) if math.isfinite(num) and num.is_integer() else num
        return text


def _int_arg(name: str, what: str, value: Any) -> int:
    """An integer argument of a parameter declaration (ConfigError otherwise)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"parameter '{name}': {what} must be an integer, got {value!r}")
    return int(value)


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


class Categorical(_Choice):
    """Unordered choices (strings or numbers); the default is the first choice unless given.

    >>> Categorical("dataflow", ["ws", "os", "is"]).cardinality
    3
    """

    kind = "categorical"

    @property
    def default(self):
        """The default value: the declared one, else the first choice."""
        return self._default if self._default is not None else self.values[0]

    def optuna_distribution(self):
        """The Optuna distribution that searches this parameter."""
        from optuna.distributions import CategoricalDistribution
        return CategoricalDistribution(list(self.values))


class Ordinal(_Choice):
    """Ordered numeric choices. Optuna sees the choice index, so TPE, GP and CMA-ES keep the order.

    >>> Ordinal("bits", [4, 8, 16]).from_optuna(2)
    16
    """

    kind = "ordinal"

    def __init__(self, name, values, group="default", default=None, help=""):
        values = [_native(v) for v in values]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise ConfigError(f"ordinal parameter '{name}' needs numeric values, got {values}")
        if list(values) != sorted(values):
            raise ConfigError(f"ordinal parameter '{name}' needs increasing values, got {values}")
        super().__init__(name, values, group, default, help)

    def optuna_distribution(self):
        """The Optuna distribution that searches this parameter."""
        from optuna.distributions import IntDistribution
        return IntDistribution(0, self.cardinality - 1)

    def from_optuna(self, value):
        """The parameter value of an Optuna value (IndexError if out of range)."""
        if isinstance(value, bool) or not float(value).is_integer() or not 0 <= int(value) < self.cardinality:
            raise IndexError(value)
        return self.values[int(value)]


class PowerOfTwo(Ordinal):
    """Powers of two from ``low`` to ``high`` inclusive.

    >>> PowerOfTwo("kb", 8, 64).values
    (8, 16, 32, 64)
    """

    kind = "power_of_two"

    def __init__(self, name, low: int, high: int, group="default", default=None, help=""):
        low, high = _int_arg(name, "low", low), _int_arg(name, "high", high)
        for bound in (low, high):
            if bound < 1 or (bound & (bound - 1)) != 0:
                raise ConfigError(f"power-of-two parameter '{name}': bound {bound} is not a power of two")
        if low > high:
            raise ConfigError(f"power-of-two parameter '{name}': low {low} > high {high}")
        values = [1 << k for k in range(int(math.log2(low)), int(math.log2(high)) + 1)]
        super().__init__(name, values, group, default, help)
        self.low, self.high = low, high

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        return f"powers of two {self.low}..{self.high}"


class Integer(Parameter):
    """Integers ``low..high`` (inclusive) on a ``step`` grid; ``log=True`` samples log-uniformly.

    >>> p = Integer("rows", 4, 256, log=True)
    >>> p.cardinality, p.allowed()
    (253, 'integers 4..256')
    """

    kind = "integer"
    dtype = "int64"

    def __init__(self, name, low: int, high: int, log: bool = False, step: int = 1, group="default",
                 default=None, help=""):
        super().__init__(name, group, default, help)
        low, high, step = _int_arg(name, "low", low), _int_arg(name, "high", high), _int_arg(name, "step", step)
        if low > high or step < 1:
            raise ConfigError(f"integer parameter '{name}': need low <= high and step >= 1")
        if log and low < 1:
            raise ConfigError(f"integer parameter '{name}': log scale needs low >= 1")
        if log and step != 1:
            raise ConfigError(f"integer parameter '{name}': log scale needs step 1")
        self.low, self.high, self.log, self.step = int(low), int(high), log, int(step)
        self.cardinality = (self.high - self.low) // self.step + 1
        if default is not None and not self.valid_mask(np.array([default])).all():
            raise ConfigError(f"default {default!r} of '{name}' is not in {self.allowed()}")

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        top = self.low + (self.cardinality - 1) * self.step
        return f"integers {self.low}..{top}" + (f" in steps of {self.step}" if self.step > 1 else "")

    def valid_mask(self, values):
        """Bool array: which ``values`` are allowed (NaN and out-of-range entries are not)."""
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return (np.isfinite(v) & (v == np.round(v)) & (v >= self.low) & (v <= self.high)
                    & ((np.round(v) - self.low) % self.step == 0))

    def index_of(self, values):
        """Grid index of valid values (Float: nearest bin), as int64."""
        return ((np.asarray(values, dtype=np.float64) - self.low) // self.step).astype(np.int64)

    def value_at(self, index):
        """Values at integer grid indices (same shape as ``index``)."""
        return self.low + np.asarray(index, dtype=np.int64) * self.step

    def to_unit(self, values):
        """Map valid values into [0, 1]; ``from_unit`` inverts it."""
        if not self.log:
            return super().to_unit(values)
        v = np.asarray(values, dtype=np.float64)
        return (np.log(v + 0.5) - math.log(self.low)) / (math.log(self.high + 1) - math.log(self.low))

    def from_unit(self, u):
        """Values of points ``u`` in [0, 1] (clipped); uniform ``u`` gives the natural prior."""
        if not self.log:
            return super().from_unit(u)
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        v = np.floor(np.exp(math.log(self.low) + u * (math.log(self.high + 1) - math.log(self.low))))
        return np.clip(v, self.low, self.high).astype(np.int64)

    def optuna_distribution(self):
        """The Optuna distribution that searches this parameter."""
        from optuna.distributions import IntDistribution
        return IntDistribution(self.low, self.high, log=self.log, step=self.step)

    def from_optuna(self, value):
        """The parameter value of an Optuna value (IndexError if out of range)."""
        return int(value)

    def parse(self, text: str):
        """A value typed on the command line, as this parameter's type (text that is no number stays text)."""
        try:
            f = float(text)
        except ValueError:
            return text
        return int(f) if math.isfinite(f) and f.is_integer() else f


class Float(Parameter):
    """Reals in ``[low, high]``. Index encodings (MultiDiscrete, grids) use ``bins`` grid points.

    >>> Float("clock_ghz", 0.5, 2.0, bins=4).value_at([0, 3]).tolist()
    [0.5, 2.0]
    """

    kind = "float"
    dtype = "float64"

    def __init__(self, name, low: float, high: float, log: bool = False, bins: int = 16,
                 group="default", default=None, help=""):
        super().__init__(name, group, default, help)
        if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in (low, high)) \
                or not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ConfigError(f"float parameter '{name}': need finite low < high")
        if log and low <= 0:
            raise ConfigError(f"float parameter '{name}': log scale needs low > 0")
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
            raise ConfigError(f"float parameter '{name}': bins must be >= 2")
        self.low, self.high, self.log, self.cardinality = float(low), float(high), log, int(bins)
        self._grid = (np.geomspace if log else np.linspace)(self.low, self.high, self.cardinality)
        if default is not None and not self.valid_mask(np.array([default], dtype=float)).all():
            raise ConfigError(f"default {default!r} of '{name}' is not in {self.allowed()}")

    @property
    def default(self):
        """The default value (the declared one, else a middle value)."""
        if self._default is not None:
            return float(self._default)
        return float(math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2)

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        return f"reals in [{self.low:g}, {self.high:g}]" + (" (log scale)" if self.log else "")

    def valid_mask(self, values):
        """Bool array: which ``values`` are allowed (NaN and out-of-range entries are not)."""
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return np.isfinite(v) & (v >= self.low) & (v <= self.high)

    def _warp(self, v):
        return np.log(v) if self.log else v

    def index_of(self, values):
        """Grid index of valid values (Float: nearest bin), as int64."""
        warped_grid = self._warp(self._grid)
        v = self._warp(np.asarray(values, dtype=np.float64))
        pos = np.clip(np.searchsorted(warped_grid, v), 1, self.cardinality - 1)
        left_closer = (v - warped_grid[pos - 1]) <= (warped_grid[pos] - v)
        return np.where(left_closer, pos - 1, pos).astype(np.int64)

    def value_at(self, index):
        """Values at integer grid indices (same shape as ``index``)."""
        return self._grid[np.asarray(index, dtype=np.int64)]

    def to_unit(self, values):
        """Map valid values into [0, 1]; ``from_unit`` inverts it."""
        lo, hi = self._warp(self.low), self._warp(self.high)
        return (self._warp(np.asarray(values, dtype=np.float64)) - lo) / (hi - lo)

    def from_unit(self, u):
        """Values of points ``u`` in [0, 1] (clipped); uniform ``u`` gives the natural prior."""
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        lo, hi = self._warp(self.low), self._warp(self.high)
        w = lo + u * (hi - lo)
        return np.clip(np.exp(w) if self.log else w, self.low, self.high)

    def optuna_distribution(self):
        """The Optuna distribution that searches this parameter."""
        from optuna.distributions import FloatDistribution
        return FloatDistribution(self.low, self.high, log=self.log)

    def from_optuna(self, value):
        """The parameter value of an Optuna value (IndexError if out of range)."""
        return float(value)

    def parse(self, text: str):
        """A value typed on the command line, as this parameter's type (text that is no number stays text)."""
        try:
            return float(text)
        except ValueError:
            return text
