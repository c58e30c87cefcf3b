"""Every registered agent against problems whose optimum is known by enumeration.

For each agent and each of ``toy-accel`` (420 valid designs, three objectives, one constraint; optimum
by scoring ``space.enumerate()``) and ``toy-rastrigin`` (50,625 designs, optimum cost 1 at x = 2):

* every design it proposes is valid (``space.valid_mask``) and the budget is exactly what it used;
* the same seed gives the same history (two runs compared frame for frame);
* over a fixed set of seeds it reaches the optimum at least as often as random search with the same
  budget and seeds, "reaching" meaning a product of metrics within 1% of the optimum's (scores are
  sums of log-metrics, so ``score <= optimum + log(1.01)``).

Budgets are chosen so random search is far from 100% (about 10% on toy-accel at 40 evaluations, well
under 1% on toy-rastrigin at 200), and the whole module stays within a few minutes on two cores.
"""
from __future__ import annotations

import functools

try:  # conftest-free: single-threaded torch keeps the RL and GP agents fast and reproducible
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass

import numpy as np
import pandas as pd
import pytest

import dsegym
from dsegym.agents import list_agents, make, run_search

PROBLEMS = ("toy-accel", "toy-rastrigin")
TOLERANCE = float(np.log(1.01))  # 1% on the product of metrics

# (budget, number of seeds) per problem.
DEFAULT = {"toy-accel": (40, 10), "toy-rastrigin": (200, 10)}
# Agents whose per-step cost (a GP refit, network training) makes 10 runs of 200 too slow for CI get
# smaller settings; random search is always re-run with the *same* budget and seeds, so the comparison
# stays fair. (On toy-rastrigin random search finds the optimum in 0 of 10 runs at 200 evaluations
# and so at any smaller budget: there the check is validity and determinism more than quality.)
_RL = ("ppo", "a2c", "dqn", "sac", "marl")
OVERRIDES: dict[str, dict[str, tuple[int, int]]] = {
    "gp": {"toy-rastrigin": (50, 5)},
    "surrogate": {"toy-accel": (40, 5), "toy-rastrigin": (60, 3)},
    **{name: {"toy-rastrigin": (100, 5)} for name in _RL},
}
# How many seeds an agent may fall short of random search's count.
SLACK: dict[str, int] = {
    # Stochastic RL policies learn from a few dozen samples here; a couple of unlucky seeds is noise,
    # not a bug: they must reach the optimum in at least random's count minus 2 of the seeds.
    **{name: 2 for name in _RL},
    # These do not aim at the scalar optimum: grid search is random search without replacement
    # (equal to random in expectation), and the Pareto searchers (the GA ranks by NSGA-II on
    # multi-objective toy-accel) spread their budget over the 38-design Pareto front. They may fall
    # one seed short; their Pareto quality is checked against the true front in test_agents_core.
    "grid": 1, "ga": 1, "nsga2": 1, "nsga3": 1, "motpe": 1,
}



def settings(name: str, problem_id: str) -> tuple[int, int]:
    return OVERRIDES.get(name, {}).get(problem_id, DEFAULT[problem_id])


@functools.lru_cache(maxsize=None)
def problem(problem_id: str):
    return dsegym.make(problem_id)


@functools.lru_cache(maxsize=None)
def optimum(problem_id: str) -> float:
    p = problem(problem_id)
    designs = list(p.space.enumerate())
    return float(p.score(p.evaluate(designs)).min())


def run(name: str, problem_id: str, seed: int, budget: int) -> pd.DataFrame:
    agent = make(name, problem(problem_id), seed=seed)
    try:
        return run_search(agent, budget=budget, batch_size=1)
    finally:
        close = getattr(agent, "close", None)
        if close is not None:
            close()


def hit(history: pd.DataFrame, problem_id: str) -> bool:
    return bool(history["score"].min() <= optimum(problem_id) + TOLERANCE)


@functools.lru_cache(maxsize=None)
def random_hits(problem_id: str, budget: int, n_seeds: int) -> int:
    return sum(hit(run("random", problem_id, seed, budget), problem_id) for seed in range(n_seeds))


def test_known_optima():
    assert optimum("toy-rastrigin") == pytest.approx(0.0, abs=1e-12)  # cost 1 at x = 2
    p = problem("toy-accel")
    assert sum(1 for _ in p.space.enumerate()) == 420
    assert random_hits("toy-accel", *DEFAULT["toy-accel"]) < DEFAULT["toy-accel"][1]
    assert random_hits("toy-rastrigin", *DEFAULT["toy-rastrigin"]) < DEFAULT["toy-rastrigin"][1]


@pytest.mark.parametrize("problem_id", PROBLEMS)
@pytest.mark.parametrize("name", list_agents())
def test_agent_reaches_optimum(name, problem_id):
    budget, n_seeds = settings(name, problem_id)
    p = problem(problem_id)
    histories = [run(name, problem_id, seed, budget) for seed in range(n_seeds)]

    for seed, h in enumerate(histories):
        assert len(h) == budget, f"{name} seed {seed}: {len(h)} designs for a budget of {budget}"
        valid = p.space.valid_mask(h[p.space.names])
        assert valid.all(), f"{name} seed {seed} proposed invalid designs: {h[p.space.names][~valid].head()}"

    again = run(name, problem_id, 0, budget)
    pd.testing.assert_frame_equal(histories[0], again, obj=f"{name} history for seed 0 (run twice)")

    hits = sum(hit(h, problem_id) for h in histories)
    baseline = random_hits(problem_id, budget, n_seeds)
    slack = SLACK.get(name, 0)
    assert hits >= baseline - slack, (
        f"{name} reached the optimum of {problem_id} in {hits}/{n_seeds} runs of {budget} evaluations, "
        f"random search in {baseline}/{n_seeds} (allowed shortfall {slack})")
