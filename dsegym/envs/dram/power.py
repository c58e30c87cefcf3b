"""DRAMPower-style energy: IDD currents to per-command energies and background power.

DRAMPower (Chandrasekar et al., "DRAMPower: Open-source DRAM power & energy estimation tool") charges
each command the current above the standby it replaces, for the time the command keeps the die busy:

- ACT: (IDD0 - IDD3N) * tRAS;  PRE: (IDD0 - IDD2N) * (tRC - tRAS)
- RD: (IDD4R - IDD3N) * tBURST;  WR: (IDD4W - IDD3N) * tBURST
- REF (all bank): (IDD5 - IDD3N) * tRFC
- background: IDD3N while any bank is open, IDD2N while all are precharged

each times VDD and tCK, summed over supply rails and multiplied by the dies in the rank.

>>> from dsegym.envs.dram.devices import get_device
>>> e = command_energies_nj(get_device("DDR3-1600"))
>>> round(e["act"] + e["pre"], 3), round(e["rd"], 3), round(e["ref"], 2)
(14.25, 5.7, 165.0)
>>> round(background_power_w(get_device("DDR3-1600"))["active"], 3)
0.54
"""
from __future__ import annotations

import numpy as np

from .devices import DramDevice


def command_energies_nj(dev: DramDevice) -> dict[str, float]:
    """Energy of one ACT, PRE, RD, WR and REF command across the whole rank, in nJ."""
    t, tck = dev.t, dev.tck_ns
    out = dict.fromkeys(("act", "pre", "rd", "wr", "ref"), 0.0)
    for r in dev.rails:
        # mA * ns * V = pJ; /1000 -> nJ
        out["act"] += (r.idd0 - r.idd3n) * t["RAS"] * tck * r.vdd
        out["pre"] += (r.idd0 - r.idd2n) * (t["RC"] - t["RAS"]) * tck * r.vdd
        out["rd"] += (r.idd4r - r.idd3n) * t["BURST"] * tck * r.vdd
        out["wr"] += (r.idd4w - r.idd3n) * t["BURST"] * tck * r.vdd
        out["ref"] += (r.idd5 - r.idd3n) * t["RFC"] * tck * r.vdd
    return {k: v * dev.devices / 1000.0 for k, v in out.items()}


def background_power_w(dev: DramDevice) -> dict[str, float]:
    """Standby power of the rank with some bank open ("active") or all precharged ("precharged")."""
    act = sum(r.idd3n * r.vdd for r in dev.rails) * dev.devices / 1000.0   # mA * V = mW -> W
    pre = sum(r.idd2n * r.vdd for r in dev.rails) * dev.devices / 1000.0
    return {"active": act, "precharged": pre}


def energy_uj(dev: DramDevice, counts: np.ndarray, active_cycles, total_cycles) -> np.ndarray:
    """Total energy in uJ from command counts (columns act, pre, rd, wr, ref) and standby cycles.

    Vectorised over designs: ``counts`` is (n, 5), the cycle arguments are length-n arrays.
    """
    e = command_energies_nj(dev)
    per_cmd = np.array([e["act"], e["pre"], e["rd"], e["wr"], e["ref"]])
    bg = background_power_w(dev)
    active = np.asarray(active_cycles, dtype=np.float64)
    idle = np.asarray(total_cycles, dtype=np.float64) - active
    standby_nj = (active * bg["active"] + idle * bg["precharged"]) * dev.tck_ns   # W * ns = nJ
    return (np.asarray(counts, dtype=np.float64) @ per_cmd + standby_nj) / 1000.0
