"""The accelerator's per-layer dataset form: design parameters + layer shape -> per-layer metrics.

One row per (design, workload, layer). A layer is described by the GEMM the array runs
(``layer_m``, ``layer_n``, ``layer_k``), its unique input elements (``layer_ifmap_elems``) and its
``layer_repeat``; the metrics are that layer's ``latency_cycles``, ``latency_ms``, ``energy_uj`` and
``dram_bytes`` inside its network (layers run chained, as the problems run them, so a workload's
per-layer latencies sum to the problem's ``latency_cycles``). Predictors that learn from this form see
layer shapes, not workload names, so they can be asked about networks never seen in training.

The file is a trial dataset whose problem is ``accel-layers``; its provenance records ``form: layer``,
the workloads, and the problem options (node, number format, fidelity).

>>> frame, prov = collect_layer_frame(["resnet18"], 3, seed=0, progress=False)
>>> len(frame), prov["form"], int(frame["layer_m"].iloc[0]) > 0
(63, 'layer', True)
>>> import dsegym
>>> p = dsegym.make("accel-resnet18")
>>> d = frame[frame["design_id"] == 0][[c for c in frame if c.startswith("design.")]].iloc[:1]
>>> d.columns = [c[len("design."):] for c in d.columns]
>>> float(frame[frame["design_id"] == 0]["latency_cycles"].sum()) == float(p.evaluate(d)["latency_cycles"][0])
True
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..errors import ConfigError, UnknownIdError
from .samplers import sample_designs

LAYER_PROBLEM = "accel-layers"
LAYER_FEATURES = ("layer_m", "layer_n", "layer_k", "layer_ifmap_elems", "layer_repeat")
LAYER_METRICS = {"latency_cycles": "cycles", "latency_ms": "ms", "energy_uj": "uJ", "dram_bytes": "B"}


def _tables(workloads):
    from ..envs.accelerator.layers import layer_table
    from ..envs.accelerator.workloads import WORKLOADS
    if isinstance(workloads, str):
        workloads = [w for w in workloads.split(",") if w]
    if not workloads:
        raise ConfigError("name at least one workload for the per-layer form")
    out = {}
    for w in workloads:
        if w not in WORKLOADS:
            raise UnknownIdError("workload", w, WORKLOADS)
        out[w] = layer_table(WORKLOADS[w])
    return out


def layer_rows(designs, workload: str, table, fidelity: str = "physical", options: dict | None = None,
               chained: bool = True):
    """Per-layer rows of ``designs`` (a DataFrame of accelerator parameters) on one layer table.

    ``chained=False`` simulates every layer on its own (inputs from DRAM), as a single GEMM is."""
    import pandas as pd

    from ..envs.accelerator.simulator import simulate_arrays
    frame = designs.assign(**(options or {}))
    out, lt, info = simulate_arrays(frame, table, fidelity, chained)
    n, L = out["cycles"].shape
    cycles = out["cycles"].astype(np.float64)
    data = {f"design.{k}": np.repeat(designs[k].to_numpy(), L) for k in designs.columns}
    data.update({
        "design_id": np.repeat(np.arange(n), L), "workload": workload, "layer": np.tile(np.arange(L), n),
        "layer_m": np.tile(lt.M, n), "layer_n": np.tile(lt.N, n), "layer_k": np.tile(lt.K, n),
        "layer_ifmap_elems": np.tile(lt.ifmap_elems, n), "layer_repeat": np.tile(lt.repeat, n),
        "latency_cycles": cycles.reshape(-1),
        "latency_ms": (cycles / (info["clock_mhz"][:, None] * 1e3)).reshape(-1),
        "energy_uj": (out["energy_pj"].astype(np.float64) * 1e-6).reshape(-1),
        "dram_bytes": out["dram_bytes"].astype(np.float64).reshape(-1),
        "area_mm2": np.repeat(info["area_mm2"], L),
    })
    return pd.DataFrame(data)


def collect_layer_frame(workloads, n: int, sampler: str = "random", seed: int = 0, fidelity: str = "physical",
                        options: dict[str, Any] | None = None, progress: bool = True):
    """Sample ``n`` designs and simulate them on every layer of each workload; (frame, provenance)."""
    import pandas as pd
    from tqdm.auto import tqdm

    from ..envs.accelerator.space import make_space
    from ..results import dsegym_version
    from ..units import unit_of
    options = dict(options or {})
    allowed = {"tech_nm", "weight_bits", "act_bits"}
    if set(options) - allowed:
        raise ConfigError(f"per-layer options {sorted(set(options) - allowed)} are unknown; allowed: {sorted(allowed)}")
    tables = _tables(workloads)
    space = make_space()
    cols = sample_designs(space, n, sampler, seed)
    designs = pd.DataFrame(cols)
    parts = [layer_rows(designs, w, t, fidelity, options)
             for w, t in tqdm(tables.items(), desc="collect per-layer", disable=not progress)]
    frame = pd.concat(parts, ignore_index=True)
    score = np.log(frame["latency_ms"]) + np.log(frame["energy_uj"]) + np.log(frame["area_mm2"])
    frame.insert(0, "problem", LAYER_PROBLEM)
    frame.insert(1, "run_id", f"collect-layers-{sampler}-{int(seed)}")
    frame.insert(2, "agent", f"sampler:{sampler}")
    frame.insert(3, "hparams", json.dumps({"sampler": sampler}))
    frame.insert(4, "seed", int(seed))
    frame.insert(5, "trial_index", np.arange(len(frame), dtype=np.int64))
    frame["score"] = score.to_numpy()  # log(latency_ms * energy_uj * area_mm2) of the layer alone
    units = {**LAYER_METRICS, "area_mm2": "mm2"}
    units.update({f: "count" for f in LAYER_FEATURES})
    units = {k: v or unit_of(k) for k, v in units.items()}
    entry = {"version": "layers-v1", "versions": ["layers-v1"], "options": [json.dumps(options, sort_keys=True)],
             "fidelity": [fidelity], "units": units, "objectives": [], "samplers": [f"sampler:{sampler}"],
             "seeds": [int(seed)], "space_fingerprint": space.fingerprint(), "parameters": space.describe(),
             "workloads": list(tables)}
    prov = {"dsegym_version": dsegym_version(), "source": "dsegym collect (per-layer form)", "form": "layer",
            "sampler": sampler, "seed": int(seed), "n": int(n), "problem": LAYER_PROBLEM,
            "problems": {LAYER_PROBLEM: entry}, "runs": 1, "units": units, "workloads": list(tables),
            "options": options, "fidelity": fidelity}
    return frame, prov
