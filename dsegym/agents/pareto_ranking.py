"""NSGA-II ranking: non-dominated fronts with constrained domination, and crowding distance (Deb et al. 2002).

>>> import numpy as np
>>> nsga2_order(np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0]]))[0].tolist()
[0, 1, 2]
"""
from __future__ import annotations

import numpy as np


def non_dominated_ranks(costs: np.ndarray, violation: np.ndarray | None = None) -> np.ndarray:
    """Front number (0 = non-dominated) of each row of an (n, k) cost matrix, all objectives minimised.

    With ``violation`` (>= 0 per row), constrained domination applies: every feasible row ranks before
    every infeasible one, and infeasible rows rank by their violation.

    >>> non_dominated_ranks(np.array([[1, 2], [2, 1], [2, 2], [3, 3]])).tolist()
    [0, 0, 1, 2]
    """
    costs = np.asarray(costs, dtype=np.float64)
    n = len(costs)
    ranks = np.zeros(n, dtype=np.int64)
    if n == 0:
        return ranks
    feasible = np.ones(n, bool) if violation is None else np.asarray(violation) <= 0
    idx = np.flatnonzero(feasible)
    if len(idx):
        c = costs[idx]
        le = np.all(c[:, None, :] <= c[None, :, :], axis=2)
        lt = np.any(c[:, None, :] < c[None, :, :], axis=2)
        dom = le & lt  # dom[i, j]: i dominates j
        count = dom.sum(axis=0)
        rank = np.full(len(idx), -1)
        front, r = np.flatnonzero(count == 0), 0
        while len(front):
            rank[front] = r
            count = count - dom[front].sum(axis=0)
            count[rank >= 0] = -1
            front, r = np.flatnonzero(count == 0), r + 1
        ranks[idx] = rank
        base = r
    else:
        base = 0
    bad = np.flatnonzero(~feasible)
    if len(bad):
        v = np.asarray(violation)[bad]
        _, inverse = np.unique(v, return_inverse=True)
        ranks[bad] = base + inverse
    return ranks


def crowding_distance(costs: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each row within one front (boundary rows get infinity)."""
    costs = np.asarray(costs, dtype=np.float64)
    n, k = costs.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(k):
        order = np.argsort(costs[:, j], kind="stable")
        col = costs[order, j]
        span = col[-1] - col[0]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0:
            dist[order[1:-1]] += (col[2:] - col[:-2]) / span
    return dist


def nsga2_order(costs: np.ndarray, violation: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted best first by (front, -crowding); also returns the fronts and crowding distances."""
    ranks = non_dominated_ranks(costs, violation)
    crowd = np.zeros(len(costs))
    for r in np.unique(ranks):
        members = np.flatnonzero(ranks == r)
        crowd[members] = crowding_distance(costs[members])
    order = np.lexsort((-crowd, ranks))
    return order, ranks, crowd
