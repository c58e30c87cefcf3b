"""Dev check: ``simulate`` speed of this tree against a reference checkout, measured in the same run.

    python scripts/compare_accelerator_speed.py --reference /work/main [--rounds 5] [--designs 100000]

Runs benchmarks/bench_accelerator.py's timing (100,000 random designs x ResNet-18, best of 3 calls) in
fresh processes, alternating the reference checkout and this tree (PYTHONPATH=<tree>), ``--rounds``
times each, so both see the same machine load; prints the best wall and CPU (process) time of each and
their ratio. On a shared machine compare CPU times: wall time also counts other processes' turns.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

_TIME = """
import json, os, sys
sys.argv = ["bench"]
import importlib.util
spec = importlib.util.spec_from_file_location("bench", {bench!r})
bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench)
from dsegym.envs.accelerator import SPACE, WORKLOADS, simulate
import dsegym
assert os.path.dirname(dsegym.__file__).startswith({tree!r}), dsegym.__file__
layers = WORKLOADS["resnet18"]
designs = SPACE.sample_frame({n}, seed=0)
simulate(designs.head(100), layers)
wall, cpu, _ = bench.time_simulate(designs, layers, 3)
print(json.dumps({{"wall": wall, "cpu": cpu, "pairs": len(designs) * len(layers)}}))
"""


def main():
    """Alternate the two trees --rounds times; print the best times and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--designs", type=int, default=100_000)
    args = ap.parse_args()
    trees = {"reference": os.path.abspath(args.reference), "this": ROOT}
    best = {tag: {"wall": float("inf"), "cpu": float("inf")} for tag in trees}
    pairs = None
    for _ in range(args.rounds):
        for tag, tree in trees.items():
            code = _TIME.format(bench=os.path.join(tree, "benchmarks", "bench_accelerator.py"), tree=tree,
                                n=args.designs)
            env = {**os.environ, "PYTHONPATH": tree}
            out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            pairs = r["pairs"]
            for k in ("wall", "cpu"):
                best[tag][k] = min(best[tag][k], r[k])
    for tag in trees:
        b = best[tag]
        print(f"{tag:9s} ({trees[tag]}): best {b['wall'] * 1e3:.1f} ms wall ({pairs / b['wall']:.3g} layer-evals/s), "
              f"{b['cpu'] * 1e3:.1f} ms CPU ({pairs / b['cpu']:.3g}/s)")
    print(f"speed-up: {best['reference']['wall'] / best['this']['wall']:.2f}x wall, "
          f"{best['reference']['cpu'] / best['this']['cpu']:.2f}x CPU")


if __name__ == "__main__":
    main()
