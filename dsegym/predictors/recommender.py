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

:func:`recommend_layers` is the one-shot form AIrchitect v2 studies: for each layer shape (a GEMM or
convolution never seen in training) it picks, among a fixed set of candidate designs (the classes),
the one a per-layer predictor expects to be fastest, without simulating anything. Among a few hundred
classes many tie or nearly tie on a given layer, and only their order on that layer matters, so
:func:`train_class_ranker` trains the per-layer model on :func:`add_regret`'s target, each row's
latency over the best class's latency on the same layer shape, rather than on absolute latency: an
absolute model that extrapolates to GEMMs larger than any it saw errs by a factor that differs between
classes (it under-predicts the designs that refetch an operand the most), and the lowest prediction
is then often a class that is far from fast. Learned as a ratio to the best class, those errors stay
small; and an ensemble of such models (:func:`merge_mlps`) orders the classes of shapes far from the
training ones more reliably than any one of them (docs/predictors.md, "Recommendation").
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


def _layer_frame(layers):
    import pandas as pd

    from ..datasets.layers import LAYER_FEATURES
    if hasattr(layers, "columns") and all(c in layers.columns for c in LAYER_FEATURES):
        return layers[list(LAYER_FEATURES)].reset_index(drop=True)
    from ..envs.accelerator.layers import layer_table
    lt = layer_table(layers)
    return pd.DataFrame({"layer_m": lt.M, "layer_n": lt.N, "layer_k": lt.K, "layer_ifmap_elems": lt.ifmap_elems,
                         "layer_repeat": lt.repeat})


def recommend_layers(predictor, candidates, layers, metric: str | None = None):
    """For each layer, the candidate design with the lowest predicted ``metric`` (no simulation).

    ``predictor``: a per-layer model (``accel-layers`` data): best :func:`train_class_ranker`'s, trained
    on the candidates themselves, though any per-layer latency model ranks them. ``candidates``: a
    DataFrame (or list of dicts) of accelerator designs, the classes (parameters left out take the
    space's defaults). ``layers``: Conv/Gemm objects, a zoo name, or a frame of ``layer_m, layer_n,
    layer_k, layer_ifmap_elems, layer_repeat``. ``metric``: a target of the model (default: its first). Returns one row per layer: ``choice`` (index into ``candidates``), the
    predicted metric of that choice, and ``predicted`` (candidates x layers) in ``.attrs``.

    >>> from dsegym.datasets.layers import collect_layer_frame
    >>> from dsegym.envs.accelerator import Gemm
    >>> from dsegym.predictors import train
    >>> m = train(collect_layer_frame(["resnet18"], 30, seed=0, progress=False), targets=["latency_ms"],
    ...           epochs=3, progress=False, features="roofline")
    >>> classes = [{"rows": 8, "cols": 8}, {"rows": 128, "cols": 128}]
    >>> recommend_layers(m, classes, [Gemm(512, 4096, 4096)])["choice"].tolist()
    [1]
    """
    import pandas as pd

    from ..errors import ConfigError
    if predictor.form != "layer":
        raise ConfigError(f"recommend_layers needs a per-layer model (trained on 'accel-layers' data), "
                          f"not a {predictor.form}-form model")
    metric = metric or predictor.targets[0]
    if metric not in predictor.targets:
        raise ConfigError(f"the model does not predict {metric!r}; it predicts {predictor.targets}")
    records = candidates.to_dict("records") if hasattr(candidates, "to_dict") else list(candidates)
    cands = predictor.space.to_frame(records)  # parameters not given take the space's defaults
    shapes = _layer_frame(layers)
    nc, nl = len(cands), len(shapes)
    if nc == 0:
        raise ConfigError("give at least one candidate design")
    rows = cands.iloc[np.repeat(np.arange(nc), nl)].reset_index(drop=True)
    rows = pd.concat([rows, shapes.iloc[np.tile(np.arange(nl), nc)].reset_index(drop=True)], axis=1)
    pred = predictor.predict(rows, std=False)[metric].to_numpy().reshape(nc, nl)
    choice = pred.argmin(axis=0)
    out = pd.DataFrame({"choice": choice, f"predicted_{metric}": pred[choice, np.arange(nl)]})
    out.attrs["predicted"] = pred
    return out


REGRET_SUFFIX = "_regret"


def _design_keys(frame, names, prefix: str):
    import pandas as pd
    return pd.MultiIndex.from_frame(frame[[prefix + n for n in names]].astype(str).set_axis(list(names), axis=1))


def add_regret(frame, classes=None, metric: str = "latency_ms"):
    """``frame`` (per-layer rows, as ``collect_layer_frame`` makes them) with a ``<metric>_regret``
    column: each row's ``metric`` over the lowest ``metric`` among the reference rows of the same layer
    shape. Reference rows: those whose design is one of ``classes`` (a DataFrame or list of dicts of
    accelerator designs; parameters left out take the space's defaults), or every row when ``classes``
    is None. A class's regret on a shape is >= 1 and exactly 1 for the best class.

    >>> from dsegym.datasets.layers import collect_layer_frame
    >>> frame, _ = collect_layer_frame(["resnet18"], 4, seed=0, progress=False)
    >>> out = add_regret(frame)
    >>> bool(out["latency_ms_regret"].min() == 1.0), bool((out["latency_ms_regret"] >= 1.0).all())
    (True, True)
    """
    from ..datasets.layers import LAYER_FEATURES
    from ..envs.accelerator.space import make_space
    from ..errors import ConfigError
    if metric not in frame.columns:
        raise ConfigError(f"the frame has no {metric!r} column; allowed: "
                          f"{[c for c in frame.columns if c in ('latency_ms', 'latency_cycles', 'energy_uj', 'dram_bytes')]}")
    missing = [c for c in LAYER_FEATURES if c not in frame.columns]
    if missing:
        raise ConfigError(f"add_regret needs per-layer rows with columns {list(LAYER_FEATURES)}; missing {missing}")
    ref = np.ones(len(frame), dtype=bool)
    if classes is not None:
        space = make_space()
        records = classes.to_dict("records") if hasattr(classes, "to_dict") else list(classes)
        cls = space.to_frame(records)
        names = [n for n in space.names if f"design.{n}" in frame.columns]
        ref = _design_keys(frame, names, "design.").isin(_design_keys(cls, names, ""))
    values = frame[metric].to_numpy(dtype=np.float64)
    best = (frame.assign(_ref=np.where(ref, values, np.inf))
            .groupby(list(LAYER_FEATURES), sort=False)["_ref"].transform("min").to_numpy())
    if not np.isfinite(best).all():
        n = int((~np.isfinite(best)).sum())
        raise ConfigError(f"{n} rows have a layer shape that no reference class was simulated on; simulate "
                          f"every class on every training shape (or pass classes=None)")
    out = frame.copy()
    out[metric + REGRET_SUFFIX] = values / best
    return out


def ranker_seeds(seed: int, models: int) -> list[int]:
    """The training seeds of an ensemble of ``models`` rankers, all drawn from one master ``seed``."""
    return [int(v) for v in np.random.SeedSequence(int(seed)).generate_state(int(models))]


def merge_mlps(models):
    """One MLP predictor whose members are all the members of ``models`` (MLPs trained on the same data
    with different seeds): its prediction is their mean and its std their spread. Why one model and not
    a list: it saves, loads and predicts as any other :class:`~dsegym.predictors.Predictor`.
    """
    import copy

    import torch

    from ..errors import ConfigError
    from .model import Predictor, build_net
    models = list(models)
    if not models:
        raise ConfigError("give at least one model to merge")
    first = models[0]
    same = ("kind", "form", "problem", "targets", "space_fingerprint", "encoding", "log_targets", "y_mean", "y_std")
    hp0 = {k: v for k, v in first.meta["hp"].items() if k != "members"}
    for m in models:
        if m.kind != "mlp":
            raise ConfigError(f"only MLP predictors can be merged, not {m.kind!r}")
        if any(m.meta.get(k) != first.meta.get(k) for k in same) or \
                {k: v for k, v in m.meta["hp"].items() if k != "members"} != hp0:
            raise ConfigError("merge MLPs trained on the same data with the same settings (only the seed may differ)")
    meta = copy.deepcopy(first.meta)
    meta["hp"]["members"] = sum(int(m.meta["hp"]["members"]) for m in models)
    meta["merged_seeds"] = [int(m.meta["seed"]) for m in models]  # "seed" stays the first model's
    meta["history"] = {**first.meta["history"], "per_model": [m.meta["history"] for m in models]}
    net = build_net(meta, first.encoder)
    states = [m.net.state_dict() for m in models]
    net.load_state_dict({k: torch.cat([st[k] for st in states], dim=0) for k in states[0]})  # members axis first
    net.eval()
    return Predictor(meta, net, first.space)


def train_class_ranker(data, classes, metric: str = "latency_ms", seed: int = 0, models: int = 3, **train_kw):
    """A per-layer MLP (roofline inputs) that predicts ``<metric>_regret`` (see :func:`add_regret`), the
    model :func:`recommend_layers` ranks ``classes`` with. ``data``: a per-layer dataset (path or
    ``(frame, provenance)``) in which every class was simulated on every layer shape (other designs
    may be there too: they are trained on, with the same reference). ``models``: that many MLPs,
    trained with :func:`ranker_seeds` of ``seed`` and merged into one (:func:`merge_mlps`): on layer
    shapes far from the training ones single models disagree on the order of the best classes, and
    their mean orders them better than any one. ``train_kw`` goes to :func:`dsegym.predictors.train`
    (epochs, patience, batch_size, hidden, members, ...).

    >>> from dsegym.datasets.layers import collect_layer_frame
    >>> from dsegym.envs.accelerator import Gemm
    >>> data = collect_layer_frame(["resnet18"], 30, seed=0, progress=False)
    >>> m = train_class_ranker(data, None, models=2, epochs=3, progress=False)
    >>> classes = [{"rows": 8, "cols": 8}, {"rows": 128, "cols": 128}]
    >>> m.targets, m.meta["hp"]["members"], recommend_layers(m, classes, [Gemm(512, 4096, 4096)])["choice"].tolist()
    (['latency_ms_regret'], 10, [1])
    """
    ranker = merge_mlps(train_class_rankers(data, classes, metric, seed, models, **train_kw))
    ranker.meta["ranker"] = {"seed": int(seed), "models": int(models), "metric": metric,
                             "reference": "classes" if classes is not None else "all rows"}
    return ranker


def train_class_rankers(data, classes, metric: str = "latency_ms", seed: int = 0, models: int = 3,
                        **train_kw) -> list:
    """The ``models`` MLPs that :func:`train_class_ranker` merges, unmerged (to study them one by one)."""
    from ..errors import ConfigError
    from . import train
    from .model import _read
    if isinstance(models, bool) or not isinstance(models, int) or models < 1:
        raise ConfigError(f"models must be an integer >= 1, got {models!r}")
    frame, prov = _read(data)
    frame = add_regret(frame, classes, metric)
    train_kw.setdefault("features", "roofline")
    return [train((frame, prov), model="mlp", targets=[metric + REGRET_SUFFIX], seed=s, **train_kw)
            for s in ranker_seeds(seed, models)]
