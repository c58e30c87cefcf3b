"""The "every knob has a cost" measurement, shared by the simulator families' knob tests."""
from __future__ import annotations

import numpy as np


def free_knobs(problem, n: int = 200, seed: int = 0, max_values: int = 10, min_kept: int = 20):
    """(parameter, value, share of designs that forcing the value makes at least as good on every
    optimised objective) per value. Up to ``max_values`` values spread over each parameter's range are
    tried; designs that already had the value, or that the forced value makes infeasible, are left
    out, and a value with fewer than ``min_kept`` designs left is skipped."""
    space = problem.space
    base = space.sample_frame(n, seed)
    ref = problem.objective_matrix(problem.evaluate(base))  # costs: lower is better on every column
    out = []
    for p in space.params:
        idx = np.unique(np.linspace(0, p.cardinality - 1, min(p.cardinality, max_values)).round().astype(int))
        for v in p.value_at(idx):
            v = v.item() if hasattr(v, "item") else v
            forced = base.copy()
            forced[p.name] = v
            keep = (base[p.name] != v).to_numpy() & space.constraint_mask(
                {c: forced[c].to_numpy() for c in forced.columns})
            if keep.sum() < min_kept:
                continue
            cost = problem.objective_matrix(problem.evaluate(forced[keep].reset_index(drop=True)))
            out.append((p.name, v, float((cost <= ref[keep]).all(axis=1).mean())))
    return out
