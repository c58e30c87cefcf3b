"""Speed of the DRAM controller model: requests/s, a 1e6-request trace, env steps, vs pure Python.

Run: ``.venv/bin/python benchmarks/bench_dram.py`` (add ``--designs 200`` to change the sample).

Figures printed:
- requests/s of the numba kernel on the four 10,000-request ArchGym traces, over sampled designs
  (cache bypassed, so every design is simulated);
- requests/s and peak resident memory on a 1e6-request trace (measured in a fresh subprocess);
- time per ``env.step`` of ``gymnasium.make("dsegym/dram-stream")``, new designs and cached ones;
- the same controller code run as plain Python (``NUMBA_DISABLE_JIT=1`` in a subprocess) on a small
  trace, measured in this run, and the speed-up of the compiled kernel over it.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def _rate(model, cfgs) -> tuple[float, float]:
    """(requests per second, seconds per design) running every configuration through the kernel."""
    model.run_one(cfgs[0])  # compile / load from numba's cache outside the timing
    t0 = time.perf_counter()
    for c in cfgs:
        model.run_one(c)
    dt = time.perf_counter() - t0
    return len(cfgs) * model.n_requests / dt, dt / len(cfgs)


def _designs(count: int) -> np.ndarray:
    """The default design plus seeded random ones, as kernel configuration vectors."""
    from dsegym.envs.dram.model import config_matrix
    from dsegym.envs.dram.space import make_space
    space = make_space()
    return config_matrix(space.to_frame([space.default()] + space.sample(count - 1, seed=0)))


def _child(kind: str, n: int, designs: int, take: int) -> dict:
    """Work done in a subprocess: the big trace (memory) or the pure-Python reference."""
    from dsegym.envs.dram.model import DramModel
    cfgs = _designs(designs)[:take]
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    model = DramModel("cloud1", n=n)
    build = time.perf_counter() - t0
    if kind == "big":
        rate, per = _rate(model, cfgs)
    else:  # pure Python: no warm-up needed, nothing compiles
        t0 = time.perf_counter()
        ends = [int(model.run_one(c)["stats"][0]) for c in cfgs]
        per = (time.perf_counter() - t0) / len(cfgs)
        rate = n / per
        return {"rate": rate, "per_design_s": per, "ends": ends}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {"rate": rate, "per_design_s": per, "build_s": build, "peak_rss_mb": peak_mb,
            "rss_before_mb": rss0 / 1024}


def _spawn(kind: str, n: int, designs: int, take: int, env: dict | None = None) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--n", str(n), "--designs", str(designs),
                          "--take", str(take)],
                         capture_output=True, text=True, check=True, env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the DRAM benchmark (or one of its child measurements) and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=100)
    ap.add_argument("--child", choices=["big", "python"])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--take", type=int, default=5)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.n, args.designs, args.take)))
        return

    import gymnasium as gym

    import dsegym  # noqa: F401  (registers the envs)
    from dsegym.envs.dram.model import DramModel, clear_cache

    cfgs = _designs(args.designs)
    print(f"DRAM controller benchmark ({args.designs} designs: the default + random samples), one core")
    print(f"{'trace':<10}{'requests':>10}{'Mreq/s':>10}{'ms/design':>11}")
    for name in ("stream", "random", "cloud1", "cloud2"):
        model = DramModel(name)
        rate, per = _rate(model, cfgs)
        print(f"{name:<10}{model.n_requests:>10,}{rate / 1e6:>10.2f}{per * 1e3:>11.2f}")

    big = _spawn("big", 1_000_000, args.designs, 5)
    print(f"{'cloud1':<10}{1_000_000:>10,}{big['rate'] / 1e6:>10.2f}{big['per_design_s'] * 1e3:>11.1f}"
          f"   (trace build + decode {big['build_s']:.2f} s; peak RSS of the whole process "
          f"{big['peak_rss_mb']:.0f} MB, {big['rss_before_mb']:.0f} MB before the trace)")

    env = gym.make("dsegym/dram-stream")
    env.reset(seed=0)
    clear_cache()
    actions = [env.action_space.sample() for _ in range(50)]
    env.step(actions[0])
    t0 = time.perf_counter()
    for a in actions[1:]:
        env.step(a)
    cold = (time.perf_counter() - t0) / (len(actions) - 1)
    t0 = time.perf_counter()
    for a in actions[1:]:
        env.step(a)
    warm = (time.perf_counter() - t0) / (len(actions) - 1)
    print(f"env.step on dsegym/dram-stream: {cold * 1e3:.2f} ms (new designs), {warm * 1e3:.3f} ms (cached)")
    from dsegym.envs.dram.model import CACHE
    print(f"results cache: {len(CACHE):,} entries, {CACHE.nbytes / 1e6:.2f} MB "
          f"(bounds {CACHE.max_entries:,} entries, {CACHE.max_bytes / 1e6:.0f} MB)")

    import pandas as pd
    def two_reads(gap):  # the second read 2**62 cycles after the first: refreshes while idle in closed form
        tr = pd.DataFrame({"cycle": [0, gap], "is_write": False, "address": [0, 64]})
        m = DramModel(tr)
        m.run_one(cfgs[0])
        t0 = time.perf_counter()
        for c in cfgs[:20]:
            m.run_one(c)
        return (time.perf_counter() - t0) / 20
    near, far = two_reads(1), two_reads(1 << 62)
    print(f"two reads 2**62 cycles apart: {far * 1e6:.1f} us/design vs {near * 1e6:.1f} us/design adjacent "
          f"({far / near:.1f}x)")

    n_ref, d_ref = 2_000, 3
    ref = _spawn("python", n_ref, args.designs, d_ref, env={"NUMBA_DISABLE_JIT": "1"})
    model = DramModel("cloud1", n=n_ref)
    fast_rate, _ = _rate(model, cfgs[:d_ref])
    same = [int(model.run_one(c)["stats"][0]) for c in cfgs[:d_ref]] == ref["ends"]
    print(f"reference: the same controller as plain Python (NUMBA_DISABLE_JIT=1), {n_ref:,} requests: "
          f"{ref['rate']:,.0f} req/s; numba {fast_rate:,.0f} req/s -> {fast_rate / ref['rate']:,.0f}x "
          f"(identical results: {same})")


if __name__ == "__main__":
    main()
