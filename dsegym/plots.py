"""Plots and files for results people look at: a search history as Parquet/CSV and a PNG figure.

Every file is written to a temporary name and renamed into place, so a reader never sees half of one.

>>> import dsegym, tempfile
>>> from dsegym.agents import make, run_search
>>> p = dsegym.make("toy-accel")
>>> h = run_search(make("random", p, seed=0), budget=20, batch_size=5)
>>> sorted(save_search_outputs(h, p, tempfile.mkdtemp()))
['csv', 'parquet', 'plot']
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def save_search_outputs(history, problem, out_dir: str | Path, title: str = "") -> dict[str, str]:
    """Write ``history.parquet``, ``history.csv`` and ``convergence.png`` (best score so far, and the
    Pareto front of the first two objectives for multi-objective problems) into ``out_dir``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"parquet": out / "history.parquet", "csv": out / "history.csv", "plot": out / "convergence.png"}
    from .results import atomic_output
    with atomic_output(paths["parquet"]) as tmp:
        history.to_parquet(tmp, index=False)
    with atomic_output(paths["csv"]) as tmp:
        history.to_csv(tmp, index=False)

    objs = problem.optimised
    ncols = 2 if len(objs) > 1 else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5.5 * ncols, 4), squeeze=False)
    ax = axes[0, 0]
    score = history["score"].to_numpy()
    ax.plot(np.arange(1, len(score) + 1), score, ".", alpha=0.3, label="design")
    ax.plot(np.arange(1, len(score) + 1), np.minimum.accumulate(score), "-", label="best so far")
    ax.set_xlabel("simulator evaluations")
    ax.set_ylabel("score (weighted sum of log-metrics, lower is better)")
    ax.legend()
    if ncols == 2:
        ax = axes[0, 1]
        a, b = objs[0].metric, objs[1].metric
        from .problem import pareto_mask
        # The front of these two objectives only: a 3-objective front projected on two axes zigzags.
        front = pareto_mask(np.stack([objs[0].sign * history[a].to_numpy(float),
                                      objs[1].sign * history[b].to_numpy(float)], axis=1))
        ax.scatter(history[a], history[b], s=8, alpha=0.4, label="evaluated")
        pf = history[front].sort_values(a)
        ax.step(pf[a], pf[b], "o-", where="post", color="C3", label=f"Pareto front ({a} vs {b})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"{a} [{objs[0].unit}]")
        ax.set_ylabel(f"{b} [{objs[1].unit}]")
        ax.legend()
    fig.suptitle(title or problem.id)
    fig.tight_layout()
    with atomic_output(paths["plot"]) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    return {k: str(v) for k, v in paths.items()}
