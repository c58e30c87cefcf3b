"""The design space: an ordered set of typed parameters plus constraints, and every encoding of it.

See :mod:`dsegym.space` for an example.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, ConstraintViolation, InvalidDesignError, UnknownIdError
from .constraints import Constraint, _KeyRecorder
from .parameters import Parameter, _native

Design = dict[str, Any]

# Rejection sampling gives up below this acceptance rate: constraints that tight need a custom sampler.
_MIN_ACCEPTANCE = 1e-4
_MAX_ENUMERATION = 50_000_000


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
            raise UnknownIdError("parameter", name, self.names) from None

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __repr__(self) -> str:
        return f"DesignSpace({len(self)} parameters, size={self.size})"

    def __str__(self) -> str:
        """Every parameter with its group, kind, allowed values and default, then the constraints.

        >>> from dsegym.space import Integer
        >>> print(DesignSpace([Integer("x", 1, 4, group="g", default=1)],
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
        """Parameter names by group, in declaration order."""
        out: dict[str, list[str]] = {}
        for p in self.params:
            out.setdefault(p.group, []).append(p.name)
        return out

    @property
    def has_float(self) -> bool:
        """True if any parameter is a Float (then the grid size is infinite)."""
        return any(p.kind == "float" for p in self.params)

    @property
    def size(self) -> int | float:
        """Number of points in the unconstrained grid (``math.inf`` if any parameter is a Float)."""
        if self.has_float:
            return math.inf
        return math.prod(int(k) for k in self.nvec)

    def default(self) -> Design:
        """The default design (every parameter at its default); it honours every constraint."""
        return dict(self._default)

    def describe(self) -> list[dict[str, Any]]:
        """One dict per parameter: name, kind, group, allowed values, cardinality, default, help."""
        return [p.describe() for p in self.params]

    def fingerprint(self) -> str:
        """A hash of the declaration itself (names, kinds, allowed values, constraints).

        Model files and datasets store it, so a space that changed is caught when they are loaded.

        >>> from dsegym.space import DesignSpace, Categorical
        >>> len(DesignSpace([Categorical("a", [1, 2])]).fingerprint())
        16
        """
        payload = json.dumps([[p.name, p.kind, p.allowed(), p.cardinality] for p in self.params]
                             + [[c.name, c.description] for c in self.constraints])
        return hashlib.sha1(payload.encode()).hexdigest()[:16]

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
        """``n`` sampled designs as a DataFrame, one typed column per parameter."""
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
        """(d,) int64 grid indices of one design (Float values snap to the nearest bin)."""
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
        """Value columns of an (n, d) index matrix; InvalidDesignError if an index is out of range."""
        idx = self._check_index(idx)
        return {p.name: p.value_at(idx[:, j]) for j, p in enumerate(self.params)}

    def from_index_batch(self, idx, check_constraints: bool = True) -> list[Design]:
        """Designs of an (n, d) index matrix; ConstraintViolation unless ``check_constraints=False``."""
        cols = self.index_columns(np.asarray(idx))
        if check_constraints:
            self._check_constraints(cols, "batch")
        return self._rows(cols, len(idx))

    def from_index(self, idx, check_constraints: bool = True) -> Design:
        """The design of one (d,) index vector (see :meth:`from_index_batch`)."""
        return self.from_index_batch(np.asarray(idx)[None, :], check_constraints)[0]

    def to_unit_batch(self, designs) -> np.ndarray:
        """(n, d) floats in [0, 1]; uniform random vectors decode to the natural prior."""
        cols = self.check_columns(designs)
        return np.stack([p.to_unit(cols[p.name]) for p in self.params], axis=1)

    def to_unit(self, design: Mapping[str, Any]) -> np.ndarray:
        """(d,) floats in [0, 1] encoding one design (see :meth:`to_unit_batch`)."""
        return self.to_unit_batch([design])[0]

    def unit_columns(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """Value columns of an (n, d) matrix in [0, 1] (clipped); InvalidDesignError for NaN or bad shapes."""
        u = np.asarray(u, dtype=np.float64)
        if u.ndim != 2 or u.shape[1] != len(self):
            raise InvalidDesignError(f"unit vectors must have {len(self)} entries, got shape {u.shape}")
        if not np.isfinite(u).all():
            raise InvalidDesignError("unit vectors must be finite (got NaN or inf)")
        return {p.name: p.from_unit(u[:, j]) for j, p in enumerate(self.params)}

    def from_unit_batch(self, u, check_constraints: bool = True) -> list[Design]:
        """Designs of an (n, d) unit matrix; ConstraintViolation unless ``check_constraints=False``."""
        cols = self.unit_columns(u)
        if check_constraints:
            self._check_constraints(cols, "batch")
        return self._rows(cols, len(u))

    def from_unit(self, u, check_constraints: bool = True) -> Design:
        """The design of one (d,) unit vector (see :meth:`from_unit_batch`)."""
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
