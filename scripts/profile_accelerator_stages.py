"""Dev check: CPU time of each stage of the accelerator ``simulate`` (best of ``--repeats``).

    PYTHONPATH=$PWD python scripts/profile_accelerator_stages.py [--designs 100000] [--repeats 7]

Stages, on random designs from the space x ResNet-18: design_columns (validation), design_physics,
design_inputs, evaluate (the numba kernel, with allocating its outputs), and the DataFrame assembly
(simulate minus simulate_arrays). CPU (process) time, so other processes' turns do not count.
"""
from __future__ import annotations

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"


def _best(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    return best * 1e3, out


def main():
    """Print each stage's best CPU time in ms."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    from dsegym.envs.accelerator import SPACE, WORKLOADS, simulate
    from dsegym.envs.accelerator.designs import design_columns
    from dsegym.envs.accelerator.layers import layer_table
    from dsegym.envs.accelerator.model import evaluate, unique_layers
    from dsegym.envs.accelerator.physics import design_inputs, design_physics
    from dsegym.envs.accelerator.simulator import simulate_arrays

    layers = WORKLOADS["resnet18"]
    designs = SPACE.sample_frame(args.designs, seed=0)
    simulate(designs.head(100), layers)  # compile / load the kernels
    r = args.repeats
    t_cols, (cols, _) = _best(lambda: design_columns(designs), r)
    t_phys, phys = _best(lambda: design_physics(cols), r)
    t_inp, d = _best(lambda: design_inputs(cols, phys), r)
    lt = layer_table(layers)
    lay, shape_of = unique_layers(lt.M, lt.N, lt.K, lt.ifmap_elems)
    t_kernel, _ = _best(lambda: evaluate(lay, shape_of, lt.repeat, d, True, True), r)
    t_arrays, _ = _best(lambda: simulate_arrays(designs, layers), r)
    t_all, _ = _best(lambda: simulate(designs, layers), r)
    print(f"{len(designs):,} designs x ResNet-18, CPU ms (best of {r}): design_columns {t_cols:.1f}, "
          f"design_physics {t_phys:.1f}, design_inputs {t_inp:.1f}, evaluate {t_kernel:.1f}, "
          f"DataFrame {max(t_all - t_arrays, 0.0):.1f}; simulate_arrays {t_arrays:.1f}, simulate {t_all:.1f}")


if __name__ == "__main__":
    main()
