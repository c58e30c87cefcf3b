"""Per-design physical quantities: supply voltage, energies per event, leakage, memory interface, area.

Everything here depends on a design alone (not on the layer); ``model`` combines it with the layer
shapes. Scalar functions of ``constants`` run once per distinct value of the parameters they read
(a batch has few distinct nodes, clocks, buffer sizes), then are gathered per design.

>>> from dsegym.envs.accelerator.designs import design_columns
>>> cols, _ = design_columns([{"rows": 256, "cols": 256, "tech_nm": 28, "clock_mhz": 700}])
>>> p = design_physics(cols)
>>> round(float(p["vdd"][0]), 2), round(float(p["area_pe_mm2"][0]), 1)
(0.9, 33.6)
"""
from __future__ import annotations

import numpy as np

from . import constants as K
from .model import DESIGN_FIELDS, IS, OS, WS, njit

_DRAM = np.array([K.DRAM_INTERFACES[t] for t in K.DRAM_TYPES])  # rows: GB/s, pJ/bit, PHY mm^2, PHY W


@njit(cache=True, inline="always")
def _hash_slot(b, shift):
    """Slot of a uint64 key: the top bits (64 - shift of them) of a multiplicative (Fibonacci) hash."""
    return ((b ^ (b >> np.uint64(29))) * np.uint64(0x9E3779B97F4A7C15)) >> shift


@njit(cache=True)
def _factorize_bits(bits):
    """Codes (in order of first appearance) of a uint64 array, and the index of each distinct value's
    first occurrence: a linear-probing hash table that grows with the number of distinct values.

    pd.factorize does the same for any dtype; this is 3-5x faster on the few-distinct-value float columns
    of a batch of designs (0.3 ms per 100,000 designs instead of 1.2 ms, and a simulate call makes nine).
    """
    n = bits.shape[0]
    size = 64
    shift = np.uint64(58)  # slot = the top log2(size) bits of a multiplicative (Fibonacci) hash
    slots = np.full(size, -1, np.int64)
    first = np.empty(max(n, 1), np.int64)
    codes = np.empty(n, np.int64)
    k = 0
    for i in range(n):
        b = bits[i]
        slot = _hash_slot(b, shift)
        while True:
            c = slots[slot]
            if c < 0:
                slots[slot] = k
                first[k] = i
                codes[i] = k
                k += 1
                if 2 * k > size:  # keep the table at most half full: double it, re-insert
                    size *= 2
                    shift -= np.uint64(1)
                    slots = np.full(size, -1, np.int64)
                    for c2 in range(k):
                        b2 = bits[first[c2]]
                        s2 = _hash_slot(b2, shift)
                        while slots[s2] >= 0:
                            s2 = (s2 + np.uint64(1)) & np.uint64(size - 1)
                        slots[s2] = c2
                break
            if bits[first[c]] == b:
                codes[i] = c
                break
            slot = (slot + np.uint64(1)) & np.uint64(size - 1)
    return codes, first[:k]


def _factorize(col):
    """(codes, distinct values) of a float column (finite values: equal values have equal bits)."""
    col = np.ascontiguousarray(col, dtype=np.float64)
    codes, first = _factorize_bits(col.view(np.uint64))
    return codes, col[first]


def _per_value(fn, *cols):
    """fn applied once per distinct tuple of values of ``cols``, gathered back to every design."""
    if len(cols) == 1:
        return _Distinct(cols[0])(fn)
    codes = []
    uniques = []
    for col in cols:
        c, u = _factorize(col)
        codes.append(c)
        uniques.append(u)
    key = codes[0]
    for c, u in zip(codes[1:], uniques[1:]):
        key = key * len(u) + c
    kc, first = _factorize_bits(key.view(np.uint64))
    rows = []
    for k in key[first]:  # decode each distinct combined key back to its values
        vals = []
        for u in reversed(uniques):
            k, j = divmod(int(k), len(u))
            vals.append(float(u[j]))
        rows.append(fn(*reversed(vals)))
    return np.array(rows, dtype=np.float64)[kc]


class _Distinct:
    """The distinct values of one column, factorized once for every function applied to it."""

    def __init__(self, col):
        self.codes, uniq = _factorize(col)
        self.values = [float(u) for u in uniq]

    def __call__(self, fn):
        return np.array([fn(u) for u in self.values], dtype=np.float64)[self.codes]


def _voltages(clock_mhz, node: _Distinct):
    """voltage_for_clock per design: one call per node, vectorised over that node's distinct clocks."""
    clock_codes, clocks = _factorize(clock_mhz)
    key = node.codes * len(clocks) + clock_codes
    pair_codes, first = _factorize_bits(key.view(np.uint64))
    pair_node, pair_clock = np.divmod(key[first], len(clocks))
    vdd = np.empty(len(first))
    for j, nm in enumerate(node.values):
        mine = pair_node == j
        if mine.any():
            vdd[mine] = K.voltage_for_clock(clocks[pair_clock[mine]], nm)
    return vdd[pair_codes]


def design_physics(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-design arrays: vdd, pJ per event, leakage and PHY power (W), interface bandwidth, area parts."""
    nm = cols["tech_nm"]
    wb, ab = cols["weight_bits"], cols["act_bits"]
    ws = cols["dataflow"] == WS
    is_ = cols["dataflow"] == IS  # the stationary operand's PE register is doubled (constants.pe_register_bits)
    node = _Distinct(nm)  # a batch has few nodes: each node function runs once per node
    vdd = _voltages(cols["clock_mhz"], node)
    vnom = node(K.nominal_voltage)
    v2 = (vdd / vnom) ** 2
    e_logic = node(K.node_energy_scale)
    a_logic = node(K.node_area_scale)
    e_sram = node(K.sram_energy_scale)
    pes = cols["rows"] * cols["cols"]

    dram = _DRAM[cols["dram_type"].astype(np.intp)]
    per_channel_gbps = dram[:, 0]
    given_bw = ~np.isnan(cols["dram_bw_gbps"])
    bw = np.where(given_bw, cols["dram_bw_gbps"], cols["dram_channels"] * per_channel_gbps)
    channels = np.where(given_bw, bw / per_channel_gbps, cols["dram_channels"])

    spad_um2 = cols["pe_scratchpad_bytes"] * 8.0 * K.REG_UM2_PER_BIT / K.CELL_UTILIZATION
    area_pe = pes * (K.pe_um2(wb, ab, ws, is_) + spad_um2) * 1e-6 * a_logic
    kb = cols["ifmap_sram_kb"] + cols["filter_sram_kb"] + cols["ofmap_sram_kb"]
    area_sram = kb * node(K.sram_mm2_per_kb)
    area_phy = channels * dram[:, 2]
    leak_density_w = node(K.leak_mw_per_mm2) * 1e-3
    static_w = (area_pe * leak_density_w * v2 + area_sram * leak_density_w + channels * dram[:, 3])
    static_nominal_w = (area_pe + area_sram) * leak_density_w + channels * dram[:, 3]
    return {
        "vdd": vdd, "v2": v2, "e_logic": e_logic, "e_sram": e_sram, "bw_gbps": bw, "channels": channels,
        "dram_pj_per_byte": dram[:, 1] * 8.0, "static_w": static_w, "static_nominal_w": static_nominal_w,
        "f_nominal_mhz": node(K.nominal_clock_mhz),
        "area_pe_mm2": area_pe, "area_sram_mm2": area_sram, "area_phy_mm2": area_phy,
        "area_mm2": area_pe + area_sram + area_phy,
    }


def design_inputs(cols: dict[str, np.ndarray], phys: dict[str, np.ndarray]) -> np.ndarray:
    """The (len(model.DESIGN_FIELDS), n) float64 matrix the model kernel reads.

    Capacities are the bytes of one half of a double-buffered SRAM (the other half is being filled), as
    SCALE-Sim does with its 0.5 active-buffer fraction. Energies are pJ at the design's node and supply.
    """
    df = cols["dataflow"].astype(np.intp)
    os_ = df == OS
    wb, ab = cols["weight_bits"], cols["act_bits"]
    e_sram = phys["e_sram"]
    pj64 = {b: np.asarray(_per_value(K.sram_read_pj_64b, cols[f"{b}_sram_kb"])) * e_sram
            for b in ("ifmap", "filter", "ofmap")}
    bpc = phys["bw_gbps"] * (1e3 / cols["clock_mhz"])  # bytes per cycle: GB/s over MHz
    e_dram = phys["dram_pj_per_byte"]
    f = {
        "R": cols["rows"], "C": cols["cols"], "df": df.astype(np.float64),
        "cap_i": cols["ifmap_sram_kb"] * 512.0, "cap_w": cols["filter_sram_kb"] * 512.0,
        "cap_p": cols["ofmap_sram_kb"] * (512.0 / (K.PSUM_BITS / 8.0)),
        "a_b": ab / 8.0, "w_b": wb / 8.0, "inv_bpc": 1.0 / bpc,
        "e_mac": (K.pe_pj(wb, ab, df == WS, df == IS) + np.where(cols["pe_scratchpad_bytes"] > 0,
                                                                   K.scratchpad_pj_per_mac(wb, ab), 0.0))
        * phys["e_logic"] * phys["v2"],
        "e_if": pj64["ifmap"] * (ab / 64.0),  # SRAM energy scales with the bits moved
        "e_f": pj64["filter"] * (wb / 64.0),
        # os writes finished outputs; ws/is access 32-bit partial sums
        "e_of": pj64["ofmap"] * np.where(os_, ab, K.PSUM_BITS) / 64.0,
        # a DRAM byte is also written into (or read out of) its SRAM
        "e_fill_i": pj64["ifmap"] / 8.0, "e_fill_w": pj64["filter"] / 8.0, "e_fill_o": pj64["ofmap"] / 8.0,
        "e_dram": e_dram,
        "e_psum": pj64["ofmap"] * (K.PSUM_BITS / 64.0),  # one 32-bit partial sum in or out of the ofmap SRAM
        "static_pj": phys["static_w"] * 1e12 / (cols["clock_mhz"] * 1e6),  # W x seconds per cycle, in pJ
        # the same at the node's nominal clock and supply: what the mapper prices leakage at
        "static_ref": phys["static_nominal_w"] * 1e12 / (phys["f_nominal_mhz"] * 1e6),
        "inv_bpc_ref": phys["f_nominal_mhz"] / (phys["bw_gbps"] * 1e3),
    }
    return np.stack([np.asarray(f[name], dtype=np.float64) for name in DESIGN_FIELDS])
