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
from .model import COUNT_COLUMNS, FLOAT_COLUMNS, LOOP_ORDERS, evaluate, unique_layers
from .physics import design_inputs, design_physics

FIDELITIES = ("physical", "scalesim")
# Output columns with their dtypes: counts exact as int64; energies and utilization float32 estimates.
COLUMNS = {**{c: np.int64 for c in COUNT_COLUMNS}, **{c: np.float32 for c in FLOAT_COLUMNS}}
AREA_COLUMNS = ("area_mm2", "area_pe_mm2", "area_sram_mm2", "area_phy_mm2")


def _check_fidelity(fidelity: str) -> bool:
    if fidelity not in FIDELITIES:
        raise ConfigError(f"unknown fidelity {fidelity!r}; allowed: {', '.join(FIDELITIES)}")
    return fidelity == "physical"


def simulate_arrays(designs, layers, fidelity: str = "physical", chained: bool = True):
    """(n, L) arrays of every output column, the layer table, and per-design information (area parts,
    clock_mhz, pes, vdd, bw_gbps, static_w).

    What ``simulate`` and the problems build on; use ``simulate`` unless you need the raw arrays.
    """
    physical = _check_fidelity(fidelity)
    lt = layer_table(layers)
    cols, _ = design_columns(designs)
    phys = design_physics(cols)
    lay, shape_of = unique_layers(lt.M, lt.N, lt.K, lt.ifmap_elems)
    ints, floats, order = evaluate(lay, shape_of, lt.repeat, design_inputs(cols, phys), physical, chained)
    out = {name: ints[j] for j, name in enumerate(COUNT_COLUMNS)}
    out.update({name: floats[j] for j, name in enumerate(FLOAT_COLUMNS)})
    out["loop_order"] = order
    info = {name: phys[name] for name in AREA_COLUMNS + ("vdd", "bw_gbps", "static_w")}
    info.update({"clock_mhz": cols["clock_mhz"], "pes": cols["rows"] * cols["cols"]})
    return out, lt, info


def simulate(designs, layers, fidelity: str = "physical", chained: bool = True):
    """Simulate every design on every layer; one DataFrame row per (design, layer), design-major.

    ``designs``: DataFrame, list of dicts or one dict of accelerator parameters (missing ones take the
    space's defaults; ``tech_nm``, ``weight_bits``, ``act_bits`` and ``dram_bw_gbps`` are accepted too,
    see ``designs``). ``layers``: Conv/Gemm objects, a DataFrame of layers, a SCALE-Sim topology CSV
    path or a zoo workload name. ``fidelity``: ``"physical"`` (chosen mapping, DRAM traffic, bandwidth
    stalls, pipelined folds) or ``"scalesim"`` (cycles and SRAM counts are SCALE-Sim v3's stall-free
    figures, exactly; no DRAM). ``chained``: the layers form a network run in order, so an activation
    that fits half the ifmap buffer stays on chip from one layer to the next (physical fidelity only);
    pass False for independent layers.

    Columns: design (int32 index into ``designs``), layer (int32 index into ``layers``), layer_name
    (categorical); compute_cycles (SCALE-Sim's stall-free cycles, both fidelities), sram_ifmap_reads,
    sram_filter_reads, sram_ofmap_writes (words moved between SRAM and array by the chosen mapping),
    cycles and dram_bytes (int64); the chosen mapping: loop_order ('mnk': blocks of output rows outer,
    'nmk': blocks of filters outer), tile_m, tile_n (the block, int64); energy_pj and its parts
    energy_mac_pj (PEs: arithmetic, registers, forwarding), energy_sram_pj, energy_dram_pj (interface
    I/O), energy_static_pj (leakage and PHY power over the run time); area_mm2 of the design and its
    parts area_pe_mm2, area_sram_mm2, area_phy_mm2; utilization (MACs / (cycles * PEs)) (float32).
    Counts and energies include the layer's ``repeat``. Values may lie off the search grid (e.g. 100 KB
    buffers); the search space's SRAM budget is not enforced here. Invalid values raise
    ``InvalidDesignError``, malformed layers ``TopologyFormatError``.
    """
    import pandas as pd

    out, lt, info = simulate_arrays(designs, layers, fidelity, chained)
    n, L = out["cycles"].shape
    names = _unique(lt.names)
    code_dtype = np.int8 if L < 128 else np.int16 if L < 32768 else np.int32
    layer_idx = np.tile(np.arange(L, dtype=code_dtype), n)
    data = {
        "design": np.repeat(np.arange(n, dtype=np.int32 if n < 2**31 else np.int64), L),
        "layer": layer_idx.astype(np.int32),
        "layer_name": pd.Categorical.from_codes(layer_idx, categories=names, validate=False),
    }
    for name in COUNT_COLUMNS[:6]:
        data[name] = out[name].reshape(-1)  # a view: no copy
    data["loop_order"] = pd.Categorical.from_codes(out["loop_order"].reshape(-1), categories=LOOP_ORDERS,
                                                   validate=False)
    for name in COUNT_COLUMNS[6:] + FLOAT_COLUMNS[:-1]:
        data[name] = out[name].reshape(-1)
    for name in AREA_COLUMNS:
        data[name] = np.repeat(info[name].astype(np.float32), L)
    data["utilization"] = out["utilization"].reshape(-1)
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
