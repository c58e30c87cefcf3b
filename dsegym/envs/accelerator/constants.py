"""Physical constants of the accelerator model, each with its source (docs/references.md, Accelerator).

Arithmetic, register and SRAM figures are quoted at 45 nm (40 nm for the Aladdin register figures) and
carried to other nodes by :func:`node_energy_scale` / :func:`node_area_scale` (logic) and
:func:`sram_energy_scale` / :func:`sram_mm2_per_kb` (SRAM). Figures marked ESTIMATE have no primary
measurement behind them; docs/references.md says how each was chosen.

>>> round(sram_read_pj_64b(64.0), 1)   # CACTI 7, 45 nm, 64 KB
28.0
>>> node_energy_scale(7), node_area_scale(7)
(0.094, 0.059)
>>> round(nominal_clock_mhz(28)), nominal_voltage(28)
(700, 0.9)
>>> round(float(voltage_for_clock(700.0, 28)), 3)   # TPU v1's clock is the 28 nm nominal point
0.9
"""
from __future__ import annotations

import math

import numpy as np

# --- arithmetic (Horowitz, "Computing's energy problem", ISSCC 2014, Fig. 1.1.9, 45 nm) ----------------
MULT_INT8_PJ = 0.2  # 8-bit integer multiply, 0.2 pJ
MULT_INT8_UM2 = 282.0  # 8-bit integer multiply, 282 um^2
ADD32_PJ = 0.1  # 32-bit integer add, 0.1 pJ
ADD32_UM2 = 137.0  # 32-bit integer add, 137 um^2
# Multipliers grow about quadratically with operand width, adders linearly (Horowitz 2014): a w x a
# multiplier costs (w * a / 64) of the 8 x 8 one.
MULT_REF_BITS2 = 8 * 8
# Partial sums are 32 bits for every operand width (int8 x int8 accumulates in int32; TPU v1's
# accumulators are 32-bit, Jouppi et al. 2017 section 2).
PSUM_BITS = 32

# --- registers, forwarding, control (per PE) -------------------------------------------------------------
# NanGate 45 nm open cell library: DFF_X1 4.5 um^2 per bit.
REG_UM2_PER_BIT = 4.5
# Aladdin (Shao et al., ISCA 2014) 40 nm tables: about 9 fJ per register bit per cycle (clock included)
# and 74 nW leakage per bit; the energy is converted to 45 nm with the node factor below.
REG_FJ_PER_BIT_40NM = 9.0
REG_LEAK_NW_PER_BIT_40NM = 74.0
REG_UM2_PER_BIT_40NM = 6.0
# ESTIMATE: driving an operand to the neighbouring PE costs about one more register load per bit
# (Eyeriss, Chen et al. ISCA 2016 Fig. 4, puts a PE-to-PE hop at the order of a register-file access).
FORWARD_PER_REG_BIT = 0.5
# ESTIMATE: standard-cell placement density of a timing-closed datapath (cells / placed area) and a
# per-PE share for control, enables and clock gating (TPU v1 spends 2% of the die on control).
CELL_UTILIZATION = 0.7
PE_CONTROL_OVERHEAD = 0.10

# --- on-chip SRAM, energy per 64-bit access at 45 nm ------------------------------------------------------
# Horowitz 2014: 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ; CACTI 7 (45 nm, 64 KB): about 28 pJ. Interpolated
# log-log between the points and extrapolated with the end slopes; writes cost the same as reads.
SRAM_POINTS_KB_PJ = ((8.0, 10.0), (32.0, 20.0), (64.0, 28.0), (1024.0, 100.0))
# SRAM area per KB (CACTI 7): 45 / 32 / 22 nm.
SRAM_MM2_PER_KB_CACTI = {45: 0.0069, 32: 0.0036, 22: 0.0018}

# --- technology scaling (Stillmaker and Baas, Integration 58, 2017): 45 nm -> 7 nm at 0.8 V -------------
NODE_7NM_ENERGY = 0.094
NODE_7NM_AREA = 0.059
TECH_NODES_NM = (65, 45, 40, 32, 28, 22, 16, 12, 7)
# Nominal supply by node. Stillmaker and Baas Table 2: 65 nm 1.1 V, 45 nm 1.0 V, 32 nm 0.9 V, 16 nm (HP)
# 0.8 V, 7 nm (HP) 0.7 V. ESTIMATE for the foundry half-nodes they do not list: 40 nm 1.0 V (as 45),
# 28 nm 0.9 V (as 32), 22 nm 0.8 V, 12 nm 0.8 V (as 16).
NOMINAL_V = {65: 1.1, 45: 1.0, 40: 1.0, 32: 0.9, 28: 0.9, 22: 0.8, 16: 0.8, 12: 0.8, 7: 0.7}
# Stillmaker and Baas delay fits d(V) = a V^3 + b V^2 + c V + e (relative units), evaluated at the
# nominal voltage to rank the nodes' gate speed; other nodes are interpolated log-log in feature size.
DELAY_FITS = {65: (-53.3, 230.4, -333.9, 178.6), 16: (0.0, 24.8, -47.52, 28.87), 7: (-28.58, 76.6, -70.26, 24.69)}
# The clock a systolic MAC array closes at nominal voltage is anchored on TPU v1: 700 MHz in 28 nm
# (Jouppi et al., ISCA 2017, Table 2); other nodes scale by the delay ratio above.
ANCHOR_NODE_NM, ANCHOR_CLOCK_MHZ = 28, 700.0
# Alpha-power law (Sakurai and Newton, IEEE JSSC 25(2), 1990): f ~ (V - Vt)^alpha / V, alpha 1.2-1.5 for
# short-channel devices. ESTIMATE: Vt = 0.4 x nominal supply. The supply may range from 0.6x to 1.3x
# nominal; a clock that needs more is extrapolated (real silicon would not close timing there).
ALPHA = 1.3
VT_FRACTION = 0.4
V_MIN_FRACTION, V_MAX_FRACTION = 0.6, 1.3

# --- leakage ----------------------------------------------------------------------------------------------
# Logic leakage per mm^2 at 40 nm from Aladdin's register figures: 74 nW / 6 um^2 = 12.3 mW/mm^2.
# ESTIMATE: other nodes scale by (energy factor / area factor) (same leakage per switched capacitance);
# leakage grows as (V / Vnom)^2 with the supply; SRAM (on its own nominal rail) leaks at the same density.
LEAK_MW_PER_MM2_40NM = REG_LEAK_NW_PER_BIT_40NM / REG_UM2_PER_BIT_40NM  # nW/um^2 == mW/mm^2

# --- off-chip memory interfaces ------------------------------------------------------------------------------
# Per channel (HBM2: per stack): GB/s, DRAM energy pJ/bit (Accelergy tables: DDR3 70, LPDDR4 8, GDDR5 14,
# HBM2 3.9), PHY area mm^2 and PHY static power W.
# Bandwidths are JEDEC peak rates: DDR3-2133 x64 (17.1 GB/s; TPU v1's two channels give 34 GB/s),
# LPDDR4-3200 x32 (12.8), GDDR5 8 Gb/s x32 (32), HBM2 2 Gb/s x1024 (256).
# PHY area and power are ESTIMATES: TPU v1 (Jouppi 2017 section 7) estimates that four GDDR5 channels
# instead of two DDR3 ones add about 10% of its <= 331 mm^2 die and about 10 W; split as DDR3 5 mm^2 /
# 0.5 W and GDDR5 10 mm^2 / 2 W per channel (4*10 - 2*5 = 30 mm^2, 4*2 - 2*0.5 = 7 W static plus the
# I/O energy of the extra traffic). LPDDR4 (unterminated, low swing) 2 mm^2 / 0.1 W; HBM2 (1024-bit
# micro-bump PHY) 12 mm^2 / 1.5 W per stack. PHYs are analog and bump-limited: the node does not scale them.
DRAM_INTERFACES = {
    # type: (GB/s per channel, pJ/bit, PHY mm^2 per channel, PHY W per channel)
    "DDR3": (17.064, 70.0, 5.0, 0.5),
    "LPDDR4": (12.8, 8.0, 2.0, 0.1),
    "GDDR5": (32.0, 14.0, 10.0, 2.0),
    "HBM2": (256.0, 3.9, 12.0, 1.5),
}
DRAM_TYPES = tuple(DRAM_INTERFACES)
DRAM_PJ_PER_BIT = {k: v[1] for k, v in DRAM_INTERFACES.items()}


def _powerlaw_exponent(factor_at_7nm: float) -> float:
    # Only the 45 nm and 7 nm end points are cited; other nodes follow the power law through them
    # (log-log in feature size), extrapolated to 65 nm.
    return math.log(factor_at_7nm) / math.log(7.0 / 45.0)


_E_EXP = _powerlaw_exponent(NODE_7NM_ENERGY)
_A_EXP = _powerlaw_exponent(NODE_7NM_AREA)


def node_energy_scale(nm: float) -> float:
    """Logic dynamic-energy factor of node ``nm`` at nominal voltage, relative to 45 nm (1.0; 7 nm 0.094)."""
    return 1.0 if nm == 45 else (NODE_7NM_ENERGY if nm == 7 else float((nm / 45.0) ** _E_EXP))


def node_area_scale(nm: float) -> float:
    """Logic-area factor of node ``nm`` relative to 45 nm (1.0 at 45, 0.059 at 7)."""
    return 1.0 if nm == 45 else (NODE_7NM_AREA if nm == 7 else float((nm / 45.0) ** _A_EXP))


def _loglog(table: dict, nm: float) -> float:
    nodes = sorted(table)
    if nm in table:
        return float(table[nm])
    lo = max([n for n in nodes if n < nm], default=nodes[0])
    hi = min([n for n in nodes if n > nm], default=nodes[-1])
    if lo == hi:  # outside the table: extend the nearest segment
        lo, hi = (nodes[0], nodes[1]) if nm < nodes[0] else (nodes[-2], nodes[-1])
    t = math.log(nm / lo) / math.log(hi / lo)
    return float(math.exp(math.log(table[lo]) + t * (math.log(table[hi]) - math.log(table[lo]))))


def sram_mm2_per_kb(nm: float) -> float:
    """SRAM area per KB: CACTI at 45/32/22 nm; 7 and 65 nm are the 45 nm figure times the logic area factor;
    other nodes are interpolated log-log between their neighbours."""
    table = dict(SRAM_MM2_PER_KB_CACTI)
    table[7] = SRAM_MM2_PER_KB_CACTI[45] * NODE_7NM_AREA
    table[65] = SRAM_MM2_PER_KB_CACTI[45] * node_area_scale(65)
    return _loglog(table, nm)


def nominal_voltage(nm: float) -> float:
    """Nominal supply (V) of node ``nm`` (Stillmaker and Baas; half-nodes estimated, see NOMINAL_V)."""
    return _loglog(NOMINAL_V, nm)


def sram_energy_scale(nm: float) -> float:
    """SRAM access-energy factor relative to 45 nm. ESTIMATE: bit- and word-line capacitance follows the
    linear dimension (sqrt of the area factor), times (Vnom / 1.0 V)^2; SRAM stays on its nominal rail."""
    return math.sqrt(node_area_scale(nm)) * (nominal_voltage(nm) / NOMINAL_V[45]) ** 2


def _nominal_delay(nm: float) -> float:
    table = {n: float(np.polyval(DELAY_FITS[n], NOMINAL_V[n])) for n in DELAY_FITS}
    return _loglog(table, nm)


def nominal_clock_mhz(nm: float) -> float:
    """Clock (MHz) a systolic MAC array reaches at nominal voltage in node ``nm`` (700 MHz at 28 nm)."""
    return ANCHOR_CLOCK_MHZ * _nominal_delay(ANCHOR_NODE_NM) / _nominal_delay(nm)


def _speed(v, vt):
    return np.maximum(v - vt, 1e-9) ** ALPHA / v


def voltage_for_clock(clock_mhz, nm: float):
    """Supply (V) that runs ``clock_mhz`` in node ``nm`` (alpha-power law; vectorised over clocks).

    Never below V_MIN_FRACTION x nominal (a slower clock then saves no more dynamic energy); above
    V_MAX_FRACTION x nominal the law is extrapolated.
    """
    vn = nominal_voltage(nm)
    vt = VT_FRACTION * vn
    target = np.asarray(clock_mhz, dtype=np.float64) / nominal_clock_mhz(nm) * _speed(vn, vt)
    lo = np.full(target.shape, vt + 1e-6)
    hi = np.full(target.shape, 20.0 * vn)
    for _ in range(60):  # bisection: speed(V) is increasing for V > Vt
        mid = 0.5 * (lo + hi)
        low = _speed(mid, vt) < target
        lo = np.where(low, mid, lo)
        hi = np.where(low, hi, mid)
    return np.maximum(0.5 * (lo + hi), V_MIN_FRACTION * vn)


def leak_mw_per_mm2(nm: float) -> float:
    """Leakage power density (mW/mm^2) at nominal voltage (ESTIMATE, see LEAK_MW_PER_MM2_40NM)."""
    return LEAK_MW_PER_MM2_40NM * (node_energy_scale(nm) / node_energy_scale(40)) / (
        node_area_scale(nm) / node_area_scale(40))


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


def pe_register_bits(weight_bits, act_bits, weight_stationary, input_stationary=False):
    """Pipeline-register bits of one PE: weight, activation and the 32-bit partial sum. The stationary
    operand's register is doubled, so the next tile shifts in behind the current one (TPU v1's weights):
    the weight in ws, the activation in is (the model pipelines is folds the same way, model.py).

    >>> [float(pe_register_bits(8, 8, ws, is_)) for ws, is_ in ((False, False), (True, False), (False, True))]
    [48.0, 56.0, 56.0]
    """
    wb = np.asarray(weight_bits, dtype=np.float64)
    ab = np.asarray(act_bits, dtype=np.float64)
    return wb * np.where(weight_stationary, 2.0, 1.0) + ab * np.where(input_stationary, 2.0, 1.0) + PSUM_BITS


def mac_pj(weight_bits, act_bits):
    """pJ per MAC of the arithmetic alone at 45 nm: a weight_bits x act_bits multiply plus a 32-bit add."""
    return MULT_INT8_PJ * (np.asarray(weight_bits) * np.asarray(act_bits)) / MULT_REF_BITS2 + ADD32_PJ


def pe_pj(weight_bits, act_bits, weight_stationary=False, input_stationary=False):
    """pJ per MAC of a whole PE at 45 nm, nominal voltage: arithmetic, its pipeline registers and the
    forwarding of the activation and partial sum to the neighbours.

    >>> round(float(pe_pj(8, 8)), 3)
    1.011
    """
    reg_pj = REG_FJ_PER_BIT_40NM * 1e-3 / node_energy_scale(40)
    bits = pe_register_bits(weight_bits, act_bits, weight_stationary, input_stationary)
    forwarded = np.asarray(act_bits, dtype=np.float64) + PSUM_BITS
    return mac_pj(weight_bits, act_bits) + reg_pj * (bits + FORWARD_PER_REG_BIT * forwarded)


def scratchpad_pj_per_mac(weight_bits, act_bits):
    """pJ per MAC at 45 nm of a PE that works out of a local register file (Eyeriss-style): it reads the
    weight and the input and reads and writes a partial sum of the activation width. ESTIMATE: a
    register-file access costs what a register bit costs per cycle (Aladdin), per bit moved."""
    reg_pj = REG_FJ_PER_BIT_40NM * 1e-3 / node_energy_scale(40)
    return reg_pj * (np.asarray(weight_bits, dtype=np.float64) + 3.0 * np.asarray(act_bits))


def pe_um2(weight_bits, act_bits, weight_stationary=False, input_stationary=False):
    """um^2 of one PE at 45 nm: multiplier, 32-bit adder and pipeline registers, placed at
    CELL_UTILIZATION, plus the control share.

    >>> round(float(pe_um2(8, 8)))
    998
    """
    cells = (MULT_INT8_UM2 * (np.asarray(weight_bits) * np.asarray(act_bits)) / MULT_REF_BITS2 + ADD32_UM2
             + REG_UM2_PER_BIT * pe_register_bits(weight_bits, act_bits, weight_stationary, input_stationary))
    return cells / CELL_UTILIZATION * (1.0 + PE_CONTROL_OVERHEAD)
