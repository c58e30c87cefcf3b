"""Features for learned cost models: designs (and layer shapes) as numbers a network reads.

Each parameter becomes one *token* of features. Two encodings exist (a model file names its own):

* ``unit``: the parameter's unit encoding (``space.to_unit_batch``) and, for a categorical parameter with
  more than two values, a one-hot of its value.
* ``rich`` (what :func:`~dsegym.predictors.train` uses unless told otherwise): ``unit`` plus, for every numeric parameter, its value on three
  scales over the declared range -- linear ``(v - lo) / (hi - lo)``, logarithmic
  ``log(v / lo) / log(hi / lo)`` and reciprocal ``lo / v`` (positive ranges only). Cost models are
  products and quotients of knobs (cycles ~ work / PEs, time ~ cycles / clock, fold counts ~ size /
  array side), which the log and reciprocal scales make near-linear; an ordinal such as a clock list
  is otherwise seen only through its index. The features depend on the design's parameters alone.

The MLP reads the tokens concatenated; the transformer reads them as a sequence. Layer shapes (the
per-layer form) are log2-scaled and centred on a fixed reference, so an unseen network's shapes land on
the same scale.

>>> import dsegym
>>> space = dsegym.make("toy-accel").space
>>> enc = DesignEncoder(space, "unit")
>>> enc.flat(space.sample_frame(4, seed=0)).shape, enc.token_widths
((4, 7), [1, 4, 1, 1])
>>> DesignEncoder(space, "rich").token_widths   # numeric knobs gain linear, log and reciprocal scales
[4, 4, 4, 4]
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, InvalidDesignError

# log2 of a layer dimension, centred and scaled: dims from 1 to 2**20 map into about [-1, 1.5]
_LOG_CENTRE, _LOG_SCALE = 8.0, 8.0
ENCODINGS = ("unit", "rich")
DEFAULT_ENCODING = "rich"


def _frame_of(frame):
    import pandas as pd
    if isinstance(frame, (list, dict)):
        return pd.DataFrame(frame if isinstance(frame, list) else [frame])
    return frame


def _series(frame, name: str, space):
    for key in (name, f"design.{name}"):
        if key in frame.columns:
            return frame[key]
    raise InvalidDesignError(f"the designs lack parameter '{name}'; need columns {space.names} (or design.NAME)")


def design_columns(frame, space):
    """The space's parameter columns of ``frame``, accepting ``NAME`` or ``design.NAME`` headers."""
    import pandas as pd
    frame = _frame_of(frame)
    return pd.DataFrame({name: _series(frame, name, space).to_numpy() for name in space.names})


def _codes(series, values) -> np.ndarray:
    """Index of each entry of ``series`` in ``values`` (-1 where absent), without a Python loop.

    pyarrow's hashed ``index_in`` reads pandas' Arrow-backed string columns without a copy (~100x
    faster than building a ``pd.Categorical`` from them); other columns fall back to pandas.
    """
    import pandas as pd
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        idx = pc.index_in(pa.array(series, from_pandas=True), value_set=pa.array(list(values)))
        return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    except (ImportError, TypeError, ValueError, NotImplementedError):  # pyarrow's errors subclass these
        return pd.Categorical(np.asarray(series), categories=list(values)).codes.astype(np.int64)


def _numeric_range(p) -> tuple[float, float] | None:
    """(low, high) of a numeric parameter's declared values, None for a categorical one."""
    if hasattr(p, "values"):
        if not p.numeric:
            return None
        vals = np.asarray(p.values, dtype=np.float64)
        return float(vals.min()), float(vals.max())
    if hasattr(p, "low") and hasattr(p, "high"):
        return float(p.low), float(p.high)
    return None


class DesignEncoder:
    """Tokens of a design space's parameters (see the module docstring)."""

    def __init__(self, space, encoding: str = "unit"):
        if encoding not in ENCODINGS:
            raise ConfigError(f"unknown design encoding {encoding!r}; allowed: {', '.join(ENCODINGS)}")
        self.space, self.encoding = space, encoding
        self._plan = []  # per parameter: (one-hot width, numeric range or None, scales)
        for p in space.params:
            onehot = p.cardinality if p.kind == "categorical" and p.cardinality > 2 else 0
            rng = _numeric_range(p) if encoding == "rich" else None
            if rng is not None and rng[1] <= rng[0]:
                rng = None
            scales = 0 if rng is None else (3 if rng[0] > 0 else 1)
            self._plan.append((onehot, rng, scales))
        self.token_widths = [1 + oh + sc for oh, _, sc in self._plan]

    @property
    def width(self) -> int:
        return sum(self.token_widths)

    def flat(self, frame) -> np.ndarray:
        """(n, width) float32: every token's features side by side.

        Checks each parameter's values (one clear error naming the first bad one) but not the space's
        constraints: a predictor may be asked about any grid point, and this is the inference hot path.
        """
        frame = _frame_of(frame)
        n = len(frame)
        out = np.empty((n, self.width), dtype=np.float32)
        col = 0
        for p, (onehot, rng, scales) in zip(self.space.params, self._plan):
            series = _series(frame, p.name, self.space)
            if hasattr(p, "values") and not p.numeric:
                idx = _codes(series, p.values)
                bad = idx < 0
                v = None
            else:
                v = p.coerce(series.to_numpy())
                bad = ~p.valid_mask(v)
            if bad.any():
                first = series.iloc[int(np.argmax(bad))]
                first = first.item() if isinstance(first, np.generic) else first
                raise InvalidDesignError(f"parameter '{p.name}' has invalid value {first!r}; "
                                         f"allowed: {p.allowed()}")
            out[:, col] = (idx + 0.5) / p.cardinality if v is None else p.to_unit(v)
            col += 1
            if onehot:
                if v is not None:
                    idx = np.minimum((out[:, col - 1] * p.cardinality).astype(np.int64), p.cardinality - 1)
                block = out[:, col:col + onehot]
                block[:] = 0.0
                block[np.arange(n), idx] = 1.0
                col += onehot
            if scales:
                lo, hi = rng
                vf = np.asarray(v, dtype=np.float64)
                out[:, col] = (vf - lo) / (hi - lo)
                if scales == 3:
                    out[:, col + 1] = np.log(vf / lo) / math.log(hi / lo)
                    out[:, col + 2] = lo / vf
                col += scales
        return out


def layer_features(frame) -> np.ndarray:
    """(n, 5) float32 log-scaled layer shapes from ``layer_m, layer_n, layer_k, layer_ifmap_elems,
    layer_repeat`` columns."""
    from ..datasets.layers import LAYER_FEATURES
    missing = [c for c in LAYER_FEATURES if c not in frame.columns]
    if missing:
        raise InvalidDesignError(f"per-layer predictions need layer columns {list(LAYER_FEATURES)}; missing {missing}")
    x = np.stack([frame[c].to_numpy(dtype=np.float64) for c in LAYER_FEATURES], axis=1)
    if not np.isfinite(x).all() or (x < 1).any():
        raise InvalidDesignError("layer dimensions must be finite and at least 1")
    return ((np.log2(x) - _LOG_CENTRE) / _LOG_SCALE).astype(np.float32)
