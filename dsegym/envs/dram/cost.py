"""Controller hardware cost: area and leakage of the request buffers, transaction tracking and logic.

The model counts storage bits and comparator bits the controller needs for a configuration and
prices them with one cited per-bit figure (docs/references.md, "DRAM controller cost"):

- a register bit: 6 um^2 and 74 nW leakage (Aladdin's 40 nm register tables, Shao et al. ISCA 2014);
- an equality comparator bit: one XNOR2 plus its share of the AND reduction, 2.5 NAND2 gate
  equivalents; a gate equivalent is 0.798 / 4.522 of a register bit (NanGate 45 nm NAND2_X1 over
  DFF_X1 areas), so a comparator bit is 0.44 register bits. Leakage scales with area.

What is stored (the line address is the byte address without the 6 burst-offset bits):
- request buffer entry: line address, read/write, valid, transaction tag (log2 MaxActiveTransactions);
  entries that can hold a write (every entry of Bankwise and Shared, the write half of ReadWrite)
  also hold the 64-byte write data until the WR command;
- entries: Bankwise banks x RequestBufferSize, ReadWrite 2 x RequestBufferSize, Shared
  RequestBufferSize;
- transaction tracking (Fifo/Reorder arbiter): MaxActiveTransactions entries of line address,
  read/write and valid; a Reorder response queue also buffers 64 bytes of data per entry;
- open-row registers: one row address per bank for every page policy but Closed;
- row-hit comparators: one per buffer entry (row bits) for FR-FCFS and the adaptive page policies,
  else one per bank; FrFcfsGrp adds a column comparator per entry (its same-address hazard check);
- refresh: a postponed/pulled-in counter of ceil(log2(MaxPostponed + MaxPulledin + 1)) bits.

>>> from dsegym.envs.dram.devices import get_device
>>> import numpy as np
>>> cfg = np.array([[0, 0, 1, 8, 0, 1, 8, 8, 1, 128]])   # DRAMSys' example controller
>>> a, leak = controller_cost(cfg, get_device("DDR3-1600"))
>>> round(float(a[0]), 4), round(float(leak[0]), 3)
(0.0487, 0.601)
"""
from __future__ import annotations

import numpy as np

from .devices import DramDevice

REG_BIT_UM2 = 6.0            # Aladdin 40 nm register, area per bit (docs/references.md)
REG_BIT_LEAK_NW = 74.0       # Aladdin 40 nm register, leakage per bit (docs/references.md)
CMP_BIT_IN_REG_BITS = 2.5 * 0.798 / 4.522   # NanGate 45 nm NAND2_X1 / DFF_X1 (docs/references.md)
DATA_BITS = 64 * 8           # one burst of write (or reordered read) data


def _log2ceil(x: np.ndarray) -> np.ndarray:
    return np.ceil(np.log2(np.maximum(x, 1))).astype(np.int64)


def controller_bits(cfg: np.ndarray, dev: DramDevice) -> dict[str, np.ndarray]:
    """Register bits and comparator bits of each configuration row (kernel vectors, see controller)."""
    cfg = np.atleast_2d(np.asarray(cfg, dtype=np.int64))
    page, sched, sbuf, size = cfg[:, 0], cfg[:, 1], cfg[:, 2], cfg[:, 3]
    respq, maxpost, maxpull, arb, maxact = cfg[:, 4], cfg[:, 6], cfg[:, 7], cfg[:, 8], cfg[:, 9]
    f = dev.address_bits
    line_bits = f["column"][1] + f["bank"][1] + f["row"][1] + f["byte"][1] - 6
    row_bits, col_bits = f["row"][1], f["column"][1]
    tracked = arb != 0                                     # Simple arbiter tracks nothing
    tag = np.where(tracked, _log2ceil(maxact), 0)
    meta = line_bits + 2 + tag
    entries = np.select([sbuf == 0, sbuf == 1], [dev.banks * size, 2 * size], size)
    data_entries = np.where(sbuf == 1, size, entries)      # ReadWrite: only the write half holds data
    buffer_bits = entries * meta + data_entries * DATA_BITS
    reorder = (respq == 1) | (arb == 2)
    track_bits = np.where(tracked, maxact * (line_bits + 2 + np.where(reorder, DATA_BITS, 0)), 0)
    keeps_rows = page != 2
    open_row_bits = np.where(keeps_rows, dev.banks * row_bits, 0)
    per_entry_hit = (sched != 0) | (page == 1) | (page == 3)
    cmp_bits = np.where(per_entry_hit, entries * row_bits, np.where(keeps_rows, dev.banks * row_bits, 0))
    cmp_bits = cmp_bits + np.where(sched == 2, entries * (col_bits + 1), 0)
    refresh_bits = _log2ceil(maxpost + maxpull + 1)
    return {"buffer": buffer_bits, "tracking": track_bits, "open_rows": open_row_bits,
            "refresh": refresh_bits, "comparators": cmp_bits}


def controller_cost(cfg: np.ndarray, dev: DramDevice) -> tuple[np.ndarray, np.ndarray]:
    """(area in mm^2, leakage in mW) of each configuration's controller storage and match logic."""
    b = controller_bits(cfg, dev)
    reg_equiv = (b["buffer"] + b["tracking"] + b["open_rows"] + b["refresh"]
                 + b["comparators"] * CMP_BIT_IN_REG_BITS)
    return reg_equiv * REG_BIT_UM2 * 1e-6, reg_equiv * REG_BIT_LEAK_NW * 1e-6
