"""Co-design: time to build the whole accuracy table, env step times, and the zero-cost proxies' rank
agreement with measured accuracy.

Run: ``.venv/bin/python benchmarks/bench_codesign.py [--workers 2] [--cache DIR]``

Figures printed:
- wall time of ``build_table`` over every network x 3 seeds from an empty cache (target: 180 s on 2
  cores), and per network-seed;
- ``env.step`` time on ``quant-digits``: a design whose accuracy is cached, a new bit assignment of a
  trained network (PTQ, or QAT where PTQ collapses), and on ``codesign-digits`` a network never
  trained (three trainings), each as a ratio to the cached step measured in the same run;
- Kendall tau and Spearman rho between each zero-cost proxy and the measured float accuracy (mean of
  3 seeds) over every network of the space.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


def _step_time(env, actions) -> float:
    env.reset(seed=0)
    t0 = time.perf_counter()
    for a in actions:
        env.step(a)
    return (time.perf_counter() - t0) / len(actions)


def main() -> None:
    """Run the co-design benchmark and print its figures."""
    import numpy as np
    import torch
    from scipy.stats import kendalltau, spearmanr

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", help="cache folder to build into (default: a fresh temporary one)")
    args = parser.parse_args()
    root = Path(args.cache) if args.cache else Path(tempfile.mkdtemp(prefix="dsegym-bench-"))
    cache = root / "codesign"

    from dsegym.envs.codesign.accuracy import build_table
    from dsegym.envs.codesign.network import ARCHITECTURES
    from dsegym.envs.codesign.proxies import PROXIES, proxy_scores

    t0 = time.perf_counter()
    table = build_table(cache, workers=args.workers, progress=True)
    build_s = time.perf_counter() - t0
    n_jobs = table[table.method == "float"].shape[0]
    floats = table[table.method == "float"].groupby("arch").accuracy.agg(["mean", "std"])
    print(f"accuracy table: {len(ARCHITECTURES)} networks x 3 seeds = {n_jobs} trainings in {build_s:.1f} s "
          f"with {args.workers} workers ({build_s / 180:.2f} of the 180 s target; {build_s / n_jobs:.2f} s each)")
    print(f"  float accuracy: median {floats['mean'].median():.3f}, range {floats['mean'].min():.3f}-"
          f"{floats['mean'].max():.3f}; median seed-to-seed std {floats['std'].median():.4f}")

    import gymnasium as gym

    import dsegym  # noqa: F401  (registers the envs)

    env = gym.make("dsegym/quant-digits", problem_kwargs={"cache_dir": cache}, episode_length=10_000)
    rng = np.random.default_rng(0)
    cached = [env.action_space.sample() for _ in range(5)]
    _step_time(env, cached)  # fills the accuracy cache for these designs
    t_cached = _step_time(env, cached * 4)
    fresh = [rng.integers(0, env.action_space.nvec) for _ in range(10)]
    t_new_bits = _step_time(env, fresh)
    joint = gym.make("dsegym/codesign-digits", problem_kwargs={"cache_dir": root / "untrained"},
                     episode_length=10_000)
    t_new_net = _step_time(joint, [joint.action_space.sample() for _ in range(3)])
    print(f"env.step, quant-digits, cached accuracy: {t_cached * 1e3:.1f} ms")
    print(f"env.step, quant-digits, new bits (PTQ/QAT, 3 seeds): {t_new_bits * 1e3:.0f} ms "
          f"({t_new_bits / t_cached:.0f}x the cached step)")
    print(f"env.step, codesign-digits, untrained network (3 trainings): {t_new_net:.2f} s "
          f"({t_new_net / t_cached:.0f}x the cached step)")

    acc = floats["mean"]
    for proxy in PROXIES:
        scores = np.array([proxy_scores(a, proxy) for a in ARCHITECTURES])
        measured = np.array([acc[a.key] for a in ARCHITECTURES])
        tau = kendalltau(scores, measured).statistic
        rho = spearmanr(scores, measured).statistic
        print(f"proxy {proxy:<9}: Kendall tau {tau:+.3f}, Spearman {rho:+.3f} against measured float accuracy")
    if not args.cache:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
