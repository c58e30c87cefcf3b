"""Proxy problems: a registered problem answered by a predictor instead of its simulator.

``dsegym.make("proxy:<id>", model=PATH)`` has the same space, objectives and units as ``<id>``; its
``evaluate`` runs the predictor. A design-form model must have been trained on ``<id>`` itself; a
per-layer or GNN model of the accelerator answers any accelerator problem (it is given the
problem's layers). Objectives the model does not predict are dropped (at least one must remain).
``rank_fidelity`` says how well the proxy orders designs the way the simulator does.

>>> import os, tempfile, dsegym
>>> from dsegym.datasets import collect
>>> from dsegym.predictors import train
>>> d = tempfile.mkdtemp()
>>> _ = collect("toy-accel", 200, path=os.path.join(d, "t.parquet"), progress=False)
>>> model = train(os.path.join(d, "t.parquet"), targets=["latency_cycles", "energy_uj", "area_mm2"],
...               epochs=20, progress=False).save(os.path.join(d, "m.pt"))
>>> p = dsegym.make("proxy:toy-accel", model=str(model))
>>> p.id, list(p.evaluate([p.space.default()]).columns)
('proxy:toy-accel', ['latency_cycles', 'energy_uj', 'area_mm2'])
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError


def proxy_metrics(pred, problem, designs):
    """The predictor's metrics for ``designs`` of ``problem`` (networks summed for per-layer models)."""
    import pandas as pd

    from .encoding import design_columns
    frame = design_columns(designs, pred.space)
    if pred.form == "design":
        return pred.predict(frame, std=False)[pred.targets].reset_index(drop=True)
    tables = _problem_tables(problem)
    if pred.form == "graph":
        total = None
        for lt in tables:
            part = pred.predict(frame, workload=lt, std=False)[pred.targets].to_numpy()
            total = part if total is None else total + part
        return pd.DataFrame(total, columns=pred.targets)
    from .model import ADDITIVE
    n = len(frame)
    total = np.zeros((n, len(pred.targets)))
    for lt in tables:
        L = len(lt)
        rep = frame.loc[frame.index.repeat(L)].reset_index(drop=True)
        for col, vals in (("layer_m", lt.M), ("layer_n", lt.N), ("layer_k", lt.K),
                          ("layer_ifmap_elems", lt.ifmap_elems), ("layer_repeat", lt.repeat)):
            rep[col] = np.tile(vals, n)
        y = pred.predict(rep, std=False)[pred.targets].to_numpy().reshape(n, L, -1)
        add = np.array([t in ADDITIVE for t in pred.targets])
        total += np.where(add, y.sum(axis=1), y.mean(axis=1) / len(tables))
    return pd.DataFrame(total, columns=pred.targets)


def _problem_tables(problem):
    from ..envs.accelerator.layers import layer_table
    from ..envs.accelerator.workloads import WORKLOADS
    names = problem.info.get("workloads")
    if not names:
        raise ConfigError(f"a per-layer or GNN model answers accelerator problems with zoo workloads; "
                          f"'{problem.id}' has none")
    return [layer_table(WORKLOADS[n.split("#")[0]]) for n in names]


def make_proxy(base_id: str, model=None, **options):
    """The problem ``base_id`` answered by the predictor in the file ``model``."""
    from ..problem import Problem
    from ..registry import make
    from .model import load
    if model is None:
        raise ConfigError(f"proxy:{base_id} needs model=PATH (a file written by 'dsegym predictor train')")
    base = make(base_id, **options)
    pred = load(model, problem=base)
    objectives = [o for o in base.objectives if o.metric in pred.targets]
    if not any(o.optimise for o in objectives):
        raise ConfigError(f"model '{model}' predicts {pred.targets}; none is an optimised objective of "
                          f"'{base_id}' ({[o.metric for o in base.optimised]})")

    def simulate(frame):
        return proxy_metrics(pred, base, frame)

    return Problem(f"proxy:{base_id}", base.space, simulate, objectives, workload=base.workload,
                   description=f"{base.description}, answered by a {pred.kind} predictor ({model})",
                   metric_units=dict(base.metric_units),
                   info={**base.info, "proxy_of": base_id, "model": str(model), "predictor": pred.kind,
                         "version": f"proxy-{pred.meta['space_fingerprint']}-{pred.kind}"})


def simulator_of(proxy):
    """The simulator problem a proxy stands for, built with the proxy's options (less its model)."""
    from ..registry import make
    options = {k: v for k, v in proxy.info.get("make_kwargs", {}).items() if k != "model"}
    return make(proxy.info["proxy_of"], **options)


def simulator_weights(proxy, base) -> dict[str, float]:
    """The simulator's score weights that match the proxy's (objectives the model lacks weigh 0)."""
    weights = {o.metric: o.weight for o in proxy.optimised}
    return weights | {o.metric: 0.0 for o in base.optimised if o.metric not in weights}


def rank_fidelity(proxy, n: int = 2000, seed: int = 0) -> dict[str, float]:
    """Kendall tau and Spearman between the proxy's and the simulator's scores on ``n`` random designs."""
    from scipy.stats import kendalltau, spearmanr

    base = simulator_of(proxy)
    designs = proxy.space.sample_frame(n, seed=seed)
    true = base.score(base.evaluate(designs), weights=simulator_weights(proxy, base))
    est = proxy.score(proxy.evaluate(designs))
    return {"kendall_tau": float(kendalltau(true, est).statistic), "spearman": float(spearmanr(true, est).statistic),
            "n": int(n)}
