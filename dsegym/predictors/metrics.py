"""Predictor quality as the field reports it: RMSE and MAPE, rank correlations, top-k recall.

``rmse_pct`` is the RMSE as a percentage of the true values' range (how ArchGym's proxy figure reads);
``top10_recall`` is the share of the truly best 10% (lowest values) that the predictor also puts in
its best 10%.

>>> import numpy as np
>>> m = regression_metrics(np.arange(1.0, 101.0), np.arange(1.0, 101.0) * 1.01)
>>> round(m["mape_pct"], 6), m["kendall_tau"], m["top10_recall"]
(1.0, 1.0, 1.0)
"""
from __future__ import annotations

import numpy as np


def regression_metrics(truth, pred, top: float = 0.10) -> dict[str, float]:
    from scipy.stats import kendalltau, spearmanr
    y = np.asarray(truth, dtype=np.float64)
    p = np.asarray(pred, dtype=np.float64)
    ok = np.isfinite(y) & np.isfinite(p)
    y, p = y[ok], p[ok]
    n = len(y)
    if n < 2:
        return {"n": n}
    span = float(y.max() - y.min()) or 1.0
    rmse = float(np.sqrt(np.mean((p - y) ** 2)))
    nz = y != 0
    mape = float(np.mean(np.abs((p[nz] - y[nz]) / y[nz])) * 100) if nz.any() else float("nan")
    k = max(1, round(top * n))
    best_true = set(np.argsort(y, kind="stable")[:k].tolist())
    best_pred = set(np.argsort(p, kind="stable")[:k].tolist())
    return {"n": n, "rmse": rmse, "rmse_pct": 100.0 * rmse / span, "mape_pct": mape,
            "kendall_tau": float(kendalltau(y, p).statistic), "spearman": float(spearmanr(y, p).statistic),
            "top10_recall": len(best_true & best_pred) / k}
