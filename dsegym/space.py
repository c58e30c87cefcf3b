"""Design spaces: typed parameters, constraints between them, and every encoding agents need.

A space is declared once; Gymnasium (``nvec``), Optuna (``optuna_distributions``), continuous agents
(``to_unit``), evolutionary agents (``to_index``) and datasets (``to_frame``) all derive from it, so no
agent can search a different range than another.

>>> space = DesignSpace([
...     Integer("rows", 4, 256, log=True, default=32, group="compute"),
...     Categorical("dataflow", ["ws", "os", "is"], group="compute"),
...     PowerOfTwo("sram_kb", 8, 1024, default=64, group="memory"),
... ], constraints=[Constraint("small_array_small_sram",
...                            lambda d: (d["rows"] >= 16) | (d["sram_kb"] <= 256),
...                            "arrays under 16 rows take at most 256 KB of SRAM")])
>>> space.size
6072
>>> space.count_valid()
6000
>>> d = space.sample(1, seed=0)[0]
>>> space.from_index(space.to_index(d)) == d
True
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ConfigError, ConstraintViolation, InvalidDesignError

Design = dict[str, Any]

# Rejection sampling gives up below this acceptance rate: constraints that tight need a custom sampler.
_MIN_ACCEPTANCE = 1e-4
_MAX_ENUMERATION = 50_000_000


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
        raise NotImplementedError

    def index_of(self, values: np.ndarray) -> np.ndarray:
        """Grid index of valid values (Float: nearest bin)."""
        raise NotImplementedError

    def value_at(self, index: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """Map valid values into [0, 1]; ``from_unit`` inverts it (uniform u gives the natural prior)."""
        idx = self.index_of(values)
        return (idx + 0.5) / self.cardinality

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        idx = np.minimum(np.floor(np.clip(u, 0.0, 1.0) * self.cardinality), self.cardinality - 1)
        return self.value_at(idx.astype(np.int64))

    def optuna_distribution(self):
        raise NotImplementedError

    def from_optuna(self, value: Any) -> Any:
        return value

    def parse(self, text: str) -> Any:
        """Parse a value written on the command line."""
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------------------------
    @property
    def default(self) -> Any:
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
        return self._default if self._default is not None else self.values[0]

    def optuna_distribution(self):
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
        from optuna.distributions import IntDistribution
        return IntDistribution(0, self.cardinality - 1)

    def from_optuna(self, value):
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
        top = self.low + (self.cardinality - 1) * self.step
        return f"integers {self.low}..{top}" + (f" in steps of {self.step}" if self.step > 1 else "")

    def valid_mask(self, values):
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return (np.isfinite(v) & (v == np.round(v)) & (v >= self.low) & (v <= self.high)
                    & ((np.round(v) - self.low) % self.step == 0))

    def index_of(self, values):
        return ((np.asarray(values, dtype=np.float64) - self.low) // self.step).astype(np.int64)

    def value_at(self, index):
        return self.low + np.asarray(index, dtype=np.int64) * self.step

    def to_unit(self, values):
        if not self.log:
            return super().to_unit(values)
        v = np.asarray(values, dtype=np.float64)
        return (np.log(v + 0.5) - math.log(self.low)) / (math.log(self.high + 1) - math.log(self.low))

    def from_unit(self, u):
        if not self.log:
            return super().from_unit(u)
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        v = np.floor(np.exp(math.log(self.low) + u * (math.log(self.high + 1) - math.log(self.low))))
        return np.clip(v, self.low, self.high).astype(np.int64)

    def optuna_distribution(self):
        from optuna.distributions import IntDistribution
        return IntDistribution(self.low, self.high, log=self.log, step=self.step)

    def from_optuna(self, value):
        return int(value)

    def parse(self, text: str):
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
        if self._default is not None:
            return float(self._default)
        return float(math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2)

    def allowed(self) -> str:
        return f"reals in [{self.low:g}, {self.high:g}]" + (" (log scale)" if self.log else "")

    def valid_mask(self, values):
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return np.isfinite(v) & (v >= self.low) & (v <= self.high)

    def _warp(self, v):
        return np.log(v) if self.log else v

    def index_of(self, values):
        warped_grid = self._warp(self._grid)
        v = self._warp(np.asarray(values, dtype=np.float64))
        pos = np.clip(np.searchsorted(warped_grid, v), 1, self.cardinality - 1)
        left_closer = (v - warped_grid[pos - 1]) <= (warped_grid[pos] - v)
        return np.where(left_closer, pos - 1, pos).astype(np.int64)

    def value_at(self, index):
        return self._grid[np.asarray(index, dtype=np.int64)]

    def to_unit(self, values):
        lo, hi = self._warp(self.low), self._warp(self.high)
        return (self._warp(np.asarray(values, dtype=np.float64)) - lo) / (hi - lo)

    def from_unit(self, u):
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        lo, hi = self._warp(self.low), self._warp(self.high)
        w = lo + u * (hi - lo)
        return np.clip(np.exp(w) if self.log else w, self.low, self.high)

    def optuna_distribution(self):
        from optuna.distributions import FloatDistribution
        return FloatDistribution(self.low, self.high, log=self.log)

    def from_optuna(self, value):
        return float(value)

    def parse(self, text: str):
        try:
            return float(text)
        except ValueError:
            return text


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
        n = len(next(iter(columns.values()))) if columns else 0
        out = np.asarray(self.fn(columns), dtype=bool)
        return np.broadcast_to(out, (n,)) if out.ndim == 0 else out

    def __repr__(self) -> str:
        return f"Constraint({self.name!r}: {self.description})"


class DesignSpace:
    """An ordered set of typed parameters plus constraints. See the module docstring for an example."""

    def __init__(self, params: Sequence[Parameter], constraints: Sequence[Constraint] = (), name: str = ""):
        if isinstance(params, (str, bytes)) or not isinstance(params, Sequence) or not params:
            raise ConfigError("a design space needs a non-empty list of parameters")
        for p in params:
            if not isinstance(p, Parameter):
                raise ConfigError(f"design space parameters must be Parameter objects (Integer, Categorical, ...), "
                                  f"got {type(p).__name__}")
        for c in constraints:
            if not isinstance(c, Constraint):
                raise ConfigError(f"constraints must be Constraint objects, got {type(c).__name__}")
        names = [p.name for p in params]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ConfigError(f"duplicate parameter names: {sorted(dupes)}")
        self.params: list[Parameter] = list(params)
        self.names: list[str] = names
        self.name = name
        self._by_name = {p.name: p for p in params}
        self.constraints: list[Constraint] = list(constraints)
        defaults = {p.name: np.array([p.default]) for p in params}
        for c in self.constraints:
            if c.params is None:
                probe = _KeyRecorder(defaults)
                c(probe)
                c.params = tuple(n for n in names if n in probe.read)
            unknown = set(c.params) - set(names)
            if unknown:
                raise ConfigError(f"constraint '{c.name}' names unknown parameters {sorted(unknown)}")
        self.nvec = np.array([p.cardinality for p in params], dtype=np.int64)
        self._default = {p.name: _native(p.default) for p in params}
        self.validate(self._default, what="the default design")

    # --- introspection ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.params)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._by_name[name]
        except KeyError:
            from .errors import UnknownIdError
            raise UnknownIdError("parameter", name, self.names) from None

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __repr__(self) -> str:
        return f"DesignSpace({len(self)} parameters, size={self.size})"

    def __str__(self) -> str:
        """Every parameter with its group, kind, allowed values and default, then the constraints.

        >>> print(DesignSpace([Integer("x", 1, 4, group="g")],
        ...                   [Constraint("odd", lambda d: d["x"] % 2 == 1, "x is odd")]))
        DesignSpace: 1 parameters, 4 grid designs
          [g] x: integer, integers 1..4 (default 1)
        constraints:
          odd: x is odd
        """
        size = "infinite" if self.size == math.inf else f"{self.size:,}"
        title = f"DesignSpace{' ' + repr(self.name) if self.name else ''}: {len(self)} parameters, {size} grid designs"
        lines = [title]
        for group, names in self.groups.items():
            for n in names:
                p = self._by_name[n]
                lines.append(f"  [{group}] {n}: {p.kind}, {p.allowed()} (default {p.default})")
        if self.constraints:
            lines.append("constraints:")
            lines += [f"  {c.name}: {c.description}" for c in self.constraints]
        return "\n".join(lines)

    @property
    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in self.params:
            out.setdefault(p.group, []).append(p.name)
        return out

    @property
    def has_float(self) -> bool:
        return any(p.kind == "float" for p in self.params)

    @property
    def size(self) -> int | float:
        """Number of points in the unconstrained grid (``math.inf`` if any parameter is a Float)."""
        if self.has_float:
            return math.inf
        return math.prod(int(k) for k in self.nvec)

    def default(self) -> Design:
        return dict(self._default)

    def describe(self) -> list[dict[str, Any]]:
        return [p.describe() for p in self.params]

    # --- validation ---------------------------------------------------------------------------------
    def _columns(self, designs) -> tuple[dict[str, np.ndarray], int]:
        """Raw columns (defaults filled) from a list of dicts, one dict, a DataFrame, or a mapping of
        1-D numpy columns (as ``sample_columns`` and ``index_columns`` return)."""
        if isinstance(designs, Mapping):
            if designs and all(isinstance(v, np.ndarray) and v.ndim == 1 for v in designs.values()):
                import pandas as pd
                designs = pd.DataFrame(dict(designs))
            else:
                designs = [designs]
        if hasattr(designs, "columns") and hasattr(designs, "to_numpy"):  # a DataFrame
            n = len(designs)
            unknown = [c for c in designs.columns if c not in self._by_name]
            if unknown:
                raise InvalidDesignError(f"unknown parameter '{unknown[0]}'; allowed: {', '.join(self.names)}")
            cols = {p.name: (designs[p.name].to_numpy() if p.name in designs.columns
                             else np.full(n, p.default, dtype=object if p.dtype == "object" else p.dtype))
                    for p in self.params}
            return cols, n
        if isinstance(designs, (str, bytes)) or not isinstance(designs, Iterable):
            raise InvalidDesignError(f"designs must be a list of dicts, a dict or a DataFrame, "
                                     f"got {type(designs).__name__}")
        designs = list(designs)
        for i, d in enumerate(designs):
            if not isinstance(d, Mapping):
                raise InvalidDesignError(f"design {i} is a {type(d).__name__}, expected a dict of parameters")
            for k, v in d.items():
                if k not in self._by_name:
                    raise InvalidDesignError(f"unknown parameter '{k}'; allowed: {', '.join(self.names)}")
                if isinstance(v, (list, tuple, dict, set, np.ndarray)) and np.ndim(v) != 0 or isinstance(v, (dict, set)):
                    raise InvalidDesignError(f"invalid value {v!r} for parameter '{k}'"
                                             f"{f' in design {i}' if len(designs) > 1 else ''}: "
                                             f"allowed {self._by_name[k].allowed()}")
        cols = {}
        for p in self.params:
            raw = [d.get(p.name, p.default) for d in designs]
            cols[p.name] = np.array(raw, dtype=object) if p.dtype == "object" else _as_array(raw)
        return cols, len(designs)

    def check_columns(self, designs, what: str = "batch") -> dict[str, np.ndarray]:
        """Validate designs column-wise and return typed numpy columns. Raises on the first bad design."""
        raw, n = self._columns(designs)
        cols = {p.name: p.check(raw[p.name], where=what) for p in self.params}
        if n:
            self._check_constraints(cols, what)
        return cols

    def constraint_mask(self, cols: Mapping[str, np.ndarray]) -> np.ndarray:
        """Which designs, given as typed value columns, honour every constraint."""
        n = len(next(iter(cols.values()))) if cols else 0
        ok = np.ones(n, dtype=bool)
        for c in self.constraints:
            ok &= c(cols)
        return ok

    def valid_index_mask(self, idx: np.ndarray) -> np.ndarray:
        """Which rows of an (n, d) index matrix honour every constraint (indices must be in range)."""
        idx = np.atleast_2d(idx)
        if not self.constraints:
            return np.ones(len(idx), dtype=bool)
        return self.constraint_mask(self.index_columns(idx))

    def _check_constraints(self, cols: Mapping[str, np.ndarray], what: str) -> None:
        for c in self.constraints:
            ok = c(cols)
            if not ok.all():
                i = int(np.flatnonzero(~ok)[0])
                vals = ", ".join(f"{k}={_native(cols[k][i])}" for k in c.params)
                loc = f"design {i}" if what == "batch" else what
                raise ConstraintViolation(f"{loc} violates constraint '{c.name}': {c.description} (got {vals})")

    def valid_mask(self, designs) -> np.ndarray:
        """Which designs pass every parameter check and constraint (never raises on bad values)."""
        raw, n = self._columns(designs)
        ok = np.ones(n, dtype=bool)
        cols = {}
        for p in self.params:
            arr = p.coerce(raw[p.name])
            good = p.valid_mask(arr)
            ok &= good
            safe = np.where(good, arr, np.asarray([p.default], dtype=arr.dtype)) if n else arr
            cols[p.name] = p.value_at(p.index_of(safe)) if p.kind != "float" else safe.astype(float)
        return ok & self.constraint_mask(cols)

    def validate(self, design: Mapping[str, Any], what: str = "the design") -> Design:
        """One design, checked and normalised (defaults filled, values typed)."""
        cols = self.check_columns([design], what=what)
        return {k: _native(v[0]) for k, v in cols.items()}

    def to_frame(self, designs):
        """Validated designs as a DataFrame with one typed column per parameter, in space order."""
        import pandas as pd
        cols = self.check_columns(designs)
        return pd.DataFrame({k: v for k, v in cols.items()})

    def _rows(self, cols: Mapping[str, np.ndarray], n: int) -> list[Design]:
        lists = {k: v.tolist() for k, v in cols.items()}
        return [{k: lists[k][i] for k in self.names} for i in range(n)]

    # --- sampling and enumeration -------------------------------------------------------------------
    def sample(self, n: int, seed: int | np.random.Generator | None = None) -> list[Design]:
        """``n`` designs drawn from the natural prior (log-uniform on log scales) that honour constraints.

        ``n`` is a non-negative integer (``sample(0)`` is ``[]``); ``seed`` is None, an integer >= 0 or a
        numpy Generator. Raises ConfigError otherwise.
        """
        cols = self.sample_columns(n, seed)
        return self._rows(cols, n)

    def sample_frame(self, n: int, seed=None):
        import pandas as pd
        return pd.DataFrame(self.sample_columns(n, seed))

    def sample_columns(self, n: int, seed=None) -> dict[str, np.ndarray]:
        """``n`` sampled designs as typed numpy columns (see :meth:`sample`)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ConfigError(f"the number of designs to sample must be an integer >= 0, got {n!r}")
        n = int(n)
        rng = _generator(seed)
        if n == 0:
            return {p.name: np.zeros(0, dtype=p.dtype) for p in self.params}
        parts: list[dict[str, np.ndarray]] = []
        have, drawn = 0, 0
        while have < n:
            batch = max(2 * (n - have), 64)
            cols = {p.name: p.from_unit(rng.random(batch)) for p in self.params}
            ok = self.constraint_mask(cols)
            drawn += batch
            parts.append({k: v[ok] for k, v in cols.items()})
            have += int(ok.sum())
            if drawn > 1000 and have < _MIN_ACCEPTANCE * drawn:
                names = ", ".join(c.name for c in self.constraints)
                raise ConfigError(f"constraints ({names}) reject nearly every random design; "
                                  "the space cannot be sampled by rejection")
        return {k: np.concatenate([p[k] for p in parts])[:n] for k in self.names}

    def _decode_ids(self, ids: np.ndarray, params: Sequence[Parameter]) -> dict[str, np.ndarray]:
        """Mixed-radix decode of flat grid ids into value columns (last parameter varies fastest)."""
        cols = {}
        rem = ids.copy()
        for p in reversed(params):
            cols[p.name] = p.value_at(rem % p.cardinality)
            rem //= p.cardinality
        return {p.name: cols[p.name] for p in params}

    def count_valid(self) -> int | float:
        """Exact number of grid designs that honour every constraint.

        Only the parameters that constraints read are enumerated; the others multiply the count.
        """
        if self.has_float:
            return math.inf
        if not self.constraints:
            return self.size
        involved = [p for p in self.params if any(p.name in c.params for c in self.constraints)]
        sub = math.prod(p.cardinality for p in involved)
        if sub > _MAX_ENUMERATION:
            raise ConfigError(f"constraints involve {sub} combinations, too many to count exactly "
                              f"(limit {_MAX_ENUMERATION}); use valid_fraction()")
        rest = self.size // sub
        count = 0
        defaults = {p.name: p.default for p in self.params}
        for start in range(0, sub, 1_000_000):
            ids = np.arange(start, min(sub, start + 1_000_000), dtype=np.int64)
            cols = self._decode_ids(ids, involved)
            full = {name: cols.get(name, np.full(len(ids), defaults[name], dtype=object)) for name in self.names}
            count += int(self.constraint_mask(full).sum())
        return count * rest

    def valid_fraction(self, n: int = 100_000, seed: int = 0) -> float:
        """Fraction of uniformly drawn grid designs that honour the constraints (an estimate)."""
        rng = np.random.default_rng(seed)
        cols = {p.name: p.value_at(rng.integers(0, p.cardinality, n)) for p in self.params}
        return float(self.constraint_mask(cols).mean())

    def enumerate(self, chunk: int = 100_000) -> Iterator[Design]:
        """Every valid grid design (Float parameters at their bins), in index order. For small spaces."""
        total = self.size if not self.has_float else math.prod(int(k) for k in self.nvec)
        for start in range(0, total, chunk):
            ids = np.arange(start, min(total, start + chunk), dtype=np.int64)
            cols = self._decode_ids(ids, self.params)
            ok = self.constraint_mask(cols)
            yield from self._rows({k: v[ok] for k, v in cols.items()}, int(ok.sum()))

    def neighbors(self, design: Mapping[str, Any]) -> list[Design]:
        """Valid designs that differ in one parameter: one grid step for ordered ones, any other choice
        for categoricals."""
        base = self.to_index(design)
        out = []
        for j, p in enumerate(self.params):
            steps = (range(p.cardinality) if p.kind == "categorical"
                     else (base[j] - 1, base[j] + 1))
            for k in steps:
                if k == base[j] or not 0 <= k < p.cardinality:
                    continue
                idx = base.copy()
                idx[j] = k
                out.append(self._from_index_unchecked(idx))
        mask = self.valid_mask(out) if out else np.zeros(0, bool)
        return [d for d, ok in zip(out, mask) if ok]

    # --- encodings ----------------------------------------------------------------------------------
    def to_index_batch(self, designs) -> np.ndarray:
        """(n, d) int64 grid indices; Float values snap to the nearest bin."""
        cols = self.check_columns(designs)
        return np.stack([p.index_of(cols[p.name]) for p in self.params], axis=1)

    def to_index(self, design: Mapping[str, Any]) -> np.ndarray:
        return self.to_index_batch([design])[0]

    def _check_index(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx)
        if idx.ndim != 2 or idx.shape[1] != len(self):
            raise InvalidDesignError(f"index vectors must have {len(self)} entries (one per parameter), "
                                     f"got shape {idx.shape[1:] if idx.ndim == 2 else idx.shape}")
        if idx.dtype.kind == "f":
            if not np.isfinite(idx).all() or (idx != np.round(idx)).any():
                raise InvalidDesignError("index vectors must hold finite integers")
        idx = idx.astype(np.int64)
        bad = (idx < 0) | (idx >= self.nvec)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise InvalidDesignError(f"index {idx[i, j]} out of range for parameter '{self.names[j]}': "
                                     f"allowed 0..{self.nvec[j] - 1}")
        return idx

    def _from_index_unchecked(self, idx: np.ndarray) -> Design:
        return {p.name: _native(p.value_at(np.array([idx[j]]))[0]) for j, p in enumerate(self.params)}

    def index_columns(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        idx = self._check_index(idx)
        return {p.name: p.value_at(idx[:, j]) for j, p in enumerate(self.params)}

    def from_index_batch(self, idx, check_constraints: bool = True) -> list[Design]:
        cols = self.index_columns(np.asarray(idx))
        if check_constraints:
            self._check_constraints(cols, "batch")
        return self._rows(cols, len(idx))

    def from_index(self, idx, check_constraints: bool = True) -> Design:
        return self.from_index_batch(np.asarray(idx)[None, :], check_constraints)[0]

    def to_unit_batch(self, designs) -> np.ndarray:
        """(n, d) floats in [0, 1]; uniform random vectors decode to the natural prior."""
        cols = self.check_columns(designs)
        return np.stack([p.to_unit(cols[p.name]) for p in self.params], axis=1)

    def to_unit(self, design: Mapping[str, Any]) -> np.ndarray:
        return self.to_unit_batch([design])[0]

    def unit_columns(self, u: np.ndarray) -> dict[str, np.ndarray]:
        u = np.asarray(u, dtype=np.float64)
        if u.ndim != 2 or u.shape[1] != len(self):
            raise InvalidDesignError(f"unit vectors must have {len(self)} entries, got shape {u.shape}")
        if not np.isfinite(u).all():
            raise InvalidDesignError("unit vectors must be finite (got NaN or inf)")
        return {p.name: p.from_unit(u[:, j]) for j, p in enumerate(self.params)}

    def from_unit_batch(self, u, check_constraints: bool = True) -> list[Design]:
        cols = self.unit_columns(u)
        if check_constraints:
            self._check_constraints(cols, "batch")
        return self._rows(cols, len(u))

    def from_unit(self, u, check_constraints: bool = True) -> Design:
        return self.from_unit_batch(np.asarray(u)[None, :], check_constraints)[0]

    def optuna_distributions(self) -> dict[str, Any]:
        """Optuna distributions, one per parameter. Ordinals are exposed by index (see ``from_optuna``)."""
        return {p.name: p.optuna_distribution() for p in self.params}

    def from_optuna(self, params: Mapping[str, Any]) -> Design:
        """The design of Optuna parameter values (ordinals by index); raises InvalidDesignError if one is
        out of range or unknown."""
        if not isinstance(params, Mapping):
            raise InvalidDesignError(f"from_optuna needs a mapping of parameter values, got {type(params).__name__}")
        unknown = [k for k in params if k not in self._by_name]
        if unknown:
            raise InvalidDesignError(f"unknown parameter '{unknown[0]}'; allowed: {', '.join(self.names)}")
        design = {}
        for p in self.params:
            if p.name not in params:
                continue
            try:
                design[p.name] = p.from_optuna(params[p.name])
            except (IndexError, TypeError, ValueError, OverflowError):
                raise InvalidDesignError(f"invalid Optuna value {params[p.name]!r} for parameter '{p.name}'") from None
        return self.validate(design)

    def to_optuna(self, design: Mapping[str, Any]) -> dict[str, Any]:
        """The Optuna parameter values of a design (the inverse of ``from_optuna``)."""
        d = self.validate(design)
        return {p.name: (int(p.index_of(np.array([d[p.name]]))[0]) if p.kind in ("ordinal", "power_of_two")
                         else d[p.name]) for p in self.params}

    def parse(self, assignments: Mapping[str, str]) -> Design:
        """A design from ``name -> text`` (as typed on a command line), validated."""
        design = {}
        for k, text in assignments.items():
            design[k] = self[k].parse(text)
        return self.validate(design)

    # --- identity -----------------------------------------------------------------------------------
    def hash(self, design: Mapping[str, Any]) -> str:
        """A stable 16-hex-digit hash of a (validated) design, equal across runs, machines and Python
        versions."""
        d = self.validate(design)
        payload = json.dumps([[k, d[k]] for k in self.names], separators=(",", ":"))
        return hashlib.sha1(payload.encode()).hexdigest()[:16]

    def fingerprint(self) -> str:
        """A hash of the space declaration itself (names, kinds, allowed values)."""
        payload = json.dumps([[p.name, p.kind, p.allowed(), p.cardinality] for p in self.params]
                             + [[c.name, c.description] for c in self.constraints])
        return hashlib.sha1(payload.encode()).hexdigest()[:16]


def _generator(seed) -> np.random.Generator:
    """A numpy Generator from None, an integer >= 0 or a Generator (ConfigError otherwise)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ConfigError(f"seed must be None, an integer >= 0 or a numpy Generator, got {seed!r}")
    return np.random.default_rng(seed)


def _as_array(raw: list) -> np.ndarray:
    try:
        arr = np.asarray(raw)
    except (ValueError, TypeError):
        return np.array(raw, dtype=object)
    return arr if arr.dtype.kind in "iufb" else np.array(raw, dtype=object)
