"""The accelerator design space: a systolic array, its clock, three SRAM buffers and a memory interface.

Groups are the sub-systems (compute, memory, dram), which multi-agent search assigns to separate agents.
One constraint caps total on-chip SRAM, so agents meet invalid designs. The technology node and the
number format (weight and activation bits) are not searched: they are options of the problem
(``dsegym.make("accel-resnet18", tech_nm=28, weight_bits=8, act_bits=8)``), since an architect does
not pick the fab, and lower precision needs an accuracy objective (the co-design problems) to have a
cost. ``simulate`` accepts them, and ``dram_bw_gbps``, as columns too.

>>> space = make_space()
>>> space.groups["memory"]
['ifmap_sram_kb', 'filter_sram_kb', 'ofmap_sram_kb']
>>> space.default()["dataflow"], space.default()["dram_channels"]
('ws', 2)
"""
from __future__ import annotations

from ...space import Categorical, Constraint, DesignSpace, Integer, Ordinal, PowerOfTwo
from .constants import DRAM_TYPES

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
        Ordinal("clock_mhz", [200, 400, 600, 800, 1000, 1200, 1500, 2000], default=800, group="compute",
                help="array clock in MHz (sets the supply voltage through the node's V-f relation)"),
        PowerOfTwo("ifmap_sram_kb", 4, 2048, default=64, group="memory", help="input feature-map buffer"),
        PowerOfTwo("filter_sram_kb", 4, 2048, default=64, group="memory", help="weight buffer"),
        PowerOfTwo("ofmap_sram_kb", 4, 2048, default=64, group="memory",
                   help="output / partial-sum buffer"),
        Categorical("dram_type", list(DRAM_TYPES), default="LPDDR4", group="dram",
                    help="memory interface: bandwidth and pJ/bit per channel, PHY area and power"),
        PowerOfTwo("dram_channels", 1, 8, default=2, group="dram",
                   help="memory channels (HBM2: stacks); bandwidth, PHY area and PHY power scale with it"),
    ], constraints=[
        Constraint("total_sram_le_3mib",
                   lambda d: d["ifmap_sram_kb"] + d["filter_sram_kb"] + d["ofmap_sram_kb"] <= SRAM_BUDGET_KB,
                   f"ifmap_sram_kb + filter_sram_kb + ofmap_sram_kb must be at most {SRAM_BUDGET_KB}"),
    ], name="accelerator")


SPACE = make_space()
