"""Vectorised checking of the designs ``simulate`` receives.

The layer-level API is more lenient than the search space: array rows and columns must lie in the
space's range and categoricals must be known, but buffer sizes, bandwidth, channels and clock may be
any finite positive number (off the search grid), bit widths any integer 1..32 and the node any size in
7..65 nm. Besides the searched parameters it accepts the problem options ``tech_nm``, ``weight_bits``
and ``act_bits`` and ``dram_bw_gbps``: when given, it overrides ``dram_channels`` (the channel count
becomes bandwidth / per-channel bandwidth, fractional if need be), so a published configuration can be
expressed as published. The SRAM budget constraint belongs to the search problem, not to the simulator.
Categoricals come back as int8 codes in the order of ``space.DATAFLOWS`` and ``constants.DRAM_TYPES``.

>>> cols, n = design_columns([{"rows": 8, "cols": 4, "dataflow": "os", "dram_bw_gbps": 34}])
>>> n, cols["rows"].tolist(), cols["dataflow"].tolist(), cols["act_bits"].tolist(), cols["dram_bw_gbps"].tolist()
(1, [8.0], [1], [8.0], [34.0])
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...errors import InvalidDesignError
from .constants import DRAM_TYPES
from .space import DATAFLOWS, SPACE

_CATEGORIES = {"dataflow": DATAFLOWS, "dram_type": DRAM_TYPES}
_INT_RANGES = {"rows": (SPACE["rows"].low, SPACE["rows"].high), "cols": (SPACE["cols"].low, SPACE["cols"].high),
               "weight_bits": (1, 32), "act_bits": (1, 32)}
_REAL_RANGES = {"tech_nm": (7.0, 65.0)}
# Physical parameters that are problem options, not searched knobs, with the problems' defaults;
# dram_bw_gbps NaN means "channels x the type's per-channel bandwidth".
# pe_scratchpad_bytes: per-PE local storage (register file) of spatial arrays such as Eyeriss; 0 for a
# systolic array.
OPTION_DEFAULTS = {"tech_nm": 28, "weight_bits": 8, "act_bits": 8, "dram_bw_gbps": float("nan"),
                   "pe_scratchpad_bytes": 0}
DEFAULTS = {**SPACE.default(), **OPTION_DEFAULTS}
NAMES = tuple(SPACE.names) + tuple(OPTION_DEFAULTS)


def _raw_columns(designs) -> tuple[dict[str, np.ndarray], int]:
    if isinstance(designs, Mapping):
        designs = [designs]
    if hasattr(designs, "columns") and hasattr(designs, "to_numpy"):
        n = len(designs)
        present = list(designs.columns)
        # categoricals stay Series (factorize reads Arrow strings without converting them)
        get = lambda name: designs[name] if name in _CATEGORIES else designs[name].to_numpy()
    else:
        designs = list(designs)
        n = len(designs)
        for i, d in enumerate(designs):
            if not isinstance(d, Mapping):
                raise InvalidDesignError(f"design {i} is a {type(d).__name__}, expected a dict of parameters")
        present = list(dict.fromkeys(k for d in designs for k in d))
        get = lambda name: np.array([d.get(name, DEFAULTS[name]) for d in designs],
                                    dtype=object if name in _CATEGORIES else None)
    unknown = [c for c in present if c not in DEFAULTS]
    if unknown:
        raise InvalidDesignError(f"unknown parameter '{unknown[0]}'; allowed: {', '.join(NAMES)}")
    # parameters not given are left out: design_columns fills in the (valid) defaults unchecked
    return {name: get(name) for name in NAMES if name in present}, n


def _fail(name: str, values: np.ndarray, bad: np.ndarray, allowed: str):
    i = int(np.flatnonzero(bad)[0])
    value = values[i]
    value = value.item() if isinstance(value, np.generic) else value
    raise InvalidDesignError(f"invalid value {value!r} for parameter '{name}' in design {i}: allowed {allowed}")


def _numeric(name: str, raw: np.ndarray) -> np.ndarray:
    if raw.dtype.kind in "iuf":
        arr = raw.astype(np.float64, copy=False)
    else:
        arr = np.full(len(raw), np.nan)
        for i, v in enumerate(raw):  # object column: only here do we pay a Python loop
            if not isinstance(v, (bool, np.bool_)):
                try:
                    arr[i] = float(v)
                except (TypeError, ValueError):
                    pass
    return arr


def _codes(name: str, col, allowed: tuple) -> np.ndarray:
    """int8 codes of a categorical column (hash-based: fast for object, Arrow and categorical columns)."""
    import pandas as pd
    if getattr(col.dtype, "storage", None) == "pyarrow" and not isinstance(col.dtype, pd.CategoricalDtype):
        # Arrow-backed strings (pandas' default string dtype): Arrow looks the allowed names up directly,
        # without building the column's own table of distinct values first (1.4 ms per 100,000, not 2.2)
        import pyarrow as pa
        import pyarrow.compute as pc
        idx = pc.index_in(pa.array(col), value_set=pa.array(allowed)).fill_null(-1)
        out = idx.to_numpy(zero_copy_only=False).astype(np.int8)
    else:
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        lookup = np.array([allowed.index(u) if isinstance(u, str) and u in allowed else -1 for u in uniques]
                          + [-1], dtype=np.int8)
        out = lookup[codes]  # code -1 (missing value) picks the trailing -1
    if (out < 0).any():
        _fail(name, np.asarray(col, dtype=object), out < 0, "one of " + ", ".join(allowed))
    return out


def design_columns(designs) -> tuple[dict[str, np.ndarray], int]:
    """Checked float64 columns (categoricals as int codes) of a DataFrame, list of dicts or one dict."""
    raw, n = _raw_columns(designs)
    out: dict[str, np.ndarray] = {}
    for name in NAMES:
        if name not in raw:
            default = DEFAULTS[name]
            out[name] = (np.full(n, _CATEGORIES[name].index(default), dtype=np.int8) if name in _CATEGORIES
                         else np.full(n, float(default)))
            continue
        col = raw[name]
        if name in _CATEGORIES:
            out[name] = _codes(name, col, _CATEGORIES[name])
            continue
        arr = _numeric(name, col)
        # NaN fails every comparison, so range checks need no separate isfinite
        with np.errstate(invalid="ignore"):
            if name in _INT_RANGES:
                lo, hi = _INT_RANGES[name]
                ok = (arr >= lo) & (arr <= hi)
                if col.dtype.kind not in "iu":
                    ok &= arr == np.floor(arr)
                allowed = f"integers {lo}..{hi}"
            elif name in _REAL_RANGES:
                lo, hi = _REAL_RANGES[name]
                ok = (arr >= lo) & (arr <= hi)
                allowed = f"numbers in [{lo:g}, {hi:g}]"
            else:
                ok = (arr > 0) & (arr < np.inf)
                allowed = "finite numbers > 0"
                if name == "dram_bw_gbps":  # NaN: not given (derived from the channels)
                    ok |= np.isnan(arr)
                if name == "pe_scratchpad_bytes":
                    ok |= arr == 0
                    allowed = "finite numbers >= 0"
        if not ok.all():
            _fail(name, col, ~ok, allowed)
        out[name] = arr
    return out, n
