"""The DRAMSys memory-controller design space ArchGym searched: ten knobs, 442,368 designs.

Names and choices are DRAMSys' ``mcconfig`` keys and values, in ArchGym's order (its multi-agent
setup gives one agent per knob, action sizes 4,3,3,8,2,2,4,4,3,8). Groups bundle knobs that act on
the same part of the controller, for one-agent-per-group environments.

>>> space = make_space()
>>> space.size, space.nvec.tolist()
(442368, [4, 3, 3, 8, 2, 2, 4, 4, 3, 8])
>>> space.groups["refresh"]
['RefreshPolicy', 'RefreshMaxPostponed', 'RefreshMaxPulledin']
"""
from __future__ import annotations

from dsegym.space import Categorical, DesignSpace, PowerOfTwo

# (name, choices, group, help). Index order matters: the controller kernel reads choice indices.
KNOBS = (
    ("PagePolicy", ("Open", "OpenAdaptive", "Closed", "ClosedAdaptive"), "page",
     "row buffer policy: when to auto-precharge after a read or write"),
    ("Scheduler", ("Fifo", "FrFcfs", "FrFcfsGrp"), "scheduler",
     "per-bank request order: oldest first, row hits first, row hits in the same direction first"),
    ("SchedulerBuffer", ("Bankwise", "ReadWrite", "Shared"), "scheduler",
     "request buffer organisation: one per bank, one for reads and one for writes, or one shared"),
    ("RequestBufferSize", (1, 2, 4, 8, 16, 32, 64, 128), "scheduler",
     "depth of each scheduler buffer"),
    ("RespQueue", ("Fifo", "Reorder"), "response",
     "response order: as completed, or restored to request order"),
    ("RefreshPolicy", ("NoRefresh", "AllBank"), "refresh", "refresh disabled or all-bank refresh"),
    ("RefreshMaxPostponed", (1, 2, 4, 8), "refresh", "refreshes that may be postponed while busy"),
    ("RefreshMaxPulledin", (1, 2, 4, 8), "refresh", "refreshes that may be pulled in while idle"),
    ("Arbiter", ("Simple", "Fifo", "Reorder"), "arbiter",
     "front-end arbiter: no transaction limit, limited, limited with in-order responses"),
    ("MaxActiveTransactions", (1, 2, 4, 8, 16, 32, 64, 128), "arbiter",
     "outstanding transactions per initiator (Fifo and Reorder arbiters)"),
)
NAMES = tuple(k[0] for k in KNOBS)

# DRAMSys' example mcconfig (configs/README.md): Open, Fifo, ReadWrite, 8, Fifo, AllBank, 8, 8,
# Fifo, 128, the controller ArchGym started from.
DEFAULT = {"PagePolicy": "Open", "Scheduler": "Fifo", "SchedulerBuffer": "ReadWrite",
           "RequestBufferSize": 8, "RespQueue": "Fifo", "RefreshPolicy": "AllBank",
           "RefreshMaxPostponed": 8, "RefreshMaxPulledin": 8, "Arbiter": "Fifo",
           "MaxActiveTransactions": 128}


def make_space() -> DesignSpace:
    """The ten-knob space; numeric knobs are powers of two so agents see their order."""
    params = []
    for name, choices, group, help_text in KNOBS:
        if isinstance(choices[0], int):
            params.append(PowerOfTwo(name, choices[0], choices[-1], group=group, default=DEFAULT[name],
                                     help=help_text))
        else:
            params.append(Categorical(name, list(choices), group=group, default=DEFAULT[name],
                                      help=help_text))
    return DesignSpace(params, name="dram-controller")
