"""``simulate``: every (design, layer) pair of a batch in one vectorised call.

>>> from dsegym.envs.accelerator import simulate, Conv, Gemm
>>> df = simulate([{"rows": 8, "cols": 4, "dataflow": "ws"}], [Conv(10, 10, 3, 3, 4, 6, 2), Gemm(1, 40, 24)],
...               fidelity="scalesim")
>>> print(df[["layer", "compute_cycles", "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes"]].to_string())
   layer  compute_cycles  sram_ifmap_reads  sram_filter_reads  sram_ofmap_writes
0      0             429              1800                216                750
1      1             569               240                960                120
"""
from __future__ import annotations

import numpy as np

from ...errors import ConfigError
from .designs import design_columns
from .layers import layer_table
from .model import design_area_mm2, design_rows, evaluate_block, lookups, unique_layers

FIDELITIES = ("physical", "scalesim")
# Output columns of model.evaluate_block, with their dtypes: counts exact as int64; energy and
# utilization are float32 estimates (computed in float32, see model.evaluate_block).
COLUMNS = {"compute_cycles": np.int64, "sram_ifmap_reads": np.int64, "sram_filter_reads": np.int64,
           "sram_ofmap_writes": np.int64, "cycles": np.int64, "dram_bytes": np.int64,
           "energy_pj": np.float32, "utilization": np.float32}
# Designs are processed in blocks of about this many (layer shape, design) pairs so that one block's
# temporaries stay in the CPU cache; results do not depend on it (every operation is elementwise).
BLOCK_PAIRS = 16384
ROW_CHUNK = 16384  # designs whose per-design rows are computed at once (fewer, larger numpy calls)


def _check_fidelity(fidelity: str) -> bool:
    if fidelity not in FIDELITIES:
        raise ConfigError(f"unknown fidelity {fidelity!r}; allowed: {', '.join(FIDELITIES)}")
    return fidelity == "physical"


def simulate_arrays(designs, layers, fidelity: str = "physical"):
    """(n, L) arrays of every output column, the layer table, and per-design area_mm2, clock_mhz, pes.

    What ``simulate`` and the problems build on; use ``simulate`` unless you need the raw arrays.
    """
    physical = _check_fidelity(fidelity)
    lt = layer_table(layers)
    cols, n = design_columns(designs)
    look = lookups(cols)
    lay, shape_of = unique_layers(lt)
    L, Lu = len(lt), len(lay["M"])
    # From layer shapes to layers, design-major. With every repeat 1 this is a column gather; otherwise
    # one small matrix product per column and block with a 0/repeat expansion matrix, exact (each
    # output is one product plus zeros). Both write contiguous rows, far faster than a transposed copy.
    gather = bool((lt.repeat == 1).all())
    expand = np.zeros((Lu, L))
    expand[shape_of, np.arange(L)] = lt.repeat
    ones = (expand > 0).astype(np.float64)  # utilization is a ratio: the repeat cancels
    out = {name: np.empty((n, L), dtype=dt) for name, dt in COLUMNS.items()}
    step = max(16, BLOCK_PAIRS // Lu)
    chunk = step * max(1, ROW_CHUNK // step)
    scratch = np.empty((step, L))
    for first in range(0, n, chunk):  # per-design rows for a chunk, then the model block by block
        rows = design_rows(cols, look, slice(first, min(n, first + chunk)))
        for start in range(first, min(n, first + chunk), step):
            block = slice(start, min(n, start + step))
            g = block.stop - block.start
            local = slice(start - first, start - first + g)
            res = evaluate_block({k: v[..., local] for k, v in rows.items()}, lay, physical)
            np.ceil(res["dram_bytes"], out=res["dram_bytes"])
            for name, x in res.items():
                if gather:
                    out[name][block] = x.T[:, shape_of]
                else:
                    np.matmul(x.T, ones if name == "utilization" else expand, out=scratch[:g])
                    np.copyto(out[name][block], scratch[:g], casting="unsafe")
    info = {"area_mm2": design_area_mm2(cols, look), "clock_mhz": cols["clock_mhz"],
            "pes": cols["rows"] * cols["cols"]}
    return out, lt, info


def simulate(designs, layers, fidelity: str = "physical"):
    """Simulate every design on every layer; one DataFrame row per (design, layer), design-major.

    ``designs``: DataFrame, list of dicts or one dict of accelerator parameters (missing ones take the
    space's defaults). ``layers``: Conv/Gemm objects, a DataFrame of layers, a SCALE-Sim topology CSV
    path or a zoo workload name. ``fidelity``: ``"physical"`` (DRAM traffic, bandwidth stalls,
    energy) or ``"scalesim"`` (cycles are SCALE-Sim v3's stall-free compute cycles, exactly).

    Columns: design (int32 index into ``designs``), layer (int32 index into ``layers``), layer_name
    (categorical), compute_cycles, sram_ifmap_reads, sram_filter_reads, sram_ofmap_writes (words), cycles
    and dram_bytes (int64), energy_pj, area_mm2 (of the design) and utilization (MACs / (cycles * PEs))
    (float32). Counts include the layer's ``repeat``. Values may lie off the search grid (e.g. 100 KB
    buffers); the search space's SRAM budget is not enforced here. Invalid values raise
    ``InvalidDesignError``, malformed layers ``TopologyFormatError``.
    """
    import pandas as pd

    out, lt, info = simulate_arrays(designs, layers, fidelity)
    n, L = out["cycles"].shape
    names = _unique(lt.names)
    code_dtype = np.int8 if L < 128 else np.int16 if L < 32768 else np.int32
    layer_idx = np.tile(np.arange(L, dtype=code_dtype), n)
    data = {
        "design": np.repeat(np.arange(n, dtype=np.int32 if n < 2**31 else np.int64), L),
        "layer": layer_idx.astype(np.int32),
        "layer_name": pd.Categorical.from_codes(layer_idx, categories=names, validate=False),
    }
    for name in COLUMNS:
        data[name] = out[name].reshape(-1)  # a view: no copy
        if name == "energy_pj":
            data["area_mm2"] = np.repeat(info["area_mm2"].astype(np.float32), L)
    return pd.DataFrame(data, copy=False)


def _unique(names):
    """Layer names made unique (categories must be): a repeated name gets '#1', '#2', ..."""
    seen: set[str] = set()
    out = []
    for name in names:
        new, k = name, 0
        while new in seen:
            k += 1
            new = f"{name}#{k}"
        seen.add(new)
        out.append(new)
    return out
