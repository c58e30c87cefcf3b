"""A systolic DNN-accelerator simulator family: SCALE-Sim-exact compute, a physical memory/energy
model, a workload zoo and one search problem per workload.

>>> from dsegym.envs.accelerator import simulate, WORKLOADS
>>> r = simulate({"rows": 16, "cols": 16}, WORKLOADS["resnet18"])
>>> len(r), bool((r["utilization"] <= 1).all())
(21, True)

Names are imported on first use, so ``import dsegym`` (which reads only ``registration``) stays fast.
"""
from __future__ import annotations

from ..._lazy import lazy_exports

_EXPORTS = {
    "simulate": "simulator", "simulate_arrays": "simulator", "FIDELITIES": "simulator",
    "Conv": "layers", "Gemm": "layers", "load_topology_csv": "layers", "layer_table": "layers",
    "WORKLOADS": "workloads", "make_space": "space", "SPACE": "space",
    "make_accel_problem": "problems",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__():
    return sorted(list(globals()) + __all__)
