"""Overhead of every search agent: milliseconds per ask + tell, simulator time excluded.

    python benchmarks/bench_agents.py [--budget 1000] [--agents tpe,ga,...] [--problem ID]
                                      [--max-seconds 120] [--seed 0] [--json]

Each agent runs ``--budget`` evaluations with batch size 1 on ``--problem`` (default: accel-resnet18 when
it is registered, else toy-rastrigin). Only the agent's own ``ask`` and ``tell`` calls are timed; the
simulator (``problem.evaluate``) runs outside the timed regions, so its cost is excluded exactly. Random
search is always measured in the same run (first) and every agent's overhead is also given as a ratio to
it. Agents whose cost per step grows with the history (GP refits, TPE, the learners) show it in the
"last 10%" column. An agent that would exceed ``--max-seconds`` of its own time stops there and the table
says how many evaluations it did (use ``--max-seconds 0`` for no limit). Single-threaded (torch and BLAS),
as on the 2-core CI machine.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread, before numpy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import dsegym  # noqa: E402
from dsegym.agents import list_agents, make  # noqa: E402
from dsegym.errors import ConfigError  # noqa: E402


def bench_agent(name: str, problem, budget: int, seed: int, max_seconds: float) -> dict:
    """Run one agent for ``budget`` evaluations (or ``max_seconds``); its ms per ask+tell step, setup and simulator seconds, best score."""
    built = time.perf_counter()
    agent = make(name, problem, seed=seed)
    setup_s = time.perf_counter() - built
    steps, sim_s = [], 0.0
    best = np.inf
    try:
        for _ in range(budget):
            t0 = time.perf_counter()
            designs = agent.ask(1)
            t1 = time.perf_counter()
            results = problem.evaluate(designs)
            t2 = time.perf_counter()
            agent.tell(designs, results)
            t3 = time.perf_counter()
            steps.append((t1 - t0) + (t3 - t2))
            sim_s += t2 - t1
            if max_seconds and sum(steps) > max_seconds:
                break
        best = float(agent.history()["score"].min())
    finally:
        close = getattr(agent, "close", None)
        if close is not None:
            close()
    steps_ms = np.array(steps) * 1e3
    tail = steps_ms[-max(1, len(steps_ms) // 10):]
    return {"agent": name, "evaluations": len(steps), "ms_per_step": float(steps_ms.mean()),
            "ms_median": float(np.median(steps_ms)), "ms_last10pct": float(tail.mean()),
            "agent_s": float(steps_ms.sum() / 1e3), "setup_s": setup_s, "simulator_s": sim_s,
            "best_score": best}


def main(argv=None) -> int:
    """Benchmark the chosen agents and print a table of their overhead per design."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=1000, help="evaluations per agent (batch size 1)")
    parser.add_argument("--agents", default="", help="comma-separated agent names (default: all)")
    parser.add_argument("--problem", default="", help="problem id (default: accel-resnet18 or toy-rastrigin)")
    parser.add_argument("--max-seconds", type=float, default=120.0,
                        help="stop an agent after this much of its own ask+tell time (0: no limit)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)

    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass

    known = list_agents()
    names = [n.strip() for n in args.agents.split(",") if n.strip()] or known
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown agents {unknown}; known: {', '.join(known)}")
    names = ["random"] + [n for n in names if n != "random"]
    problem_id = args.problem or ("accel-resnet18" if "accel-resnet18" in dsegym.list_problems() else "toy-rastrigin")
    problem = dsegym.make(problem_id)

    rows, skipped = [], []
    for name in names:
        try:
            row = bench_agent(name, problem, args.budget, args.seed, args.max_seconds)
        except ConfigError as e:  # e.g. grid search refusing a huge space
            skipped.append({"agent": name, "problem": problem_id, "skipped": str(e)})
            continue
        rows.append(row)
        if not args.json:
            print(f"  {name:10s} {row['evaluations']:5d} evals  {row['ms_per_step']:9.3f} ms/step", file=sys.stderr,
                  flush=True)
    base = rows[0]["ms_per_step"]
    for row in rows:
        row["ratio_to_random"] = row["ms_per_step"] / base
        row["problem"] = problem_id

    if args.json:
        print(json.dumps(rows + skipped, indent=2))
        return 0
    sim_ms = rows[0]["simulator_s"] / max(1, rows[0]["evaluations"]) * 1e3
    print(f"Agent overhead on {problem_id}: budget {args.budget}, batch size 1, seed {args.seed}, "
          f"simulator excluded (random search's simulator time: {sim_ms:.3f} ms/eval)")
    print()
    print("| agent | evals | ms per ask+tell | median ms | last 10% ms | x random | agent s | best score |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        evals = f"{row['evaluations']}" + ("" if row["evaluations"] == args.budget else " (time cap)")
        print(f"| {row['agent']} | {evals} | {row['ms_per_step']:.3f} | {row['ms_median']:.3f} | "
              f"{row['ms_last10pct']:.3f} | {row['ratio_to_random']:.1f} | {row['agent_s']:.1f} | "
              f"{row['best_score']:.4g} |")
    for row in skipped:
        print(f"| {row['agent']} | skipped: {row['skipped']} | | | | | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
