"""The per-(design, layer) model, vectorised over a block of designs.

Arrays are laid out (layer shapes, designs): layer quantities are (Lu, 1) columns or tables, design
quantities (1, g) rows, so every expression broadcasts to (Lu, g) with the long design axis innermost
(fast numpy loops) and no Python loop over designs. Designs of all three dataflows share one pass:
everything that depends on the dataflow and array shape is looked up in per-layer tables indexed by
(dataflow, R) or (dataflow, C). SCALE-Sim counts are float64, exact for integers < 2**53; the physical
estimates are float32.

SCALE-Sim v3 stall-free closed forms (REFERENCES section 2). GEMM view: M = output pixels, N =
filters, K = FH*FW*C. On an R x C array the spatial rows/cols and temporal extent (Sr, Sc, T) are
os: (M, N, K), ws: (K, N, M), is: (K, M, N); folds fr = ceil(Sr/R), fc = ceil(Sc/C). Compute cycles
are fr*fc*(2R + C + T - 2) - 1 for ws and is, fr*fc*(R + C + T - 2) - 1 for os. SRAM words: ifmap
reads M*K*fc (ws, os) or M*K (is); filter reads K*N (ws), K*N*fr (os), K*N*fc (is); ofmap writes
M*N*fr (ws, is) or M*N + fr*fc*(R + C) (os).

Physical model on top. Each dataflow walks its folds in SCALE-Sim's order: ws (is) keeps a weight
(input) tile in the array and streams the whole other operand once per column fold; os keeps outputs
in the PEs and, per row fold, streams its block of input rows once per column fold and the whole
filter once. An operand streamed ``p`` times is fetched from DRAM once plus (p - 1) times the part that
does not fit in (one half of) its double-buffered SRAM; the resident part stays pinned, so a bigger
buffer never adds traffic. ws and is accumulate the partial sums of a column fold over the fr row
folds in the ofmap buffer; what does not fit spills to DRAM as 32-bit words and comes back, 2 (fr - 1)
transfers. Final outputs are written once. Double buffering overlaps DRAM with compute:
cycles = max(compute, dram_bytes / bytes_per_cycle) + the time to load the first stationary tile.
The SCALE-Sim order matters: a weight-stationary design needs a large ofmap buffer (or suffers
partial-sum spills) on layers with many output pixels; that trade-off is part of the search.

>>> from dsegym.envs.accelerator.layers import layer_table, Gemm
>>> lay, shape_of = unique_layers(layer_table([Gemm(8, 8, 8), Gemm(4, 4, 4), Gemm(8, 8, 8)]))
>>> len(lay["M"]), shape_of.tolist()
(2, [1, 0, 1])
"""
from __future__ import annotations

import numpy as np

from . import constants as K
from .constants import PSUM_BITS

WS, OS, IS = 0, 1, 2  # codes of the dataflows, in space.DATAFLOWS order
ARRAY_MAX = 256  # largest array side: the space's rows/cols bound, which designs.py enforces
PSUM_BYTES = PSUM_BITS / 8.0


def unique_layers(lt) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(Lu, 1) float64 columns of the distinct layer shapes, and the map from each layer to its shape.

    Identical shapes give identical results, so each is simulated once (ResNet-18: 21 layers, 12 shapes);
    ``repeat`` is applied when results are written out.
    """
    key = np.stack([lt.M, lt.N, lt.K, lt.ifmap_elems], axis=1)
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    M, N, K, I = (uniq[:, j].astype(np.float64)[:, None] for j in range(4))
    cols = {"M": M, "N": N, "K": K, "I": I, "MN": M * N, "MK": M * K, "KN": K * N, "macs": M * N * K}
    # The mapping depends on a design only through (dataflow, R) and (dataflow, C), small integers: every
    # quantity below is tabulated for each dataflow and array side (column df * 257 + side), so a block
    # looks it up with one gather instead of selecting by dataflow and dividing.
    side = np.arange(ARRAY_MAX + 1, dtype=np.float64)[None, :]
    side[0, 0] = 1.0  # column 0 is never used (arrays have at least 4 rows)
    zero = np.zeros((len(M), ARRAY_MAX + 1))
    Sr = {WS: K, OS: M, IS: K}
    Sc = {WS: N, OS: N, IS: M}

    def table(fn):  # (Lu, 3 * 257): fn(df) for each dataflow, in code order
        return np.hstack([np.broadcast_to(fn(df), zero.shape) for df in (WS, OS, IS)])

    fr = {df: np.ceil(Sr[df] / side) for df in (WS, OS, IS)}  # row folds, by R
    fc = {df: np.ceil(Sc[df] / side) for df in (WS, OS, IS)}  # column folds, by C
    cols["FR"] = table(lambda df: fr[df])
    cols["FC"] = table(lambda df: fc[df])
    cols["SR_MIN32"] = table(lambda df: np.minimum(Sr[df], side)).astype(np.float32)
    cols["SC_MIN32"] = table(lambda df: np.minimum(Sc[df], side)).astype(np.float32)
    cols["T"] = np.hstack([M, K, N])  # temporal extent, by dataflow: ws M, os K, is N
    # times the ifmap is streamed, by C: fc (ws, os), 1 (is); SCALE-Sim's ifmap reads are M*K times that
    p_if = table(lambda df: 1.0 if df == IS else fc[df])
    cols["IF_READS"] = cols["MK"] * p_if
    cols["P_IF32"] = p_if.astype(np.float32)
    # ofmap writes, the part by R: M*N*fr (ws, is), M*N (os; plus folds * (R + C), added per design)
    cols["OFW"] = table(lambda df: cols["MN"] if df == OS else cols["MN"] * fr[df])
    # times the filter is streamed: fr (os, by R), 1 (ws), fc (is, by C); one table over
    # [R-indexed columns | C-indexed columns], indexed by design_rows' iF
    p_f = np.hstack([table(lambda df: fr[df] if df == OS else zero),
                     table(lambda df: fc[df] if df == IS else (1.0 if df == WS else zero))])
    cols["F_READS"] = cols["KN"] * p_f
    cols["P_F32"] = p_f.astype(np.float32)
    # float32 copies for the physical estimates
    for name in ("I", "KN", "MN", "macs"):
        cols[name + "32"] = cols[name].astype(np.float32)
    return cols, inverse.reshape(-1)


def lookups(cols: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-design constants that depend on one parameter with few distinct values (the node, a buffer
    size), as (codes, table) pairs: each scalar function of constants.py runs once per distinct value."""
    import pandas as pd

    out = {}
    codes, uniq = pd.factorize(cols["tech_nm"])
    for name, fn in (("e_node", K.node_energy_scale), ("a_node", K.node_area_scale),
                     ("sram_mm2", K.sram_mm2_per_kb)):
        out[name] = (codes, np.array([fn(float(u)) for u in uniq], dtype=np.float64))
    for buf in ("ifmap", "filter", "ofmap"):
        codes, uniq = pd.factorize(cols[f"{buf}_sram_kb"])
        out[f"pj64_{buf}"] = (codes, np.asarray(K.sram_read_pj_64b(np.asarray(uniq, dtype=np.float64))).reshape(-1))
    return out


def _lookup(look, name: str, block: slice) -> np.ndarray:
    codes, table = look[name]
    return table[codes[block]]


def design_area_mm2(cols: dict[str, np.ndarray], look) -> np.ndarray:
    """Chip area per design: PE arithmetic (by precision) plus SRAM (by KB), scaled to the node."""
    every = slice(None)
    pe = K.pe_um2(cols["weight_bits"], cols["act_bits"]) * 1e-6 * _lookup(look, "a_node", every)
    kb = cols["ifmap_sram_kb"] + cols["filter_sram_kb"] + cols["ofmap_sram_kb"]
    return cols["rows"] * cols["cols"] * pe + kb * _lookup(look, "sram_mm2", every)


def design_rows(cols: dict[str, np.ndarray], look, block: slice = slice(None)) -> dict[str, np.ndarray]:
    """Per-design indices and coefficients of :func:`evaluate_block` for the designs in ``block``, from
    checked design columns (``designs.design_columns``) and their :func:`lookups`.

    Energies are pJ at the design's node (constants.py cites each figure); capacities are the bytes of
    one half of a double-buffered SRAM (the other half is being filled), as SCALE-Sim does with its 0.5
    active-buffer fraction. Physical coefficients are float32 (see evaluate_block).
    """
    c = {k: v[block] for k, v in cols.items()}
    df = c["dataflow"].astype(np.intp)
    os_ = df == OS
    R, C = c["rows"], c["cols"]
    wb, ab = c["weight_bits"], c["act_bits"]
    e_node = _lookup(look, "e_node", block)
    pj64 = {b: _lookup(look, f"pj64_{b}", block) * e_node for b in ("ifmap", "filter", "ofmap")}  # per 64 bits
    e_dram = _DRAM_PJ_PER_BYTE[c["dram_type"]]
    bpc = c["dram_bw_gbps"] * (1e3 / c["clock_mhz"])  # bytes per cycle: GB/s over MHz
    a_b, w_b = ab * 0.125, wb * 0.125
    iR = df * (ARRAY_MAX + 1) + R.astype(np.intp)  # columns of unique_layers' tables
    iC = df * (ARRAY_MAX + 1) + C.astype(np.intp)
    cap_i = c["ifmap_sram_kb"] * 512.0
    f32 = {
        "a_b": a_b, "w_b": w_b, "RC": R * C,
        "cap_i_os": np.where(os_, cap_i, 0.0), "cap_i_not_os": np.where(os_, 0.0, cap_i),
        "cap_w": c["filter_sram_kb"] * 512.0,
        "cap_psum": c["ofmap_sram_kb"] * (512.0 / PSUM_BYTES),  # ofmap buffer half, in partial sums
        "psum_k": np.where(os_, 0.0, 2.0 * PSUM_BYTES),  # bytes out and back per spilled partial sum
        "inv_bpc": 1.0 / bpc,
        # the first stationary tile (ws: weights, is: inputs) must arrive before compute starts;
        # os preloads nothing (its operand skew is already in the compute cycles)
        "fill_b": np.choose(df, [w_b, 0.0 * a_b, a_b]) / bpc,
        "e_mac": K.mac_pj(wb, ab) * e_node,
        "e_if": pj64["ifmap"] * (ab / 64.0),  # SRAM energy scales with the bits moved
        "e_f": pj64["filter"] * (wb / 64.0),
        # ofmap SRAM: os writes finished outputs; ws/is read-modify-write 32-bit partial sums, i.e. two
        # accesses per write (e_of1) except the first to each output (-e_of2)
        "e_of1": pj64["ofmap"] * np.where(os_, ab / 64.0, 2.0 * K.PSUM_BITS / 64.0),
        "e_of2": pj64["ofmap"] * np.where(os_, 0.0, K.PSUM_BITS / 64.0),
        # a DRAM byte costs its DRAM energy plus the SRAM access that fills or drains it
        "c_if": pj64["ifmap"] * 0.125 + e_dram, "c_f": pj64["filter"] * 0.125 + e_dram,
        "c_of": pj64["ofmap"] * 0.125 + e_dram,
    }
    rows = {k: v.astype(np.float32)[None, :] for k, v in f32.items()}
    rows.update({
        "df": df, "iR": iR, "iC": iC,
        "iF": np.where(os_, iR, 3 * (ARRAY_MAX + 1) + iC),  # filter passes: by R for os, by C otherwise
        "R+C_os": np.where(os_, R + C, 0.0)[None, :],  # os writes each output tile's R + C edge words
        "extra": np.where(os_, R + C - 2.0, 2.0 * R + C - 2.0)[None, :],  # per-fold fill/drain of the array
    })
    return rows


_DRAM_PJ_PER_BYTE = np.array([K.DRAM_PJ_PER_BIT[t] * 8.0 for t in K.DRAM_TYPES])


def evaluate_block(d: dict[str, np.ndarray], lay: dict[str, np.ndarray], physical: bool) -> dict[str, np.ndarray]:
    """Per-instance metrics, (Lu, g) float64 arrays, for designs ``d`` ((1, g) rows) on layers ``lay``.

    Returns compute_cycles, sram_ifmap_reads, sram_filter_reads, sram_ofmap_writes, cycles,
    dram_bytes (not rounded), energy_pj and utilization, each for one repeat of the layer.
    The dataflow and array shape enter through table lookups (see unique_layers) and per-design rows.
    """
    fr = np.take(lay["FR"], d["iR"], axis=1)  # ceil(Sr / R): Sr = K (ws, is), M (os)
    fc = np.take(lay["FC"], d["iC"], axis=1)  # ceil(Sc / C): Sc = N (ws, os), M (is)
    folds = fr * fc
    T = np.take(lay["T"], d["df"], axis=1)  # temporal extent: M (ws), K (os), N (is)
    compute = folds * (T + d["extra"]) - 1.0
    if_reads = np.take(lay["IF_READS"], d["iC"], axis=1)
    f_reads = np.take(lay["F_READS"], d["iF"], axis=1)
    of_writes = np.take(lay["OFW"], d["iR"], axis=1) + folds * d["R+C_os"]

    # The physical estimates (bytes, energy, stalls) need no integer exactness: float32 halves the work.
    # Cycles stay float64 and at least the exact compute cycles. Every step is elementwise (no BLAS),
    # so a design's result never depends on the rest of the batch.
    f32 = np.float32
    fr32, fc32 = fr.astype(f32), fc.astype(f32)
    p_if32 = np.take(lay["P_IF32"], d["iC"], axis=1)
    p_f32 = np.take(lay["P_F32"], d["iF"], axis=1)
    i_bytes = lay["I32"] * d["a_b"]
    resident_i = fr32 * d["cap_i_os"] + d["cap_i_not_os"]  # os: each of the fr row blocks has the buffer
    if_dram = i_bytes + (p_if32 - f32(1)) * np.maximum(i_bytes - resident_i, f32(0))
    w_bytes = lay["KN32"] * d["w_b"]
    f_dram = w_bytes + (p_f32 - f32(1)) * np.maximum(w_bytes - d["cap_w"], f32(0))
    sc_tile = np.take(lay["SC_MIN32"], d["iC"], axis=1)  # min(Sc, C)
    # ws: M x C, is: C x N partial sums accumulate over the fr row folds; what does not fit spills
    spill = np.maximum(sc_tile * T.astype(f32) - d["cap_psum"], f32(0))
    of_dram = lay["MN32"] * d["a_b"] + (fr32 - f32(1)) * fc32 * spill * d["psum_k"]
    dram = if_dram + f_dram + of_dram

    if physical:
        fill = np.take(lay["SR_MIN32"], d["iR"], axis=1) * sc_tile * d["fill_b"]
        cycles = np.ceil(np.maximum(compute, dram * d["inv_bpc"]) + fill)
    else:
        cycles = compute

    energy = (lay["macs32"] * d["e_mac"] - lay["MN32"] * d["e_of2"] + if_reads.astype(f32) * d["e_if"]
              + f_reads.astype(f32) * d["e_f"] + of_writes.astype(f32) * d["e_of1"]
              + if_dram * d["c_if"] + f_dram * d["c_f"] + of_dram * d["c_of"])
    utilization = lay["macs32"] / (cycles.astype(f32) * d["RC"])
    return {"compute_cycles": compute, "sram_ifmap_reads": if_reads, "sram_filter_reads": f_reads,
            "sram_ofmap_writes": of_writes, "cycles": cycles, "dram_bytes": dram, "energy_pj": energy,
            "utilization": utilization}
