"""Running a quantised network on the accelerator model, layer by layer at each layer's precision.

The array is built of Bit Fusion units (Sharma et al., ISCA 2018): each unit holds 16 2-bit
BitBricks that fuse into one 8x8-bit multiplier, or split into (8/w')(8/a') narrower ones, where w'
and a' are the layer's weight and activation widths rounded up to 2, 4 or 8 bits (the bricks fuse in
powers of two). So a layer at lower precision runs that many times more MACs per cycle, and each MAC
costs the energy of its own width (the accelerator model's MAC energy grows with w x a). The unit's
area is that of an 8x8 PE: the classifier and input stay at 8 bits, so every array must support
8x8. Bit Fusion's shift-add tree overhead is not modelled (an optimistic simplification).

How the speed-up enters: the accelerator model gives a layer's compute cycles, its DRAM traffic and
its total cycles (max(compute, DRAM) + the first tile's load). Compute cycles are divided by the
speed-up, DRAM cycles (traffic / bytes per cycle, with the layer's own bit widths) are not, and
static energy follows the new run time. The mapping the model chose at full speed is kept.

>>> from dsegym.envs.codesign.network import NetArch
>>> arch = NetArch(2, 8, 2, 3, True)
>>> fast = run_network([{}], arch, (4, 4), (4, 4), batch=16)
>>> slow = run_network([{}], arch, (8, 8), (8, 8), batch=16)
>>> bool(fast["latency_cycles"][0] < slow["latency_cycles"][0]), bool(fast["energy_pj"][0] < slow["energy_pj"][0])
(True, True)
"""
from __future__ import annotations

import numpy as np

from .network import CLASSIFIER_BITS, NetArch

ENERGY_PARTS = ("energy_mac_pj", "energy_sram_pj", "energy_dram_pj", "energy_static_pj")


def fusion_width(bits) -> np.ndarray:
    """Operand width a Bit Fusion unit runs ``bits`` at: 2, 4 or 8."""
    b = np.asarray(bits)
    return np.where(b <= 2, 2, np.where(b <= 4, 4, 8))


def fusion_speedup(wbits, abits) -> np.ndarray:
    """MACs per cycle of one 8x8 fusion unit at these widths (1 at 8x8, 16 at 2x2)."""
    return (8 // fusion_width(wbits)) * (8 // fusion_width(abits))


def _first_tile_bytes(frame, layer, wbits, abits) -> np.ndarray:
    """Bytes of the first stationary tile, which must arrive before compute starts (as in
    accelerator.model): ws a K x N weight tile, is a K x M input tile, os nothing."""
    m, n, k = layer.mnk
    rows, cols = frame["rows"].to_numpy(np.float64), frame["cols"].to_numpy(np.float64)
    df = frame["dataflow"].to_numpy()
    ws = np.minimum(k, rows) * np.minimum(n, cols) * np.asarray(wbits) / 8.0
    is_ = np.minimum(k, rows) * np.minimum(m, cols) * np.asarray(abits) / 8.0
    return np.where(df == "ws", ws, np.where(df == "is", is_, 0.0))


def layer_bits(wbits, abits) -> tuple[np.ndarray, np.ndarray]:
    """(n, depth + 1) weight and input-activation bits of every accelerator layer (convolutions, then
    the classifier): layer i multiplies its weights by the activations quantised after layer i - 1; the
    first convolution reads the 8-bit image and the classifier has 8-bit weights."""
    wb, ab = np.atleast_2d(wbits), np.atleast_2d(abits)
    n = len(wb)
    w = np.concatenate([wb, np.full((n, 1), CLASSIFIER_BITS)], axis=1)
    a = np.concatenate([np.full((n, 1), 8), ab], axis=1)
    return w, a


def run_network(designs, arch: NetArch, wbits, abits, tech_nm: int = 28, batch: int = 1) -> dict[str, np.ndarray]:
    """Per-design totals of one inference of a ``batch`` of images through ``arch`` at per-layer bits.

    ``designs``: list of dicts or a DataFrame of accelerator parameters; ``wbits``/``abits``: one entry
    per convolution, or (n, depth) arrays for per-design bits. Returns arrays of latency_cycles,
    latency_ms, energy_pj and its four parts, area_mm2 and its parts, dram_bytes.

    The accelerator model takes one number format per design, so the chained network is simulated once
    per layer at that layer's bits and layer i is read from run i. Whether an activation stays on chip
    between layers is then judged at the reading layer's width (exact when neighbouring widths agree).
    """
    import pandas as pd

    from ..accelerator.simulator import simulate_arrays
    from ..accelerator.space import SPACE

    frame = designs if isinstance(designs, pd.DataFrame) else pd.DataFrame(list(designs))
    frame = frame[[c for c in frame.columns if c in SPACE]].reset_index(drop=True)
    for name, value in SPACE.default().items():  # missing parameters take the space's defaults
        if name not in frame.columns:
            frame[name] = value
    n = len(frame)
    w_all, a_all = layer_bits(np.broadcast_to(np.asarray(wbits), (n, arch.depth)),
                              np.broadcast_to(np.asarray(abits), (n, arch.depth)))
    layers = arch.accelerator_layers(batch)
    tot = {k: np.zeros(n) for k in ("cycles", "dram_bytes") + ENERGY_PARTS}
    runs: dict[tuple, tuple] = {}
    for i, layer in enumerate(layers):
        w, a = w_all[:, i], a_all[:, i]
        key = (w.tobytes(), a.tobytes())
        if key not in runs:  # layers at the same widths share one run
            runs[key] = simulate_arrays(frame.assign(weight_bits=w, act_bits=a, tech_nm=tech_nm), layers,
                                        "physical")
        out, _, layer_info = runs[key]
        cycles = out["cycles"][:, i].astype(np.float64)
        dram_bytes = out["dram_bytes"][:, i].astype(np.float64)
        inv_bpc = layer_info["clock_mhz"] / (layer_info["bw_gbps"] * 1e3)  # cycles per DRAM byte
        first = _first_tile_bytes(frame, layer, w, a) * inv_bpc
        # cycles = max(pipelined compute, DRAM) + first tile (accelerator.model): only compute speeds up
        fused = np.ceil(np.maximum((cycles - first) / fusion_speedup(w, a), dram_bytes * inv_bpc) + first)
        fused = np.minimum(fused, cycles)
        tot["cycles"] += fused
        tot["dram_bytes"] += dram_bytes
        for k in ("energy_mac_pj", "energy_sram_pj", "energy_dram_pj"):
            tot[k] += out[k][:, i]
        tot["energy_static_pj"] += out["energy_static_pj"][:, i] * (fused / np.maximum(cycles, 1.0))
    # the array is built of 8x8 fusion units whatever the layers use: its area is the 8x8 array's
    _, _, info = simulate_arrays(frame.assign(weight_bits=8, act_bits=8, tech_nm=tech_nm), layers[-1:], "physical")
    tot["energy_pj"] = sum(tot[k] for k in ENERGY_PARTS)
    result = {"latency_cycles": tot.pop("cycles"), **tot}
    result["latency_ms"] = result["latency_cycles"] / (info["clock_mhz"] * 1e3)
    for k in ("area_mm2", "area_pe_mm2", "area_sram_mm2", "area_phy_mm2"):
        result[k] = np.asarray(info[k], dtype=np.float64)
    return result
