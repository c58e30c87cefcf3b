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


# Knobs the default problems fix (docs/references.md, "DRAM controller knobs"): with one initiator and
# one channel, response ordering (RespQueue, and the Reorder arbiter) only restores an order no other
# part of the simulated system reads, and the arbiter's choice only matters between initiators, so
# both stay at DRAMSys' example values; the Fifo arbiter keeps MaxActiveTransactions meaningful.
# RefreshPolicy=NoRefresh is a controller that loses data: a what-if kept only in the ArchGym space.
# RefreshMaxPulledin acts only while the controller is idle; the ArchGym traces keep it busy from the
# first request to the last, so there it would change nothing but its counter's cost. It is fixed at
# DRAMSys' example value; pass ``knobs=`` to the factory to search it on a trace with idle time.
FIXED = {"RespQueue": "Fifo", "Arbiter": "Fifo", "RefreshPolicy": "AllBank", "RefreshMaxPulledin": 8}
SEARCHED = tuple(name for name in NAMES if name not in FIXED)


def make_space(knobs=NAMES) -> DesignSpace:
    """The controller space over ``knobs`` (default: all ten, ArchGym's 442,368 designs).

    ``make_space(SEARCHED)`` is the default problems' space: the six knobs left after fixing
    :data:`FIXED`.

    >>> make_space(SEARCHED).size
    9216
    """
    unknown = [k for k in knobs if k not in NAMES]
    if unknown:
        from dsegym.errors import ConfigError
        raise ConfigError(f"unknown DRAM knobs {unknown}; knobs: {', '.join(NAMES)}")
    params = []
    for name, choices, group, help_text in KNOBS:
        if name not in knobs:
            continue
        if isinstance(choices[0], int):
            params.append(PowerOfTwo(name, choices[0], choices[-1], group=group, default=DEFAULT[name],
                                     help=help_text))
        else:
            params.append(Categorical(name, list(choices), group=group, default=DEFAULT[name],
                                      help=help_text))
    return DesignSpace(params, name="dram-controller" if tuple(knobs) == NAMES else f"dram-controller-{len(params)}")
