"""Speed of the accelerator simulator: layer evaluations per second, against SCALE-Sim, and peak memory.

    python benchmarks/bench_accelerator.py [--designs 100000] [--repeats 5] [--scalesim-layers 3]

Times ``simulate`` (validation, model and DataFrame assembly included) on a batch of random designs
from the accelerator space x ResNet-18 (21 layers), single-threaded, best of ``--repeats`` runs, in
wall-clock and CPU time. Then times the real SCALE-Sim v3 on a few ResNet-18 layers (if the
throw-away venv /tmp/scalesim-venv exists, see scripts/make_scalesim_fixture.py; otherwise it uses
the documented figure: about 190 s for an 11-layer ResNet-like net on a 32x32
array, i.e. 17 s per layer) and checks that ``fidelity="scalesim"`` reproduces its counts. Peak memory
is the process's maximum resident set size plus tracemalloc's peak for one call.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread, before numpy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from dsegym.envs.accelerator import SPACE, WORKLOADS, simulate  # noqa: E402

SCALESIM_PYTHON = "/tmp/scalesim-venv/bin/python"
DOCUMENTED_SCALESIM_S_PER_LAYER = 190.0 / 11  # measured for this project with scalesim 3.0.0: ResNet-like net, 32x32 array
TARGET_RATE = 2e7
TARGET_SPEEDUP = 1e6
TARGET_PEAK_GB = 2.0

_DRIVER = """
import json, sys
sys.path.insert(0, {scripts!r})
from make_scalesim_fixture import run_case
cases = json.loads(sys.argv[1])
print(json.dumps([run_case(tuple(c)) for c in cases]))
"""


def time_simulate(designs, layers, repeats: int):
    """Best wall and CPU seconds of ``repeats`` calls of ``simulate``, and the median wall time."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        result = simulate(designs, layers)
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - w)
        del result
    return min(walls), min(cpus), float(np.median(walls))


def scalesim_layers(k: int):
    """The k cheapest-to-simulate conv layers of ResNet-18 (SCALE-Sim's run time grows with the layer)."""
    convs = [lay for lay in WORKLOADS["resnet18"] if hasattr(lay, "fh")]
    return sorted(convs, key=lambda lay: lay.macs)[:k]


def run_scalesim(layers, rows=32, cols=32, dataflow="ws"):
    """Run the real SCALE-Sim on ``layers`` in its throw-away venv: its counts per layer and the wall time."""
    cases = [[i, lay.name, "conv", [lay.h, lay.w, lay.fh, lay.fw, lay.c, lay.k, lay.stride], rows, cols, dataflow]
             for i, lay in enumerate(layers)]
    driver = _DRIVER.format(scripts=os.path.join(ROOT, "scripts"))
    t0 = time.perf_counter()
    proc = subprocess.run([SCALESIM_PYTHON, "-c", driver, json.dumps(cases)], capture_output=True, text=True,
                          check=True)
    wall = time.perf_counter() - t0
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def main():
    """Time simulate, compare with SCALE-Sim, measure peak memory and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scalesim-layers", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()

    layers = WORKLOADS["resnet18"]
    designs = SPACE.sample_frame(args.designs, seed=0)
    simulate(designs.head(100), layers)  # warm up imports and caches
    pairs = len(designs) * len(layers)
    best_wall, best_cpu, median_wall = time_simulate(designs, layers, args.repeats)
    rate = pairs / best_wall
    print(f"simulate: {len(designs):,} designs x ResNet-18 ({len(layers)} layers) = {pairs:,} layer evaluations")
    print(f"  best {best_wall * 1e3:.1f} ms wall ({best_cpu * 1e3:.1f} ms CPU), median {median_wall * 1e3:.1f} ms "
          f"-> {rate:.3g} layer-evaluations/s (CPU time: {pairs / best_cpu:.3g}/s; target >= {TARGET_RATE:.0e})")

    tracemalloc.start()
    simulate(designs, layers)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # KB on Linux
    print(f"  peak memory: {traced_peak / 1e9:.3f} GB traced in one call, {maxrss_gb:.3f} GB max RSS "
          f"(target < {TARGET_PEAK_GB} GB)")

    sim_layers = scalesim_layers(args.scalesim_layers)
    per_eval = best_wall / pairs
    if os.path.exists(SCALESIM_PYTHON) and sim_layers:
        rows, wall = run_scalesim(sim_layers)
        s_per_layer = sum(r["scalesim_seconds"] for r in rows) / len(rows)
        ours = simulate({"rows": 32, "cols": 32, "dataflow": "ws"}, sim_layers, fidelity="scalesim")
        same = all(int(ours[c].iloc[i]) == r[c] for i, r in enumerate(rows)
                   for c in ("compute_cycles", "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes"))
        source = (f"measured: SCALE-Sim v3 on {len(rows)} ResNet-18 layers ({', '.join(r['name'] for r in rows)}), "
                  f"32x32 ws, {s_per_layer:.2f} s per layer ({wall:.1f} s with start-up); "
                  f"dsegym scalesim-fidelity counts identical: {same}")
    else:
        s_per_layer = DOCUMENTED_SCALESIM_S_PER_LAYER
        same = None
        source = (f"documented (no {SCALESIM_PYTHON}): about 190 s per 11-layer ResNet-like net on a 32x32 array, "
                  f"{s_per_layer:.1f} s per layer, measured earlier with scalesim 3.0.0)")
    speedup = s_per_layer / per_eval
    print(f"SCALE-Sim: {source}")
    print(f"  speed-up per layer evaluation: {speedup:.3g}x (target >= {TARGET_SPEEDUP:.0e}); note SCALE-Sim's "
          "time per layer grows with the layer, and these are ResNet-18's smallest convs")
    # The run is single-threaded, so CPU time is its cost; wall time also counts time the OS gave other
    # processes (on a shared 2-core machine that can add 30%+). Both are printed; the rate target is
    # judged on the better of the two.
    best_rate = max(rate, pairs / best_cpu)
    ok = best_rate >= TARGET_RATE and speedup >= TARGET_SPEEDUP and max(traced_peak / 1e9, maxrss_gb) < TARGET_PEAK_GB
    print(f"targets met: {ok} (rate {best_rate:.3g}/s, speed-up {speedup:.3g}x, peak {maxrss_gb:.2f} GB)")
    if args.json:
        print(json.dumps({"designs": len(designs), "layers": len(layers), "best_wall_s": best_wall,
                          "best_cpu_s": best_cpu, "median_wall_s": median_wall, "layer_evals_per_s": rate,
                          "layer_evals_per_cpu_s": pairs / best_cpu, "traced_peak_gb": traced_peak / 1e9,
                          "max_rss_gb": maxrss_gb, "scalesim_s_per_layer": s_per_layer,
                          "scalesim_counts_identical": same, "speedup": speedup}))


if __name__ == "__main__":
    main()
