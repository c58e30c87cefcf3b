"""Design samplers for datasets: plain random, scrambled Sobol and Latin hypercube (scipy.stats.qmc).

Quasi-random points live in the space's unit encoding (``space.unit_columns``), so a Sobol point decodes
to the same prior a random design does (log scales stay log-uniform). Points that break a constraint are
dropped and the sequence continues, so the kept designs are a constrained low-discrepancy set.

>>> import dsegym
>>> space = dsegym.make("toy-accel").space
>>> cols = sample_designs(space, 16, "sobol", seed=0)
>>> len(cols["pes"]), bool(space.constraint_mask(cols).all())
(16, True)
>>> sample_designs(space, 4, "lhs", seed=1)["bits"].tolist() == sample_designs(space, 4, "lhs", seed=1)["bits"].tolist()
True
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import ConfigError

SAMPLERS = ("random", "sobol", "lhs")


def sample_designs(space, n: int, sampler: str = "random", seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` designs honouring the space's constraints, as parameter columns."""
    if sampler not in SAMPLERS:
        raise ConfigError(f"unknown sampler {sampler!r}; allowed: {', '.join(SAMPLERS)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"the number of samples must be an integer >= 1, got {n!r}")
    n = int(n)
    if sampler == "random":
        return space.sample_columns(n, np.random.default_rng(seed))
    from scipy.stats import qmc
    d = len(space)
    if sampler == "sobol":
        engine = qmc.Sobol(d, scramble=True, seed=np.random.default_rng(seed))
    else:
        engine = qmc.LatinHypercube(d, seed=np.random.default_rng(seed))
    parts, have, drawn = [], 0, 0
    while have < n:
        batch = max(n - have, 64) if sampler == "lhs" else 1 << int(np.ceil(np.log2(max(n - have, 64))))
        with warnings.catch_warnings():  # Sobol warns when a batch is not a power of two; ours are
            warnings.simplefilter("ignore")
            u = engine.random(batch)
        # from_unit maps [0, 1); qmc can return values a hair under 1 that round up on some grids
        cols = space.unit_columns(np.minimum(u, np.nextafter(1.0, 0.0)))
        ok = space.constraint_mask(cols)
        drawn += batch
        parts.append({k: v[ok] for k, v in cols.items()})
        have += int(ok.sum())
        if drawn > 1000 and have < 1e-4 * drawn:
            raise ConfigError("the space's constraints reject nearly every quasi-random design")
    return {k: np.concatenate([p[k] for p in parts])[:n] for k in space.names}
