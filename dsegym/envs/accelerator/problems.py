"""Search problems over the accelerator space: one per zoo workload, one over several, and custom ones.

A problem's simulator runs ``simulate`` on the whole batch and sums over the workload's layers
(layers run one after another). For several workloads (``accel-multi``) latency, energy and DRAM
traffic are summed too: the cost of serving one inference of each workload in turn; each workload's
own latency is also reported as ``<workload>_latency_cycles``.

The technology node (``tech_nm``) and the number format (``weight_bits``, ``act_bits``) are options of
the problem, not searched knobs (see ``space``); ``accel-multi`` with a workload listed twice runs it
twice (both inferences are summed; the second is reported as ``<workload>#2_latency_cycles``).

The latency objective is ``latency_ms`` (wall time), not ``latency_cycles``: ``clock_mhz`` is a
parameter, and in cycles a slower clock makes DRAM look faster, so a cycle objective would reward
the slowest clock. ``latency_cycles`` is still reported.

>>> p = make_accel_problem("resnet18")
>>> r = p.evaluate([p.space.default()])
>>> list(r.columns[:3]), bool(r["utilization"].iloc[0] <= 1)
(['latency_cycles', 'energy_uj', 'area_mm2'], True)
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ...errors import ConfigError, UnknownIdError
from ...problem import Objective, Problem
from .constants import TECH_NODES_NM
from .layers import LayerTable, layer_table, load_topology_csv
from .simulator import FIDELITIES, simulate_arrays
from .space import make_space
from .workloads import DESCRIPTIONS, WORKLOADS

MULTI_WORKLOADS = ("resnet18", "bert_base", "gpt2_decode")
OBJECTIVES = ("latency_ms", "energy_uj", "area_mm2")
PRECISIONS = (4, 8, 16)
DEFAULT_TECH_NM = 28


def problem_id(workload: str) -> str:
    """``accel-<workload>`` with hyphens: ``gpt2_decode`` -> ``accel-gpt2-decode``."""
    return "accel-" + workload.replace("_", "-")


def aggregate(frame, tables: dict[str, LayerTable], fidelity: str = "physical", options: dict | None = None):
    """Per-design metrics of running every workload in ``tables`` once, one row per design.

    ``options`` (e.g. tech_nm, weight_bits, act_bits) are added to every design as parameter columns.
    """
    import pandas as pd

    if options:
        frame = (frame.assign(**options) if hasattr(frame, "assign")
                 else [{**d, **options} for d in ([frame] if isinstance(frame, dict) else frame)])
    n = len(frame)
    cycles = np.zeros(n)
    energy = {k: np.zeros(n) for k in ("energy_pj", "energy_mac_pj", "energy_sram_pj", "energy_dram_pj",
                                        "energy_static_pj")}
    dram = np.zeros(n)
    macs = 0.0
    per_workload = {}
    info = None
    for name, lt in tables.items():
        out, _, info = simulate_arrays(frame, lt, fidelity)
        c = out["cycles"].sum(axis=1, dtype=np.float64)
        per_workload[f"{name}_latency_cycles"] = c
        cycles += c
        for k in energy:
            energy[k] += out[k].sum(axis=1, dtype=np.float64)
        dram += out["dram_bytes"].sum(axis=1, dtype=np.float64)
        macs += float(lt.macs.sum())
    latency_ms = cycles / (info["clock_mhz"] * 1e3)  # cycles / (MHz * 1e6) s, in ms
    energy_uj = energy["energy_pj"] * 1e-6
    data = {
        "latency_cycles": cycles,
        "energy_uj": energy_uj,
        "area_mm2": info["area_mm2"],
        "latency_ms": latency_ms,
        "edp_uj_ms": energy_uj * latency_ms,
        "avg_power_w": energy_uj / latency_ms * 1e-3,  # uJ / ms = mW
        "utilization": macs / (cycles * info["pes"]),
        "dram_bytes": dram,
        "area_pe_mm2": info["area_pe_mm2"], "area_sram_mm2": info["area_sram_mm2"],
        "area_phy_mm2": info["area_phy_mm2"],
        "vdd_v": info["vdd"], "dram_bw_gbps": info["bw_gbps"],
    }
    for k in ("energy_mac_pj", "energy_sram_pj", "energy_dram_pj", "energy_static_pj"):
        data[k.replace("_pj", "_uj")] = energy[k] * 1e-6
    if len(tables) > 1:
        data.update(per_workload)
    return pd.DataFrame(data)


def _tables(workload, layers, topology) -> tuple[str, dict[str, LayerTable]]:
    if layers is not None and topology is not None:
        raise ConfigError("pass either layers or topology, not both")
    if topology is not None:
        if not isinstance(topology, (str, os.PathLike)):
            raise ConfigError(f"topology must be a path to a SCALE-Sim topology CSV, got {topology!r}")
        stem = os.path.splitext(os.path.basename(os.fspath(topology)))[0] or "custom"
        return stem, {stem: layer_table(load_topology_csv(topology))}
    if layers is not None:
        return "custom", {"custom": layer_table(layers)}
    if isinstance(workload, str):
        names = [workload]
    elif isinstance(workload, (list, tuple)) and all(isinstance(w, str) for w in workload):
        names = list(workload)
    else:
        raise ConfigError(f"workload must be a zoo workload name or a list of them, got {workload!r}; "
                          f"allowed: {', '.join(sorted(WORKLOADS))}")
    if not names:
        raise ConfigError("workload must name at least one zoo workload")
    for w in names:
        if w not in WORKLOADS:
            raise UnknownIdError("workload", w, WORKLOADS)
    tables: dict[str, LayerTable] = {}
    for w in names:  # a workload listed twice runs twice: keys 'resnet18', 'resnet18#2', ...
        key, k = w, 1
        while key in tables:
            k += 1
            key = f"{w}#{k}"
        tables[key] = layer_table(WORKLOADS[w])
    return "+".join(names), tables


def _check_option(name: str, value, allowed) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, allowed))}, got {value!r}")
    return int(value)


def make_accel_problem(workload: str | Sequence[str] = "resnet18", layers=None, topology=None,
                       fidelity: str = "physical", id: str | None = None, tech_nm: int = DEFAULT_TECH_NM,
                       weight_bits: int = 8, act_bits: int = 8) -> Problem:
    """An accelerator problem: minimise latency_ms, energy_uj and area_mm2 on a workload.

    ``workload``: a zoo name (``resnet18``, ``gpt2_decode``, ...) or a list of them (metrics summed).
    ``layers`` (Conv/Gemm list or DataFrame) or ``topology`` (a SCALE-Sim CSV path) replace it.
    ``fidelity``: ``"physical"`` or ``"scalesim"`` (SCALE-Sim's stall-free cycles).
    ``tech_nm`` (65, 45, 40, 32, 28, 22, 16, 12 or 7), ``weight_bits`` and ``act_bits`` (4, 8 or 16): the
    fab's node and the workload's number format, fixed for the whole search.

    >>> make_accel_problem(["resnet18", "gpt2_decode"]).id
    'accel-resnet18+gpt2-decode'
    """
    if not isinstance(fidelity, str) or fidelity not in FIDELITIES:
        raise ConfigError(f"unknown fidelity {fidelity!r}; allowed: {', '.join(FIDELITIES)}")
    if id is not None and not isinstance(id, str):
        raise ConfigError(f"id must be a string, got {id!r}")
    options = {"tech_nm": _check_option("tech_nm", tech_nm, sorted(TECH_NODES_NM)),
               "weight_bits": _check_option("weight_bits", weight_bits, PRECISIONS),
               "act_bits": _check_option("act_bits", act_bits, PRECISIONS)}
    name, tables = _tables(workload, layers, topology)
    pid = id or problem_id(name)
    desc = (DESCRIPTIONS.get(name) or (f"{len(tables)} workloads run in turn: {name}" if len(tables) > 1
                                       else f"custom workload '{name}'"))
    n_layers = sum(len(t) for t in tables.values())
    macs = sum(float(t.macs.sum()) for t in tables.values())

    def simulate_batch(frame):
        return aggregate(frame, tables, fidelity, options)

    return Problem(pid, make_space(), simulate_batch, [Objective(m, "min") for m in OBJECTIVES],
                   workload=name, description=f"systolic accelerator on {desc} ({fidelity} fidelity)",
                   info={"fidelity": fidelity, "layers": n_layers, "macs": macs, "workloads": list(tables),
                         **options})
