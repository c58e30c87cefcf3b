"""Runner figures: overhead per trial (in-process, local pool, Ray), 2-worker speed-up on ~0.2 s trials,
and a kill -9 / resume run with row counts and the equality check.

Every figure is a ratio or a difference against a reference measured in the same run (the bare
ask/evaluate/tell loop, ``dsegym.agents.run_search``, which stores nothing).

    python benchmarks/bench_runner.py            # about 2-4 minutes on 2 cores
    python benchmarks/bench_runner.py --quick    # smaller budgets
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import dsegym
from dsegym.agents import make as make_agent
from dsegym.agents import run_search
from dsegym.results import RunSpec, load
from dsegym.runner import build_problem, run_experiment


def bare_loop(specs) -> float:
    """Seconds for the plain ask/evaluate/tell loops of ``specs`` (no store, no scheduling)."""
    t0 = time.perf_counter()
    for s in specs:
        with make_agent(s.agent, build_problem(s), seed=s.seed, **s.hparams) as agent:
            run_search(agent, budget=s.budget, batch_size=s.batch_size)
    return time.perf_counter() - t0


def overhead(quick: bool) -> None:
    """The runner's overhead per trial against a bare ask/tell loop, at batch sizes 1 and 10."""
    budget = 500 if quick else 2000
    print("== runner overhead per trial (toy-accel, random agent: the simulator costs ~0.1 ms a batch)")
    for batch in (1, 10):
        specs = [RunSpec("toy-accel", "random", seed=s, budget=budget, batch_size=batch) for s in range(2)]
        bare_loop(specs[:1])  # warm imports and caches
        ref = bare_loop(specs)
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            run_experiment(specs, d, workers=1, progress=False)
            t = time.perf_counter() - t0
        n = sum(s.budget for s in specs)
        print(f"in-process store path, batch {batch:>2}: {1000 * (t - ref) / n:.3f} ms/trial over the bare loop "
              f"({1000 * ref / n:.3f} ms/trial bare, {1000 * t / n:.3f} ms/trial with the store; target <= 1 ms)")
    specs = [RunSpec("toy-accel", "random", seed=s, budget=budget, batch_size=10) for s in range(4)]
    ref = bare_loop(specs)
    n = sum(s.budget for s in specs)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        run_experiment(specs, d, workers=2, progress=False)
        t = time.perf_counter() - t0
    print(f"local pool (2 workers, 4 runs, batch 10): {t:.2f} s vs {ref:.2f} s bare and sequential; "
          f"{1000 * (t - ref / 2) / n:.3f} ms/trial over an ideal 2-way split (includes starting the workers)")
    from dsegym.runner import init_ray
    t0 = time.perf_counter()
    ray = init_ray("local", num_cpus=2)
    t_init = time.perf_counter() - t0
    try:
        with tempfile.TemporaryDirectory() as d:
            run_experiment([RunSpec("toy-accel", "random", seed=99, budget=10)], d, ray="local", progress=False)
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            run_experiment(specs, d, ray="local", granularity="runs", progress=False)
            t = time.perf_counter() - t0
        print(f"Ray, runs as tasks (2 CPUs, 4 runs, batch 10): {t:.2f} s vs {ref:.2f} s bare and sequential; "
              f"{1000 * (t - ref / 2) / n:.3f} ms/trial over an ideal 2-way split (ray.init once: {t_init:.1f} s)")
        small = [RunSpec("toy-accel", "random", seed=s, budget=200, batch_size=10) for s in range(2)]
        ref_small = bare_loop(small)
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            run_experiment(small, d, ray="local", granularity="batches", progress=False)
            t = time.perf_counter() - t0
        m = sum(s.budget for s in small)
        print(f"Ray, batches as tasks (for expensive simulators only): {1000 * (t - ref_small) / m:.2f} ms/trial "
              "over the bare loop on a cheap simulator (why cheap simulators go as whole runs)")
    finally:
        ray.shutdown()


def speedup(quick: bool) -> None:
    """Wall-clock speed-up of parallel workers on a DRAM problem whose designs take about 0.2 s each."""
    # A DRAM controller on a random trace, its length chosen so one design takes about 0.2 s here.
    n = 30_000
    p = dsegym.make("dram", trace="random", n=n)
    p.evaluate(p.space.sample(1, seed=0))
    t0 = time.perf_counter()
    p.evaluate(p.space.sample(2, seed=1))
    n = int(min(2_000_000, max(n, n * 0.2 / ((time.perf_counter() - t0) / 2))))
    opts = {"trace": "random", "n": n}
    p = dsegym.make("dram", **opts)
    p.evaluate(p.space.sample(1, seed=0))
    t0 = time.perf_counter()
    p.evaluate(p.space.sample(2, seed=2))
    per = (time.perf_counter() - t0) / 2
    trials = 4 if quick else 8
    specs = [RunSpec("dram", "random", seed=s, budget=trials, batch_size=1, problem_options=opts) for s in range(4)]
    times = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            run_experiment(specs, d, workers=workers, progress=False)
            times[workers] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:  # the pool's fixed cost: start 2 workers, build the problem, 1 trial
        t0 = time.perf_counter()
        run_experiment([dataclasses.replace(s, budget=1) for s in specs[:2]], d, workers=2, progress=False)
        start = time.perf_counter() - t0 - per
    print(f"== speed-up with 2 workers on {per:.2f} s trials (DRAM model, {n:,}-request trace; 4 runs x {trials}): "
          f"{times[1]:.1f} s with 1 worker, {times[2]:.1f} s with 2: x{times[1] / times[2]:.2f}; "
          f"the pool's start-up (workers import dsegym and build the problem) is {start:.1f} s, "
          f"x{times[1] / max(times[2] - start, 1e-9):.2f} without it")


def kill_and_resume(quick: bool) -> None:
    """Kill -9 a run a quarter of the way in, rerun it, and compare the rows with an uninterrupted run."""
    budget = 1500 if quick else 4000
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "killed"
        cmd = [sys.executable, "-m", "dsegym.cli", "run", "--problem", "toy-rastrigin", "--agent", "ga",
               "--budget", str(budget), "--batch-size", "5", "--seeds", "7", "--out", str(out), "--json"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        db = out / "results.sqlite"
        while True:
            if db.exists():
                try:
                    with sqlite3.connect(db, timeout=5) as c:
                        if c.execute("SELECT COUNT(*) FROM trials").fetchone()[0] >= budget // 4:
                            break
                except sqlite3.OperationalError:
                    pass
            if proc.poll() is not None:
                raise SystemExit("the run finished before it could be killed; raise the budget")
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = len(load(out))
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = load(out)
        ref = Path(d) / "ref"
        run_experiment([RunSpec("toy-rastrigin", "ga", seed=7, budget=budget, batch_size=5)], ref, workers=1,
                       progress=False)
        cols = [c for c in after.columns if c not in ("wall_time_s", "experiment")]
        same = after[cols].reset_index(drop=True).equals(load(ref)[cols].reset_index(drop=True))
        print(f"== kill -9 and resume (ga on toy-rastrigin, budget {budget}): {before} rows when killed, "
              f"{len(after)} after the rerun, duplicates {int(after.duplicated(['run_id', 'trial_index']).sum())}, "
              f"rows equal to an uninterrupted run: {same}")


def main() -> None:
    """Run the three runner measurements."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    overhead(args.quick)
    speedup(args.quick)
    kill_and_resume(args.quick)


if __name__ == "__main__":
    main()
