"""Energy and area constants of the physical accelerator model, each with its source.

Everything is at 45 nm unless it says otherwise; :func:`node_energy_scale` and :func:`node_area_scale`
carry logic and SRAM to other nodes. DRAM energy is off-chip and does not scale with the node.

>>> round(sram_read_pj_64b(64.0), 1)   # CACTI 7, 45 nm, 64 KB
28.0
>>> node_energy_scale(7), node_area_scale(7)
(0.094, 0.059)
"""
from __future__ import annotations

import math

import numpy as np

# --- arithmetic (Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm) ---------------------------
MULT_INT8_PJ = 0.2  # 8-bit integer multiply, 0.2 pJ
MULT_INT8_UM2 = 282.0  # 8-bit integer multiply, 282 um^2
ADD32_PJ = 0.1  # 32-bit integer add, 0.1 pJ (16-bit: 0.05, 8-bit: 0.03, i.e. about linear in width)
ADD32_UM2 = 137.0  # 32-bit integer add, 137 um^2 (same table; not restated in REFERENCES.md)
# Multipliers grow about quadratically with operand width, adders linearly (Horowitz 2014; REFERENCES
# section 3): a w x a multiplier costs (w * a / 64) of the 8 x 8 one.
MULT_REF_BITS2 = 8 * 8
# Accumulators are 32 bits wide for every operand width in the space (4..16 bits): int8 x int8 MACs
# accumulate in int32 and fp16 ones in fp32 in practice, and partial sums that spill are 32-bit too.
PSUM_BITS = 32
# Sanity anchor, not used in the model: MAESTRO's MAC costs 0.23 pJ (= 8-bit mult + 8-bit add here).

# --- on-chip SRAM, energy per 64-bit access -------------------------------------------------------------
# (capacity KB, pJ per 64-bit read) at 45 nm: Horowitz 2014 gives 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ;
# CACTI 7 (run for REFERENCES section 3) gives 64 KB about 28 pJ. Interpolated log-log between points and
# extrapolated with the end slopes; writes are taken to cost the same as reads.
SRAM_POINTS_KB_PJ = ((8.0, 10.0), (32.0, 20.0), (64.0, 28.0), (1024.0, 100.0))

# --- SRAM area per KB (CACTI 7, REFERENCES section 3): 45 / 32 / 22 nm -----------------------------
SRAM_MM2_PER_KB_CACTI = {45: 0.0069, 32: 0.0036, 22: 0.0018}

# --- technology scaling (Stillmaker and Baas, Integration 2017, 0.8 V): 45 nm -> 7 nm ------------------
NODE_7NM_ENERGY = 0.094
NODE_7NM_AREA = 0.059
TECH_NODES_NM = (45, 32, 22, 16, 7)

# --- DRAM energy per bit (Accelergy tables, REFERENCES section 3) ------------------------------------
# DDR4 is left out on purpose: no cited per-bit figure is at hand.
DRAM_PJ_PER_BIT = {"DDR3": 70.0, "LPDDR4": 8.0, "GDDR5": 14.0, "HBM2": 3.9}
DRAM_TYPES = tuple(DRAM_PJ_PER_BIT)


def _powerlaw_exponent(factor_at_7nm: float) -> float:
    # Only the 45 nm and 7 nm end points are cited; nodes in between follow the power law through them
    # (log-log interpolation in feature size), which is what "scaling by node" means between two anchors.
    return math.log(factor_at_7nm) / math.log(7.0 / 45.0)


_E_EXP = _powerlaw_exponent(NODE_7NM_ENERGY)
_A_EXP = _powerlaw_exponent(NODE_7NM_AREA)


def node_energy_scale(nm: float) -> float:
    """Dynamic-energy factor of node ``nm`` relative to 45 nm (1.0 at 45, 0.094 at 7)."""
    return 1.0 if nm == 45 else (NODE_7NM_ENERGY if nm == 7 else float((nm / 45.0) ** _E_EXP))


def node_area_scale(nm: float) -> float:
    """Logic-area factor of node ``nm`` relative to 45 nm (1.0 at 45, 0.059 at 7)."""
    return 1.0 if nm == 45 else (NODE_7NM_AREA if nm == 7 else float((nm / 45.0) ** _A_EXP))


def sram_mm2_per_kb(nm: float) -> float:
    """SRAM area per KB: CACTI at 45/32/22 nm; 7 nm is the 45 nm figure times the Stillmaker-Baas area
    factor; other nodes are interpolated log-log between their neighbours."""
    table = dict(SRAM_MM2_PER_KB_CACTI)
    table[7] = SRAM_MM2_PER_KB_CACTI[45] * NODE_7NM_AREA
    if nm in table:
        return table[nm]
    nodes = sorted(table)
    lo = max(n for n in nodes if n < nm)
    hi = min(n for n in nodes if n > nm)
    t = math.log(nm / lo) / math.log(hi / lo)
    return float(math.exp(math.log(table[lo]) + t * (math.log(table[hi]) - math.log(table[lo]))))


_LOG_KB = np.log([p[0] for p in SRAM_POINTS_KB_PJ])
_LOG_PJ = np.log([p[1] for p in SRAM_POINTS_KB_PJ])


def sram_read_pj_64b(kb):
    """pJ per 64-bit access of an SRAM of ``kb`` KB at 45 nm (vectorised; log-log interpolation)."""
    x = np.log(np.asarray(kb, dtype=np.float64))
    y = np.interp(x, _LOG_KB, _LOG_PJ)
    lo_slope = (_LOG_PJ[1] - _LOG_PJ[0]) / (_LOG_KB[1] - _LOG_KB[0])
    hi_slope = (_LOG_PJ[-1] - _LOG_PJ[-2]) / (_LOG_KB[-1] - _LOG_KB[-2])
    y = np.where(x < _LOG_KB[0], _LOG_PJ[0] + lo_slope * (x - _LOG_KB[0]), y)
    y = np.where(x > _LOG_KB[-1], _LOG_PJ[-1] + hi_slope * (x - _LOG_KB[-1]), y)
    out = np.exp(y)
    return float(out) if out.ndim == 0 else out


def mac_pj(weight_bits, act_bits):
    """pJ per MAC at 45 nm: a weight_bits x act_bits multiply plus a 32-bit accumulate."""
    return MULT_INT8_PJ * (np.asarray(weight_bits) * np.asarray(act_bits)) / MULT_REF_BITS2 + ADD32_PJ


def pe_um2(weight_bits, act_bits):
    """um^2 of one PE's arithmetic at 45 nm (multiplier + 32-bit adder; registers not counted)."""
    return MULT_INT8_UM2 * (np.asarray(weight_bits) * np.asarray(act_bits)) / MULT_REF_BITS2 + ADD32_UM2
