"""Dev check: this tree's accelerator ``simulate`` gives the same results as a reference checkout's.

    python scripts/check_accelerator_identity.py --reference /work/main [--designs 20000] [--offgrid 5000]

Runs ``simulate`` from the reference checkout and from this tree, each in its own process
(PYTHONPATH=<tree>), on the same designs: random designs from the accelerator space plus off-grid ones
(tech_nm, bit widths, dram_bw_gbps given directly, off-grid buffer sizes, clocks and channel counts,
per-PE scratchpads), on every zoo workload, both fidelities, chained and not. Every column must have
the same dtype and the same values (floats compared bit for bit); a difference is printed with its
size in float32 ulps. For performance work on the simulator (results must not change); it is not a
test (the suite does not compare the code with a copy of itself).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

_RUN = """
import sys, pandas as pd
from dsegym.envs.accelerator import WORKLOADS, simulate
designs = pd.read_parquet(sys.argv[1])
for name in WORKLOADS:
    for fidelity in ("physical", "scalesim"):
        for chained in (True, False):
            df = simulate(designs, name, fidelity=fidelity, chained=chained)
            df.to_parquet(f"{sys.argv[2]}/{name}-{fidelity}-{chained}.parquet")
"""


def make_designs(n_space: int, n_offgrid: int, seed: int) -> pd.DataFrame:
    """Random designs from the space (problem options at their defaults) followed by off-grid ones."""
    sys.path.insert(0, ROOT)
    from dsegym.envs.accelerator import SPACE
    from dsegym.envs.accelerator.constants import DRAM_TYPES
    from dsegym.envs.accelerator.space import DATAFLOWS

    grid = SPACE.sample_frame(n_space, seed=seed)
    grid = grid.assign(tech_nm=28.0, weight_bits=8.0, act_bits=8.0, dram_bw_gbps=np.nan, pe_scratchpad_bytes=0.0)
    rng = np.random.default_rng(seed + 1)
    k = n_offgrid
    off = pd.DataFrame({
        "rows": rng.integers(4, 257, k), "cols": rng.integers(4, 257, k),
        "dataflow": rng.choice(DATAFLOWS, k),
        "clock_mhz": rng.uniform(100.0, 2500.0, k),
        "ifmap_sram_kb": np.exp(rng.uniform(np.log(1.0), np.log(4096.0), k)),
        "filter_sram_kb": np.exp(rng.uniform(np.log(1.0), np.log(4096.0), k)),
        "ofmap_sram_kb": np.exp(rng.uniform(np.log(1.0), np.log(4096.0), k)),
        "dram_type": rng.choice(DRAM_TYPES, k),
        "dram_channels": rng.choice([1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 1.5, 2.5], k),
        "tech_nm": rng.uniform(7.0, 65.0, k),
        "weight_bits": rng.integers(1, 33, k).astype(np.float64),
        "act_bits": rng.integers(1, 33, k).astype(np.float64),
        # bandwidth given directly for half of them (overrides the channels)
        "dram_bw_gbps": np.where(rng.random(k) < 0.5, rng.uniform(1.0, 2000.0, k), np.nan),
        "pe_scratchpad_bytes": np.where(rng.random(k) < 0.3, rng.integers(1, 1024, k), 0).astype(np.float64),
    })
    grid = grid.astype({c: np.float64 for c in grid.columns if c not in ("dataflow", "dram_type")})
    off = off.astype({c: np.float64 for c in off.columns if c not in ("dataflow", "dram_type")})
    return pd.concat([grid, off[grid.columns]], ignore_index=True)


def compare(a: pd.DataFrame, b: pd.DataFrame, label: str) -> int:
    """Print every column of ``b`` that differs from ``a`` (dtype, or values bit for bit); their count."""
    bad = 0
    if list(a.columns) != list(b.columns):
        print(f"{label}: columns differ: {list(a.columns)} vs {list(b.columns)}")
        return 1
    for col in a.columns:
        x, y = a[col], b[col]
        if x.dtype != y.dtype:
            print(f"{label}: {col}: dtype {x.dtype} vs {y.dtype}")
            bad += 1
            continue
        if isinstance(x.dtype, pd.CategoricalDtype):
            same = list(x.cat.categories) == list(y.cat.categories) and np.array_equal(x.cat.codes, y.cat.codes)
            diff = None
        else:
            xv, yv = x.to_numpy(), y.to_numpy()
            if xv.dtype.kind == "f":  # bit for bit (NaN equal to NaN of the same bits)
                ints = xv.view(np.int32 if xv.dtype == np.float32 else np.int64), yv.view(
                    np.int32 if yv.dtype == np.float32 else np.int64)
                ne = ints[0] != ints[1]
                diff = np.abs(ints[0][ne].astype(np.int64) - ints[1][ne]) if ne.any() else None
            else:
                ne = xv != yv
                diff = None
            same = not ne.any()
            if not same:
                rows = np.flatnonzero(ne)
                extra = f", max {int(diff.max())} ulp" if diff is not None else ""
                print(f"{label}: {col}: {len(rows)} of {len(xv)} rows differ{extra}; first: row {rows[0]} "
                      f"{xv[rows[0]]!r} vs {yv[rows[0]]!r}")
        if not same:
            bad += 1
    return bad


def main():
    """Simulate with both trees, compare every output file, exit 1 on any difference."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", required=True, help="the reference checkout's root (e.g. /work/main)")
    ap.add_argument("--designs", type=int, default=20_000, help="random designs from the accelerator space")
    ap.add_argument("--offgrid", type=int, default=5_000, help="off-grid designs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="accel-identity-") as tmp:
        designs = make_designs(args.designs, args.offgrid, args.seed)
        path = os.path.join(tmp, "designs.parquet")
        designs.to_parquet(path)
        outs = {}
        for tag, tree in (("reference", os.path.abspath(args.reference)), ("this", ROOT)):
            out = os.path.join(tmp, tag)
            os.makedirs(out)
            env = {**os.environ, "PYTHONPATH": tree}
            subprocess.run([python, "-c", _RUN, path, out], env=env, check=True)
            outs[tag] = out
        files = sorted(os.listdir(outs["reference"]))
        bad = rows = 0
        for name in files:
            a = pd.read_parquet(os.path.join(outs["reference"], name))
            b = pd.read_parquet(os.path.join(outs["this"], name))
            rows += len(a)
            bad += compare(a, b, name.removesuffix(".parquet"))
        print(f"{len(designs):,} designs ({args.designs:,} from the space, {args.offgrid:,} off-grid), "
              f"{len(files)} (workload, fidelity, chained) runs, {rows:,} rows: "
              f"{'IDENTICAL' if bad == 0 else f'{bad} column differences'}")
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
