"""How well a predictor matches a dataset it was not trained on: per-target metrics.

>>> from dsegym.datasets import collect_frame
>>> from dsegym.predictors import train
>>> frame, meta = collect_frame("toy-accel", 200, seed=0, progress=False)
>>> p = train((frame, meta), model="mlp", targets=["latency_cycles"], epochs=20, progress=False)
>>> m = evaluate(p, collect_frame("toy-accel", 100, seed=1, progress=False))
>>> sorted(m["latency_cycles"])
['kendall_tau', 'mape_pct', 'n', 'rmse', 'rmse_pct', 'spearman', 'top10_recall']
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DatasetError
from .metrics import regression_metrics


def evaluate(predictor, data) -> dict[str, dict[str, Any]]:
    """Metrics per target of ``predictor`` on ``data`` (a dataset path or ``(frame, provenance)``)."""
    if isinstance(data, tuple):
        frame = data[0]
        where = "<frame>"
    else:
        from ..datasets.parquet import read_dataset
        frame, _ = read_dataset(data)
        where = str(data)
    problems = sorted(set(frame["problem"]))
    if problems != [predictor.problem]:
        raise DatasetError(f"dataset '{where}' holds problem(s) {problems}; the model predicts '{predictor.problem}'")
    missing = [t for t in predictor.targets if t not in frame.columns]
    if missing:
        raise DatasetError(f"dataset '{where}' lacks the model's target(s) {missing}")
    if predictor.form == "graph":
        from .graph import graph_data, raw_graphs
        data = graph_data(frame, predictor.encoder, predictor.targets)
        pred = raw_graphs(predictor, data, 1)[0]
        truth = data["y"]
    else:
        pred = predictor.predict(frame, std=False)[predictor.targets].to_numpy()
        truth = np.stack([frame[t].to_numpy(dtype=np.float64) for t in predictor.targets], axis=1)
    return {t: regression_metrics(truth[:, j], pred[:, j]) for j, t in enumerate(predictor.targets)}
