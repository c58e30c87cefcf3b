"""One-shot design recommendation: the predictor's best design for a problem, checked by the simulator.

The predictor scores every valid design when the space is small enough to enumerate (else a large
Sobol sample), the design with the best predicted score is simulated, and it is compared with the true
optimum: exhaustive simulation where the space allows, else a strong search (a large sample, the
predictor's top candidates and a greedy neighbourhood descent, all simulated). ``ratio`` is
exp(score_recommended - score_optimum): for the accelerator's log(latency * energy * area) score it
is the ratio of those products; for a latency-only problem, the latency ratio.

>>> import os, tempfile
>>> from dsegym.datasets import collect_frame
>>> from dsegym.predictors import train
>>> p = train(collect_frame("toy-accel", 300, seed=0, progress=False), targets=["latency_cycles", "energy_uj", "area_mm2"],
...           epochs=30, progress=False)
>>> r = recommend(p, "toy-accel")
>>> r["optimum_method"], r["ratio"] >= 1.0
('exhaustive', True)
"""
from __future__ import annotations

from typing import Any

import numpy as np

ENUMERATE_LIMIT = 200_000
SAMPLE = 100_000


def _candidates(space, seed: int):
    import pandas as pd
    if not space.has_float and space.count_valid() <= ENUMERATE_LIMIT:
        return pd.DataFrame(list(space.enumerate())), True
    from ..datasets.samplers import sample_designs
    return pd.DataFrame(sample_designs(space, SAMPLE, "sobol", seed)), False


def _plain(d: dict) -> dict:
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in d.items()}


def recommend(predictor, problem, seed: int = 0, search_budget: int = 20_000) -> dict[str, Any]:
    """Recommended design, its simulated metrics, the true optimum and their ratio (see module doc)."""
    from ..registry import make
    from .proxy import proxy_metrics
    if isinstance(problem, str):
        problem = make(problem)
    predictor.check_problem(problem)
    cands, exhaustive = _candidates(problem.space, seed)
    pred_metrics = proxy_metrics(predictor, problem, cands)
    weights = {o.metric: (o.weight if o.metric in predictor.targets else 0.0) for o in problem.optimised}
    objs = [o for o in problem.optimised if weights[o.metric] > 0]
    pred_score = sum(o.weight * o.sign * np.log(np.maximum(pred_metrics[o.metric].to_numpy(dtype=np.float64), 1e-30))
                     for o in objs)
    order = np.argsort(pred_score, kind="stable")
    rec = cands.iloc[int(order[0])].to_dict()
    rec_metrics = problem.evaluate([rec]).iloc[0].to_dict()
    rec_score = float(problem.score(problem.evaluate([rec]), weights=weights)[0])
    if exhaustive:
        results = problem.evaluate(cands)
        scores = problem.score(results, weights=weights)
        best = int(np.argmin(scores))
        opt, opt_score, method = cands.iloc[best].to_dict(), float(scores[best]), "exhaustive"
        n_sim = len(cands)
    else:
        opt, opt_score, n_sim = _strong_search(problem, weights, cands.iloc[order[:200]], seed, search_budget)
        method = f"strong search ({n_sim:,} simulations: Sobol sample, predictor's top 200, greedy descent)"
    opt_metrics = problem.evaluate([opt]).iloc[0].to_dict()
    return {"problem": problem.id, "model": predictor.kind, "candidates": len(cands),
            "recommended": _plain(rec), "recommended_metrics": _plain(rec_metrics), "recommended_score": rec_score,
            "optimum": _plain(opt), "optimum_metrics": _plain(opt_metrics), "optimum_score": opt_score,
            "optimum_method": method, "ratio": float(np.exp(rec_score - opt_score)),
            "metric_ratios": {o.metric: float(rec_metrics[o.metric] / opt_metrics[o.metric]) for o in objs},
            "rank_of_recommended": (int((scores < rec_score - 1e-12).sum()) + 1) if exhaustive else None}


def _strong_search(problem, weights, top, seed: int, budget: int):
    import pandas as pd

    from ..datasets.samplers import sample_designs
    space = problem.space
    pool = pd.concat([pd.DataFrame(sample_designs(space, budget, "sobol", seed + 1)), top.reset_index(drop=True)],
                     ignore_index=True)
    scores = problem.score(problem.evaluate(pool), weights=weights)
    n_sim = len(pool)
    best = pool.iloc[int(np.argmin(scores))].to_dict()
    best_score = float(scores.min())
    for _ in range(50):  # greedy descent over single-parameter neighbours
        nbrs = space.neighbors(best)
        if not nbrs:
            break
        s = problem.score(problem.evaluate(nbrs), weights=weights)
        n_sim += len(nbrs)
        j = int(np.argmin(s))
        if s[j] >= best_score - 1e-12:
            break
        best, best_score = nbrs[j], float(s[j])
    return best, best_score, n_sim
