"""The predictor-guided (BRP-NAS style) search agent and its MLP-ensemble surrogate."""
import time

import numpy as np
import pandas as pd
import pytest
import torch

torch.set_num_threads(1)

import dsegym  # noqa: E402
from dsegym.agents import make, run_search  # noqa: E402
from dsegym.agents.surrogate import MLPEnsemble  # noqa: E402


def test_valid_distinct_designs_in_batches():
    problem = dsegym.make("toy-accel")
    agent = make("surrogate", problem, seed=0, n_init=6)
    history = run_search(agent, budget=30, batch_size=4)
    designs = history[problem.space.names].to_dict("records")
    assert len(designs) == 30
    assert problem.space.valid_mask(designs).all()
    # After the random start, the agent never proposes a design it has already evaluated.
    keys = [tuple(d.values()) for d in designs[8:]]
    assert len(set(keys)) == len(keys)
    assert agent.n_fits == (30 - 8) // 4 + 1


def test_deterministic_per_seed_even_interleaved():
    problem = dsegym.make("toy-rastrigin")
    a, b, c = (make("surrogate", problem, seed=s, n_init=5) for s in (4, 4, 5))
    seqs = {id(x): [] for x in (a, b, c)}
    for _ in range(8):
        for agent in (a, b, c):
            designs = agent.ask(2)
            seqs[id(agent)] += designs
            torch.rand(2)  # the caller's use of the global generators does not matter
            agent.tell(designs, problem.evaluate(designs))
    assert seqs[id(a)] == seqs[id(b)]
    assert seqs[id(a)] != seqs[id(c)]


def test_beats_random_search_on_rastrigin():
    """Mean best score over six seeds at a budget of 40 evaluations (optimum 0; random: about 2.6)."""
    problem = dsegym.make("toy-rastrigin")
    best = {name: np.mean([run_search(make(name, problem, seed=s), budget=40)["score"].min() for s in range(6)])
            for name in ("surrogate", "random")}
    assert best["surrogate"] < best["random"] - 0.3, best


def test_finds_toy_accel_optimum():
    problem = dsegym.make("toy-accel")
    optimum = problem.score(problem.evaluate(list(problem.space.enumerate()))).min()
    agent = make("surrogate", problem, seed=1)
    history = run_search(agent, budget=60, batch_size=2)
    assert history["score"].min() == pytest.approx(optimum)


def test_ensemble_ranks_held_out_designs():
    from scipy.stats import spearmanr
    problem = dsegym.make("toy-accel")
    designs = problem.space.to_frame(list(problem.space.enumerate()))
    scores = problem.score(problem.evaluate(designs))
    rng = np.random.default_rng(0)
    train = rng.permutation(len(designs))[:80]
    test = np.setdiff1d(np.arange(len(designs)), train)
    for loss in ("mse", "rank", "mse+rank"):
        model = MLPEnsemble(problem.space, seed=0, loss=loss)
        model.fit(designs.iloc[train], scores[train])
        mean, std = model.predict(designs.iloc[test])
        assert mean.shape == std.shape == (len(test),)
        assert (std >= 0).all() and std.mean() > 0  # members disagree somewhat
        assert spearmanr(mean, scores[test])[0] > 0.7, loss


def test_refits_are_cheap():
    problem = dsegym.make("toy-rastrigin")
    agent = make("surrogate", problem, seed=0)
    run_search(agent, budget=40)
    start = time.process_time()
    designs = agent.ask(1)
    assert time.process_time() - start < 1.0
    assert agent.model.steps_run < agent.hp["fit_steps"]  # warm-started refit stopped early
    agent.tell(designs, problem.evaluate(designs))


class _Oracle:
    """A stand-in predictor (the hook later predictors use): knows the true score."""

    calls: list = []

    def __init__(self, space, seed):
        self.problem = dsegym.make("toy-rastrigin")

    def fit(self, designs, scores):
        assert isinstance(designs, pd.DataFrame) and len(designs) == len(scores)
        _Oracle.calls.append(len(designs))

    def predict(self, designs):
        assert isinstance(designs, pd.DataFrame)
        s = self.problem.score(self.problem.evaluate(designs))
        return s, np.zeros(len(s))


@pytest.mark.parametrize("factory", [_Oracle, "test_agents_surrogate:_Oracle"])
def test_model_factory_replaces_the_ensemble(factory, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "test_agents_surrogate", sys.modules[__name__])
    _Oracle.calls = []
    problem = dsegym.make("toy-rastrigin")
    agent = make("surrogate", problem, seed=0, n_init=5, model_factory=factory)
    assert isinstance(agent.model, _Oracle)
    history = run_search(agent, budget=30)
    assert _Oracle.calls[:3] == [5, 6, 7]
    # With a perfect predictor the search walks to the optimum through neighbours and mutations.
    assert history["score"].min() == 0.0


def test_bad_settings():
    problem = dsegym.make("toy-accel")
    with pytest.raises(dsegym.ConfigError, match="acquisition"):
        make("surrogate", problem, acquisition="ucb")
    with pytest.raises(dsegym.ConfigError, match="loss"):
        make("surrogate", problem, loss="huber")
    with pytest.raises(dsegym.ConfigError, match="model_factory"):
        make("surrogate", problem, model_factory=42)
    with pytest.raises(dsegym.ConfigError, match="n_init"):
        make("surrogate", problem, n_init=1)
    with pytest.raises(dsegym.ConfigError, match="n_members"):
        make("surrogate", problem, n_members=0)


def test_every_sweep_setting_builds_and_runs():
    import itertools

    from dsegym.agents import agent_info
    sweep = agent_info("surrogate")["sweep"]
    for values in itertools.product(*sweep.values()):
        agent = make("surrogate", dsegym.make("toy-accel"), seed=1, **dict(zip(sweep, values)))
        assert len(run_search(agent, budget=24, batch_size=4)) == 24
