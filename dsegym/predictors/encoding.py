"""Features for learned cost models: designs (and layer shapes) as numbers a network reads.

Each parameter becomes one *token*: its unit encoding (``space.to_unit_batch``) and, for categorical
parameters with more than two values, a one-hot of its value. The MLP reads the tokens concatenated;
the transformer reads them as a sequence. Layer shapes (the per-layer form) are log2-scaled and
centred on a fixed reference, so an unseen network's shapes land on the same scale.

>>> import dsegym
>>> enc = DesignEncoder(dsegym.make("toy-accel").space)
>>> x = enc.flat(dsegym.make("toy-accel").space.sample_frame(4, seed=0))
>>> x.shape, enc.token_widths
((4, 7), [1, 4, 1, 1])
"""
from __future__ import annotations

import numpy as np

from ..errors import InvalidDesignError

# log2 of a layer dimension, centred and scaled: dims from 1 to 2**20 map into about [-1, 1.5]
_LOG_CENTRE, _LOG_SCALE = 8.0, 8.0


def design_columns(frame, space):
    """The space's parameter columns of ``frame``, accepting ``NAME`` or ``design.NAME`` headers."""
    import pandas as pd
    if isinstance(frame, (list, dict)):
        frame = pd.DataFrame(frame if isinstance(frame, list) else [frame])
    cols = {}
    for name in space.names:
        if name in frame.columns:
            cols[name] = frame[name].to_numpy()
        elif f"design.{name}" in frame.columns:
            cols[name] = frame[f"design.{name}"].to_numpy()
        else:
            raise InvalidDesignError(f"the designs lack parameter '{name}'; need columns {space.names} "
                                     "(or design.NAME)")
    return pd.DataFrame(cols)


class DesignEncoder:
    """Tokens of a design space's parameters (see the module docstring)."""

    def __init__(self, space):
        self.space = space
        self.token_widths = [1 + (p.cardinality if p.kind == "categorical" and p.cardinality > 2 else 0)
                             for p in space.params]

    @property
    def width(self) -> int:
        return sum(self.token_widths)

    def flat(self, frame) -> np.ndarray:
        """(n, width) float32: every token's features side by side."""
        cols = design_columns(frame, self.space)
        u = np.empty((len(cols), len(self.space)))
        # Per-parameter checks only (no constraint check): a predictor may be asked about any grid point,
        # and this path is the inference hot spot (the space's full validation is several times slower).
        import pandas as pd
        for j, p in enumerate(self.space.params):
            raw = cols[p.name].to_numpy()
            if hasattr(p, "values") and not p.numeric:  # strings: pandas' hashed lookup, not a Python loop
                idx = pd.Categorical(raw, categories=list(p.values)).codes.astype(np.int64)
                bad = idx < 0
            else:
                v = p.coerce(raw)
                bad = ~p.valid_mask(v)
            if bad.any():
                raise InvalidDesignError(f"parameter '{p.name}' has invalid value {raw[np.argmax(bad)]!r}; "
                                         f"allowed: {p.allowed()}")
            u[:, j] = (idx + 0.5) / p.cardinality if hasattr(p, "values") and not p.numeric else p.to_unit(v)
        parts = []
        for j, (p, w) in enumerate(zip(self.space.params, self.token_widths)):
            parts.append(u[:, j:j + 1])
            if w > 1:
                idx = np.minimum((u[:, j] * p.cardinality).astype(np.int64), p.cardinality - 1)
                parts.append(np.eye(p.cardinality)[idx])
        return np.concatenate(parts, axis=1).astype(np.float32)


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
