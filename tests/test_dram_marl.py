"""Multi-agent RL on the DRAM controller: one agent per knob, as in Krishnan et al. 2022."""
import numpy as np
import torch
from pettingzoo.test import parallel_api_test

import dsegym
from dsegym.agents import make, run_search
from dsegym.env import ParallelDesignEnv

torch.set_num_threads(1)

# Action sizes of the ten knob agents in the MARL paper (REFERENCES.md section 4).
PAPER_ACTION_SIZES = [4, 3, 3, 8, 2, 2, 4, 4, 3, 8]


def test_one_agent_per_knob_with_the_papers_action_sizes():
    env = ParallelDesignEnv("archgym-dram-stream", agents="parameter", episode_length=4)
    assert [env.action_space(a).n for a in env.possible_agents] == PAPER_ACTION_SIZES
    parallel_api_test(env, num_cycles=8)
    obs, _ = env.reset(seed=0)
    actions = {a: env.action_space(a).sample() for a in env.agents}
    _, rewards, *_ = env.step(actions)
    assert len(set(rewards.values())) == 1  # the reward is shared


def test_marl_agent_searches_dram_with_one_learner_per_knob():
    problem = dsegym.make("archgym-dram-random", n=2000)
    histories = []
    for _ in range(2):
        agent = make("marl", problem, seed=3, agents="parameter")
        histories.append(run_search(agent, budget=48, batch_size=8))
        assert len(agent.learners) == 10
        agent.close()
    a, b = histories
    assert a.equals(b)
    assert problem.space.valid_mask(a[problem.space.names]).all()
    assert np.isfinite(a["score"]).all()
