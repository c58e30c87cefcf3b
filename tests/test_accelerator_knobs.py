"""Every knob has a cost: no value of any searched parameter makes random designs at least as good on
every objective (latency, energy, area) in 98% or more of cases, on every accelerator problem."""
from __future__ import annotations

import numpy as np
import pytest

import dsegym

ACCEL_IDS = [pid for pid in dsegym.list_problems() if pid.startswith("accel-")]
LIMIT = 0.98


def free_knobs(problem, n: int = 200, seed: int = 0):
    """(parameter, value, share of designs it makes at least as good on every objective) per value."""
    space = problem.space
    base = space.sample_frame(n, seed)
    objectives = [o.metric for o in problem.objectives]
    ref = problem.evaluate(base)[objectives].to_numpy()
    out = []
    for p in space.params:
        idx = np.unique(np.linspace(0, p.cardinality - 1, min(p.cardinality, 10)).round().astype(int))
        for v in p.value_at(idx):  # every value; for the array sides, ten spread over the range
            v = v.item() if hasattr(v, "item") else v
            forced = base.copy()
            forced[p.name] = v
            keep = (base[p.name] != v).to_numpy() & space.constraint_mask({c: forced[c].to_numpy() for c in forced.columns})
            if keep.sum() < 20:
                continue
            res = problem.evaluate(forced[keep].reset_index(drop=True))[objectives].to_numpy()
            share = float((res <= ref[keep]).all(axis=1).mean())
            out.append((p.name, v, share))
    return out


@pytest.mark.parametrize("pid", ACCEL_IDS)
def test_no_value_of_any_knob_is_free(pid):
    bad = [(name, v, round(share, 3)) for name, v, share in free_knobs(dsegym.make(pid)) if share >= LIMIT]
    assert not bad, f"{pid}: free knob values {bad}"
