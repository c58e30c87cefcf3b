"""The learning agents: SB3 PPO / A2C / DQN / SAC behind ask/tell, and the multi-agent RL agent.

RL bound checked here: on toy-rastrigin with 200 evaluations (batch size 1), the mean score of the last
50 designs is at least 0.5 below the mean score of the first 50 (mostly random) designs, averaged over
seeds 0 and 1. (Random designs score about 4.05 on average; the optimum scores 0. With the default
hyperparameters every agent gains more than 1.0 here.)
"""
import gc
import threading

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

import dsegym  # noqa: E402
from dsegym.agents import make, run_search  # noqa: E402
from dsegym.env import ParallelDesignEnv  # noqa: E402
from dsegym.problem import Problem  # noqa: E402

SB3_AGENTS = ["ppo", "a2c", "dqn", "sac"]
RL_AGENTS = SB3_AGENTS + ["marl"]


def _counting(problem_id: str):
    """A problem whose simulator counts the designs it simulates."""
    real = dsegym.make(problem_id)
    calls = {"designs": 0}

    def simulator(frame):
        calls["designs"] += len(frame)
        return real.simulator(frame)

    return Problem(real.id, real.space, simulator, real.objectives), calls


def _close(agent):
    getattr(agent, "close", lambda: None)()


@pytest.mark.parametrize("name", RL_AGENTS)
def test_valid_designs_in_batches(name):
    problem = dsegym.make("toy-accel")
    agent = make(name, problem, seed=3)
    history = run_search(agent, budget=30, batch_size=3)
    assert len(history) == 30
    designs = history[problem.space.names].to_dict("records")
    assert problem.space.valid_mask(designs).all()
    # An irregular batch (more than the learner has in flight) still returns valid designs.
    extra = agent.ask(5)
    assert len(extra) == 5 and problem.space.valid_mask(extra).all()
    agent.tell(extra, problem.evaluate(extra))
    more = agent.ask(2)
    assert problem.space.valid_mask(more).all()
    _close(agent)


@pytest.mark.parametrize("name", RL_AGENTS)
def test_deterministic_per_seed_even_interleaved(name):
    """Same seed, same trajectory, although two agents share the process's global generators."""
    problem = dsegym.make("toy-rastrigin")
    a, b, c = (make(name, problem, seed=s) for s in (7, 7, 8))
    seqs = {id(x): [] for x in (a, b, c)}
    for _ in range(40):  # past the first policy updates / learning_starts of every agent
        for agent in (a, b, c):
            designs = agent.ask(1)
            seqs[id(agent)] += designs
            torch.rand(3)  # the caller's own use of the global generators must not matter
            np.random.rand()
            agent.tell(designs, problem.evaluate(designs))
    assert seqs[id(a)] == seqs[id(b)]
    assert seqs[id(a)] != seqs[id(c)]
    for agent in (a, b, c):
        _close(agent)


@pytest.mark.parametrize("name", RL_AGENTS)
def test_rewards_come_from_told_results(name):
    """Nothing is re-simulated: the simulator runs only for the designs the caller evaluates (SB3
    agents take their reward reference from the first told design; MARL's parallel envs simulate the
    default design once for theirs)."""
    problem, calls = _counting("toy-accel")
    agent = make(name, problem, seed=0)
    run_search(agent, budget=24, batch_size=4)
    assert calls["designs"] == 24 + (name == "marl")
    _close(agent)


@pytest.mark.parametrize("name", RL_AGENTS)
def test_improves_over_first_designs_on_rastrigin(name):
    problem = dsegym.make("toy-rastrigin")
    gains = []
    for seed in (0, 1):
        agent = make(name, problem, seed=seed)
        scores = run_search(agent, budget=200, batch_size=1)["score"].to_numpy()
        gains.append(scores[:50].mean() - scores[-50:].mean())
        _close(agent)
    assert np.mean(gains) > 0.5, gains


def test_sb3_models_and_encodings():
    problem = dsegym.make("toy-rastrigin")
    expected = {"ppo": "MultiDiscrete", "a2c": "MultiDiscrete", "dqn": "Discrete", "sac": "Box"}
    for name, space_kind in expected.items():
        agent = make(name, problem, seed=0)
        assert agent.model is None
        designs = agent.ask(1)
        agent.tell(designs, problem.evaluate(designs))
        assert type(agent.model).__name__ == name.upper()
        assert type(agent.model.action_space).__name__ == space_kind
        agent.close()
        assert not agent._learner.alive
        with pytest.raises(RuntimeError, match="closed"):
            agent.ask(1)


def test_learner_crash_raises_clear_error():
    problem = dsegym.make("toy-rastrigin")
    agent = make("ppo", problem, seed=0, n_steps=4)
    designs = agent.ask(1)

    def boom():
        raise ValueError("boom in train")

    agent.model.train = boom
    with pytest.raises(RuntimeError, match=r"learner failed with ValueError: boom in train"):
        for _ in range(8):
            agent.tell(designs, problem.evaluate(designs))
            designs = agent.ask(1)
    assert not agent._learner.alive
    with pytest.raises(RuntimeError, match="failed earlier with ValueError"):
        agent.ask(1)


def test_learner_unwinds_on_garbage_collection():
    problem = dsegym.make("toy-rastrigin")
    agent = make("a2c", problem, seed=0)
    run_search(agent, budget=5)
    coroutine = agent._learner._g
    assert not coroutine.dead
    del agent
    gc.collect()
    assert coroutine.dead


def test_no_thread_outlives_an_agent():
    before = {t.ident for t in threading.enumerate()}
    for name in ("ppo", "dqn", "sac", "a2c"):
        with make(name, dsegym.make("toy-accel"), seed=0) as agent:
            run_search(agent, budget=4)
            started = [t for t in threading.enumerate() if t.ident not in before]
            assert not started, f"{name} started threads {started}"


def test_ctrl_c_during_the_hand_off_ends_the_learner_with_the_caller():
    problem = dsegym.make("toy-rastrigin")
    agent = make("ppo", problem, seed=0, n_steps=4)
    designs = agent.ask(1)

    def interrupted():
        raise KeyboardInterrupt

    agent.model.train = interrupted
    with pytest.raises(KeyboardInterrupt):
        for _ in range(8):
            agent.tell(designs, problem.evaluate(designs))
            designs = agent.ask(1)
    assert not agent._learner.alive  # nothing keeps training beside the caller
    with pytest.raises(RuntimeError, match="failed earlier with KeyboardInterrupt"):
        agent.ask(1)
    agent.close()


@pytest.mark.parametrize("name", ["ppo", "sac", "marl", "surrogate", "gp"])
def test_torch_threads_and_global_generators_are_restored(name):
    import random as pyrandom
    problem = dsegym.make("toy-accel")
    torch.set_num_threads(2)
    try:
        np.random.seed(123)
        pyrandom.seed(123)
        torch.manual_seed(123)
        expected = (np.random.random(), pyrandom.random(), torch.rand(1).item())
        np.random.seed(123)
        pyrandom.seed(123)
        torch.manual_seed(123)
        with make(name, problem, seed=0, **({"n_init": 2} if name == "surrogate" else {})) as agent:
            run_search(agent, budget=6, batch_size=2)
            assert torch.get_num_threads() == 2
        assert (np.random.random(), pyrandom.random(), torch.rand(1).item()) == expected
    finally:
        torch.set_num_threads(1)


def test_unknown_hyperparameter_and_reward():
    problem = dsegym.make("toy-accel")
    with pytest.raises(dsegym.ConfigError, match="no hyperparameter"):
        make("ppo", problem, seed=0, n_stepz=3)
    with pytest.raises(dsegym.ConfigError, match="hyperparameter reward must be one of"):
        make("sac", problem, seed=0, reward="fast")
    with pytest.raises(dsegym.ConfigError, match="hyperparameter agents must be one of"):
        make("marl", problem, seed=0, agents="team")


# --- multi-agent RL ------------------------------------------------------------------------------------

@pytest.mark.parametrize("agents", ["group", "parameter"])
def test_marl_trains_on_a_parallel_env_that_passes_the_pettingzoo_api_test(agents):
    from pettingzoo.test import parallel_api_test
    problem = dsegym.make("toy-accel")
    parallel_api_test(ParallelDesignEnv(problem, agents=agents, episode_length=5), num_cycles=20)

    agent = make("marl", problem, seed=0, agents=agents, n_steps=8)
    run_search(agent, budget=24, batch_size=2)
    env = agent.envs[0]
    assert isinstance(env, ParallelDesignEnv)
    reference = ParallelDesignEnv(problem, agents=agents)
    assert agent.possible_agents == reference.possible_agents
    assert env.slices == reference.slices
    for a in env.possible_agents:
        assert env.action_space(a) == reference.action_space(a)
    assert set(agent.learners) == set(reference.possible_agents)
    assert agent.n_updates >= 2
    # Two env copies were needed for batches of two, each with its own episode.
    assert len(agent.envs) == 2


def test_marl_per_parameter_agents_match_the_space():
    problem = dsegym.make("toy-rastrigin")
    agent = make("marl", problem, seed=0, agents="parameter")
    assert agent.possible_agents == problem.space.names


@pytest.mark.parametrize("name, bad", [("ppo", {"learning_rate": -1.0}), ("a2c", {"gamma": 1.5}),
                                       ("dqn", {"exploration_final_eps": 2.0}), ("sac", {"batch_size": 0}),
                                       ("ppo", {"n_envs": 0}), ("marl", {"n_steps": 0})])
def test_bad_hyperparameter_values_are_config_errors(name, bad):
    with pytest.raises(dsegym.ConfigError, match=list(bad)[0]):
        make(name, dsegym.make("toy-accel"), seed=0, **bad)


@pytest.mark.parametrize("name", RL_AGENTS)
def test_every_sweep_setting_builds_and_runs(name):
    import itertools

    from dsegym.agents import agent_info
    sweep = agent_info(name)["sweep"]
    for values in itertools.product(*sweep.values()):
        agent = make(name, dsegym.make("toy-accel"), seed=1, **dict(zip(sweep, values)))
        assert len(run_search(agent, budget=12, batch_size=4)) == 12
        _close(agent)


def test_learning_writes_nothing_to_the_temp_folder(tmp_path, monkeypatch):
    """SB3's default logger makes an empty SB3-<time> folder in the temp folder on every learn(); the
    agents give it a logger with no outputs, so a search leaves the user's temp folder as it was."""
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    agent = make("ppo", dsegym.make("toy-accel"), seed=0)
    run_search(agent, budget=8, batch_size=4)
    _close(agent)
    assert list(tmp_path.iterdir()) == []
