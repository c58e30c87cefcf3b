"""Tiny analytic problems, small enough to enumerate, so agents can be checked against the true optimum.

``toy-accel`` is a cartoon accelerator (441 grid designs, 420 within its constraint) with latency, energy and area
that interact the way real ones do: more PEs cut latency but cost area, a small buffer spills to DRAM,
fewer bits save energy. ``toy-rastrigin`` is a multimodal integer landscape (15^4 designs).
The formulas are illustrative only; they are not a hardware model.

>>> p = make_toy_accel()
>>> p.space.count_valid()
420
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...problem import Objective, Problem
from ...space import Categorical, Constraint, DesignSpace, Integer, Ordinal, PowerOfTwo

_DATAFLOW_EFFICIENCY = {"ws": 1.0, "os": 0.85, "is": 1.2}


def _toy_accel_sim(df: pd.DataFrame) -> pd.DataFrame:
    pes = df["pes"].to_numpy(dtype=float)
    buf = df["buffer_kb"].to_numpy(dtype=float)
    bits = df["bits"].to_numpy(dtype=float)
    eff = df["dataflow"].map(_DATAFLOW_EFFICIENCY).to_numpy(dtype=float)
    work = 1e6
    spill = np.maximum(1.0, 32.0 / buf)  # working set of 32 KB
    latency = work / pes * eff + 2000.0 * spill + 50.0 * pes
    energy = 1e-3 * (work * (bits / 8.0) ** 1.5 + 4e3 * spill * bits + 20.0 * buf)
    area = 0.02 * pes * (bits / 8.0) ** 2 + 0.01 * buf
    return pd.DataFrame({"latency_cycles": latency, "energy_uj": energy, "area_mm2": area})


def make_toy_accel(area_limit_mm2: float | None = None) -> Problem:
    """The cartoon accelerator; ``area_limit_mm2`` (a positive number or None) adds a hard area limit."""
    space = DesignSpace([
        PowerOfTwo("pes", 1, 64, default=8, group="compute"),
        Categorical("dataflow", ["ws", "os", "is"], group="compute"),
        PowerOfTwo("buffer_kb", 1, 64, default=16, group="memory"),
        Ordinal("bits", [4, 8, 16], default=8, group="precision"),
    ], constraints=[Constraint("area_budget", lambda d: d["pes"] * d["bits"] <= 512,
                               "pes * bits must be at most 512")], name="toy-accel")
    return Problem("toy-accel", space, _toy_accel_sim,
                   [Objective("latency_cycles"), Objective("energy_uj"),
                    Objective("area_mm2", limit=area_limit_mm2)],
                   workload="synthetic", description="cartoon accelerator, 420 valid designs (tests, docs)")


def _rastrigin_sim(df: pd.DataFrame) -> pd.DataFrame:
    x = df[["x0", "x1", "x2", "x3"]].to_numpy(dtype=float) / 2.0 - 1.0  # optimum at x = 2
    value = 10.0 * x.shape[1] + (x ** 2 - 10.0 * np.cos(2 * np.pi * x)).sum(axis=1)
    return pd.DataFrame({"cost_count": 1.0 + value})


def make_toy_rastrigin() -> Problem:
    """The 4-D integer Rastrigin landscape (cost 1 at its optimum x = 2)."""
    space = DesignSpace([Integer(f"x{i}", -7, 7, group=f"axis{i}") for i in range(4)], name="toy-rastrigin")
    return Problem("toy-rastrigin", space, _rastrigin_sim, [Objective("cost_count")], workload="synthetic",
                   description="multimodal integer landscape, 50,625 designs, optimum cost 1 at x=2")
