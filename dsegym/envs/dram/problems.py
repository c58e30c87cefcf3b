"""Built-in DRAM problems: two families over the DRAMSys controller knobs.

- ``dram-<trace>`` (default): six knobs (``space.SEARCHED``; response ordering, arbiter,
  RefreshPolicy and RefreshMaxPulledin fixed, see ``space.FIXED``; ``knobs=`` searches others), objectives DRAM energy, per-request latency and the
  controller's own cost (``ctrl_area_mm2``: request buffers, transaction tracking and match logic,
  see :mod:`~dsegym.envs.dram.cost`), so every knob trades one objective against another.
- ``archgym-dram-<trace>``: ArchGym's setup as published, for comparison with the ArchGym and
  multi-agent papers: all ten knobs (NoRefresh included, as a what-if), and ArchGym's three
  DRAMSys outputs as objectives: energy, average power and latency, which in ArchGym is total
  simulated time (named ``total_time_us`` here).

ArchGym's traces: 10,000 64-byte reads issued one per cycle at 800 MHz to a DDR3-1600 channel.
``dsegym.make("dram", trace=...)`` takes any trace (DataFrame, ``.stl``/Ramulator file or generator
name) and any device in :data:`~dsegym.envs.dram.devices.DEVICES`.

>>> p = make_dram_problem("stream", n=512)
>>> p.id, [o.metric for o in p.objectives], len(p.space.names)
('dram-stream', ['energy_uj', 'avg_latency_ns', 'ctrl_area_mm2'], 6)
>>> q = make_archgym_problem("stream", n=512)
>>> q.id, [o.metric for o in q.objectives], len(q.space.names)
('archgym-dram-stream', ['energy_uj', 'avg_power_w', 'total_time_us'], 10)
"""
from __future__ import annotations

import os

from dsegym.errors import ConfigError
from dsegym.problem import Objective, Problem

from .devices import get_device
from .model import METRICS, DramModel
from .space import DEFAULT, FIXED, NAMES, SEARCHED, make_space
from .traces import GENERATORS

DEFAULT_OBJECTIVES = ("energy_uj", "avg_latency_ns", "ctrl_area_mm2")
ARCHGYM_OBJECTIVES = ("energy_uj", "avg_power_w", "total_time_us")
_MAXIMISED = ("bandwidth_gbps", "row_hit_rate")


def _objectives(objectives) -> list[Objective]:
    if isinstance(objectives, (str, Objective)):
        objectives = [objectives]
    try:
        objectives = list(objectives)
    except TypeError:
        raise ConfigError(f"objectives must be a list of DRAM metric names; got {objectives!r}") from None
    if not objectives:
        raise ConfigError(f"objectives must name at least one DRAM metric: {', '.join(METRICS)}")
    out = []
    for o in objectives:
        metric = o.metric if isinstance(o, Objective) else o
        if not isinstance(metric, str) or metric not in METRICS:
            raise ConfigError(f"unknown DRAM metric {metric!r}; allowed: {', '.join(METRICS)}")
        out.append(o if isinstance(o, Objective) else Objective(metric, "max" if metric in _MAXIMISED else "min"))
    if len({o.metric for o in out}) != len(out):
        raise ConfigError(f"objectives name a metric twice: {[o.metric for o in out]}")
    return out


def _trace_name(trace) -> str:
    if isinstance(trace, str) and trace in GENERATORS:
        return trace
    if isinstance(trace, (str, os.PathLike)):
        return os.path.basename(os.fspath(trace))
    return "dataframe"


def _build(prefix, knobs, fixed, trace, memory, n, seed, trace_clk_mhz, objectives, problem_id, what):
    if problem_id is not None and not (isinstance(problem_id, str) and problem_id):
        raise ConfigError(f"problem_id must be a non-empty string; got {problem_id!r}")
    device = get_device(memory)  # fails first, with the allowed names, on an unknown memory
    objs = _objectives(objectives)
    model = DramModel(trace, device, trace_clk_mhz, n=n, seed=seed, fixed=fixed)
    name = _trace_name(trace)
    if problem_id is None:
        problem_id = f"{prefix}-{trace}" if isinstance(trace, str) and trace in GENERATORS else prefix
        if device.name != "DDR3-1600":
            problem_id += "-" + device.name.lower()
    fixed_text = ", ".join(f"{k}={v}" for k, v in fixed.items() if k not in knobs)
    return Problem(
        problem_id, make_space(knobs), model, objs,
        workload=f"{name} ({model.n_requests} requests, {device.name})",
        description=(f"{what} on the {name} trace, {model.n_requests} 64-byte requests at "
                     f"{model.trace_clk_mhz:g} MHz, {device.name}" + (f"; fixed {fixed_text}" if fixed_text else "")),
        info={"memory": device.name, "memspec": device.memspec, "trace": name, "n_requests": model.n_requests,
              "trace_clk_mhz": model.trace_clk_mhz, "metrics": list(METRICS),
              "fixed": {k: v for k, v in fixed.items() if k not in knobs}},
    )


def make_dram_problem(trace="stream", memory: str = "DDR3-1600", n: int = 10_000, seed: int | None = None,
                      trace_clk_mhz: float = 800.0, objectives=DEFAULT_OBJECTIVES,
                      problem_id: str | None = None, knobs=SEARCHED) -> Problem:
    """The default controller problem: six knobs, energy vs latency vs controller area.

    ``knobs`` lists the searched knobs (names from ``space.NAMES``); the others keep the values of
    ``space.FIXED`` (then DRAMSys' example controller, ``space.DEFAULT``).
    """
    if isinstance(knobs, str) or not all(isinstance(k, str) for k in knobs) or not knobs:
        raise ConfigError(f"knobs must be a non-empty list of DRAM knob names from {', '.join(NAMES)}; got {knobs!r}")
    bad = [k for k in knobs if k not in NAMES]
    if bad:
        raise ConfigError(f"unknown DRAM knobs {bad}; knobs: {', '.join(NAMES)}")
    knobs = tuple(k for k in NAMES if k in knobs)
    return _build("dram", knobs, {**DEFAULT, **FIXED}, trace, memory, n, seed, trace_clk_mhz, objectives,
                  problem_id, f"DRAMSys-style memory controller ({len(knobs)} knobs, controller cost counted)")


def make_archgym_problem(trace="stream", memory: str = "DDR3-1600", n: int = 10_000, seed: int | None = None,
                         trace_clk_mhz: float = 800.0, objectives=ARCHGYM_OBJECTIVES,
                         problem_id: str | None = None) -> Problem:
    """ArchGym's DRAMSys problem: its ten knobs and its energy / power / latency (total time) outputs."""
    return _build("archgym-dram", NAMES, dict(DEFAULT), trace, memory, n, seed, trace_clk_mhz, objectives,
                  problem_id, "ArchGym's DRAMSys controller space (10 knobs)")
