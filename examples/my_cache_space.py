"""A complete new design space in one file: declare, simulate (vectorised), name objectives, register.

After ``import my_cache_space`` every dsegym tool works on it:
``dsegym.make("my-cache")``, ``gymnasium.make("dsegym/my-cache")``, every agent, the PettingZoo env.
"""
import numpy as np
import pandas as pd

from dsegym import Categorical, Constraint, DesignSpace, Objective, PowerOfTwo, Problem, register

SPACE = DesignSpace([
    PowerOfTwo("size_kb", 4, 1024, default=32, group="geometry"),
    PowerOfTwo("ways", 1, 16, default=4, group="geometry"),
    PowerOfTwo("line_bytes", 32, 128, default=64, group="geometry"),
    Categorical("replacement", ["lru", "random"], group="policy"),
], constraints=[Constraint("enough_sets", lambda d: d["size_kb"] * 1024 // (d["ways"] * d["line_bytes"]) >= 16,
                           "size_kb * 1024 / (ways * line_bytes) must be at least 16 sets")])


def simulate(df: pd.DataFrame) -> pd.DataFrame:
    """A power-law miss-rate model, vectorised over the whole batch (illustrative numbers)."""
    size = df["size_kb"].to_numpy(float)
    ways = df["ways"].to_numpy(float)
    line = df["line_bytes"].to_numpy(float)
    lru = (df["replacement"] == "lru").to_numpy()
    miss = 0.2 * (size / 4.0) ** -0.5 * (1 + 0.3 / ways) * (64 / line) ** 0.3 * np.where(lru, 1.0, 1.1)
    hit_cycles = 1 + np.log2(size) * 0.5 + np.log2(ways) * 0.3
    return pd.DataFrame({
        "latency_cycles": hit_cycles + miss * 200.0,
        "energy_pj": 5.0 * np.sqrt(size) * (1 + 0.1 * ways) + miss * 2000.0,
        "area_mm2": 0.0069 * size * (1 + 0.05 * ways),
    })


def make_my_cache() -> Problem:
    return Problem("my-cache", SPACE, simulate,
                   [Objective("latency_cycles"), Objective("energy_pj"), Objective("area_mm2", limit=4.0)],
                   description="cache geometry and policy")


register("my-cache", make_my_cache, description="cache geometry and policy (example)", overwrite=True)
