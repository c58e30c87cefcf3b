"""Built-in DRAM problems: the ArchGym controller space on a trace, scored by energy and latency.

ArchGym's setup: 10,000 64-byte reads issued one per cycle at 800 MHz to a DDR3-1600 channel.
``dsegym.make("dram", trace=...)`` takes any trace (DataFrame, ``.stl``/Ramulator file or generator
name) and any device in :data:`~dsegym.envs.dram.devices.DEVICES`.

Objectives are energy and per-request latency, both minimised. ArchGym's pitfall is not repeated:
average power alone would pick Closed page, which draws less power but spends far more energy and
time (see ``tests/test_dram_model.py::test_power_alone_picks_closed_page``).

>>> p = make_dram_problem("stream", n=512)
>>> p.id, [o.metric for o in p.objectives]
('dram-stream', ['energy_uj', 'avg_latency_ns'])
>>> float(p.evaluate([{"PagePolicy": "Open"}])["row_hit_rate"][0]) > 0.99
True
"""
from __future__ import annotations

import os

from dsegym.errors import ConfigError
from dsegym.problem import Objective, Problem

from .devices import get_device
from .model import METRICS, DramModel
from .space import make_space
from .traces import GENERATORS

DEFAULT_OBJECTIVES = ("energy_uj", "avg_latency_ns")
_MAXIMISED = ("bandwidth_gbps", "row_hit_rate")


def _objectives(objectives) -> list[Objective]:
    out = []
    for o in objectives:
        metric = o.metric if isinstance(o, Objective) else str(o)
        if metric not in METRICS:
            raise ConfigError(f"unknown DRAM metric '{metric}'; allowed: {', '.join(METRICS)}")
        out.append(o if isinstance(o, Objective) else Objective(metric, "max" if metric in _MAXIMISED else "min"))
    return out


def make_dram_problem(trace="stream", memory: str = "DDR3-1600", n: int = 10_000, seed: int | None = None,
                      trace_clk_mhz: float = 800.0, objectives=DEFAULT_OBJECTIVES,
                      problem_id: str | None = None) -> Problem:
    """The controller design problem on ``trace`` and ``memory`` (see the module docstring)."""
    device = get_device(memory)  # fails first, with the allowed names, on an unknown memory
    model = DramModel(trace, device, trace_clk_mhz, n=n, seed=seed)
    if isinstance(trace, str) and trace in GENERATORS:
        name = trace
    elif isinstance(trace, (str, os.PathLike)):
        name = os.path.basename(os.fspath(trace))
    else:
        name = "dataframe"
    if problem_id is None:
        problem_id = f"dram-{trace}" if isinstance(trace, str) and trace in GENERATORS else "dram"
        if device.name != "DDR3-1600":
            problem_id += "-" + device.name.lower()
    return Problem(
        problem_id, make_space(), model, _objectives(objectives),
        workload=f"{name} ({model.n_requests} requests, {device.name})",
        description=(f"DRAMSys-style memory controller (10 knobs) on the {name} trace, "
                     f"{model.n_requests} 64-byte requests at {trace_clk_mhz:g} MHz, {device.name}"),
        info={"memory": device.name, "memspec": device.memspec, "trace": name,
              "n_requests": model.n_requests, "trace_clk_mhz": trace_clk_mhz, "metrics": list(METRICS)},
    )
