"""The accelerator design space: a systolic array, three SRAM buffers, DRAM, precision and node.

Groups are the sub-systems (compute, memory, dram, precision, technology), which multi-agent search
assigns to separate agents. One constraint caps total on-chip SRAM, so agents meet invalid designs.

>>> space = make_space()
>>> space.groups["memory"]
['ifmap_sram_kb', 'filter_sram_kb', 'ofmap_sram_kb']
>>> space.default()["dataflow"]
'ws'
"""
from __future__ import annotations

from ...space import Categorical, Constraint, DesignSpace, Integer, Ordinal, PowerOfTwo
from .constants import DRAM_TYPES, TECH_NODES_NM

DATAFLOWS = ("ws", "os", "is")
# A 3 MiB on-chip SRAM budget: the three buffers compete for it, so the memory group has a real trade.
SRAM_BUDGET_KB = 3072


def make_space() -> DesignSpace:
    """A fresh accelerator DesignSpace (see the module docstring)."""
    return DesignSpace([
        Integer("rows", 4, 256, log=True, default=32, group="compute", help="PE array rows"),
        Integer("cols", 4, 256, log=True, default=32, group="compute", help="PE array columns"),
        Categorical("dataflow", list(DATAFLOWS), default="ws", group="compute",
                    help="ws: weight, os: output, is: input stationary"),
        Ordinal("clock_mhz", [200, 400, 600, 800, 1000, 1200, 1500, 2000], default=1000, group="compute",
                help="array clock in MHz"),
        PowerOfTwo("ifmap_sram_kb", 4, 2048, default=64, group="memory", help="input feature-map buffer"),
        PowerOfTwo("filter_sram_kb", 4, 2048, default=64, group="memory", help="weight buffer"),
        PowerOfTwo("ofmap_sram_kb", 4, 2048, default=64, group="memory",
                   help="output / partial-sum buffer"),
        Categorical("dram_type", list(DRAM_TYPES), default="LPDDR4", group="dram",
                    help="sets the DRAM energy per bit"),
        PowerOfTwo("dram_bw_gbps", 8, 1024, default=32, group="dram", help="DRAM bandwidth in GB/s"),
        Ordinal("weight_bits", [4, 8, 16], default=8, group="precision"),
        Ordinal("act_bits", [4, 8, 16], default=8, group="precision"),
        Ordinal("tech_nm", sorted(TECH_NODES_NM), default=22, group="technology",
                help="technology node in nm"),
    ], constraints=[
        Constraint("total_sram_le_3mib",
                   lambda d: d["ifmap_sram_kb"] + d["filter_sram_kb"] + d["ofmap_sram_kb"] <= SRAM_BUDGET_KB,
                   f"ifmap_sram_kb + filter_sram_kb + ofmap_sram_kb must be at most {SRAM_BUDGET_KB}"),
    ], name="accelerator")


SPACE = make_space()
