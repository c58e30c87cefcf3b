"""Every registered problem as a Gymnasium env (both checkers, seeded determinism) and as PettingZoo."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import dsegym
from dsegym.env import DesignEnv, ParallelDesignEnv, SequentialDesignEnv
from dsegym.errors import ConfigError, ConstraintViolation, InvalidActionError

ALL = dsegym.list_problems()
# The co-design problems train every network they meet: here one seed, PTQ only, and for the joint
# space two epochs (the env contract does not depend on the training recipe).
OPTIONS = {"quant-digits": {"seeds": 1, "quantization": "ptq"},
           "codesign-digits": {"seeds": 1, "quantization": "ptq", "epochs": 2}}


def problem(problem_id):
    return dsegym.make(problem_id, **OPTIONS.get(problem_id, {}))


def rollout(env, seed, steps=6):
    obs, _ = env.reset(seed=seed)
    traj = [obs]
    for _ in range(steps):
        obs, reward, term, trunc, info = env.step(env.action_space.sample())
        traj += [obs, reward, term, trunc, info.get("design")]
        if term or trunc:
            obs, _ = env.reset()
    return traj


def same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y


@pytest.mark.parametrize("problem_id", ALL)
def test_registered_env_passes_checkers_and_is_seeded(problem_id):
    kw = {"problem_kwargs": OPTIONS[problem_id]} if problem_id in OPTIONS else {}
    env = gym.make(f"dsegym/{problem_id}", episode_length=4, **kw)
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(gym.make(f"dsegym/{problem_id}", **kw).unwrapped, warn=False)
    a = rollout(gym.make(f"dsegym/{problem_id}", episode_length=3, **kw), seed=7)
    b = rollout(gym.make(f"dsegym/{problem_id}", episode_length=3, **kw), seed=7)
    same(a, b)


@pytest.mark.parametrize("problem_id", ALL)
def test_sequential_env_passes_checkers(problem_id):
    check_env(SequentialDesignEnv(problem(problem_id)), skip_render_check=True)
    sb3_check_env(SequentialDesignEnv(problem(problem_id)), warn=False)


@pytest.mark.parametrize("problem_id", ALL)
@pytest.mark.parametrize("agents", ["group", "parameter"])
def test_parallel_env_passes_pettingzoo_api_test(problem_id, agents):
    env = ParallelDesignEnv(problem(problem_id), agents=agents, episode_length=3)
    parallel_api_test(env, num_cycles=6)
    assert set(env.possible_agents) == (set(env.space.groups) if agents == "group" else set(env.space.names))


def test_episode_length_truncates():
    env = DesignEnv("toy-accel", episode_length=3)
    env.reset(seed=0)
    flags = [env.step(env.action_space.sample())[3] for _ in range(3)]
    assert flags == [False, False, True]


def test_weighted_reward_is_improvement_over_the_default_design():
    env = DesignEnv("toy-accel")
    p = env.problem
    env.reset(seed=0)
    default = p.space.default()
    _, r0, *_ = env.step(p.space.to_index(default))
    assert r0 == pytest.approx(0.0)
    better = {"pes": 64, "dataflow": "os", "buffer_kb": 32, "bits": 4}
    _, r1, *_, info = env.step(p.space.to_index(better))
    res = p.evaluate([default, better])
    assert r1 == pytest.approx(p.score(res)[0] - p.score(res)[1])
    assert info["metrics"]["latency_cycles"] == res["latency_cycles"][1]


def test_target_reward_terminates_when_targets_are_met():
    p = dsegym.make("toy-accel")
    design = {"pes": 16, "dataflow": "ws", "buffer_kb": 16, "bits": 4}
    m = p.evaluate_one(design)
    env = DesignEnv(p, reward="target", targets={"latency_cycles": m["latency_cycles"], "energy_uj": m["energy_uj"]})
    env.reset(seed=0)
    _, r, term, _, _ = env.step(p.space.to_index(design))
    assert r == pytest.approx(0.0) and term
    with pytest.raises(InvalidActionError, match="reset"):  # Gymnasium: a terminated episode needs reset()
        env.step(p.space.to_index(design))
    env.reset()
    _, r2, term2, _, _ = env.step(p.space.to_index(p.space.default()))
    assert r2 < 0 and not term2
    with pytest.raises(ConfigError, match="target reward needs targets"):
        DesignEnv("toy-accel", reward="target")
    with pytest.raises(ConfigError, match="not an objective"):
        DesignEnv("toy-accel", reward="target", targets={"power_w": 1.0})


def test_constrained_reward_penalises_limit_excess():
    p = dsegym.make("toy-accel")
    env = DesignEnv(p, reward="constrained", limits={"area_mm2": 0.3})
    env.reset(seed=0)
    small = {"pes": 8, "dataflow": "ws", "buffer_kb": 16, "bits": 8}      # area 0.32
    smaller = {"pes": 4, "dataflow": "ws", "buffer_kb": 16, "bits": 8}    # area 0.24
    weighted = DesignEnv(p)
    weighted.reset(seed=0)
    for d, over in ((small, True), (smaller, False)):
        rc = env.step(p.space.to_index(d))[1]
        rw = weighted.step(p.space.to_index(d))[1]
        assert (rc < rw) if over else rc == pytest.approx(rw)


def test_bad_actions_raise_clear_errors():
    env = DesignEnv("toy-accel")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="shape"):
        env.step(np.zeros(3, dtype=int))
    with pytest.raises(InvalidActionError, match="NaN"):
        env.step(np.array([0, 0, np.nan, 0]))
    with pytest.raises(InvalidActionError, match=r"'buffer_kb': allowed 0\.\.6"):
        env.step(np.array([0, 0, 7, 0]))
    seq = SequentialDesignEnv("toy-accel")
    seq.reset(seed=0)
    with pytest.raises(InvalidActionError, match="out of range"):
        seq.step(99)


def test_infeasible_actions_are_penalised_or_raise():
    p = dsegym.make("toy-accel")
    bad = p.space.to_index({"pes": 32, "bits": 8})
    bad[0] = 6  # pes 64, bits 8 -> 512 OK; use bits 16
    bad[3] = 2
    env = DesignEnv(p, infeasible_reward=-5.0)
    env.reset(seed=0)
    _, r, _, _, info = env.step(bad)
    assert r == -5.0 and not info["feasible"] and "area_budget" in info["error"]
    strict = DesignEnv(p, on_infeasible="raise")
    strict.reset(seed=0)
    with pytest.raises(ConstraintViolation):
        strict.step(bad)


def test_sequential_env_builds_the_design_one_parameter_at_a_time():
    env = SequentialDesignEnv("toy-accel")
    env.reset(seed=0)
    m = env.action_space.n
    for j in range(len(env.space) - 1):
        _, r, term, _, _ = env.step(m - 1)
        assert r == 0.0 and not term
    _, r, term, _, info = env.step(0)
    assert term
    assert info["design"] == {"pes": 64, "dataflow": "is", "buffer_kb": 64, "bits": 4}


def test_env_option_typo_names_the_allowed_options():
    with pytest.raises(ConfigError, match=r"no option 'episode_len'; allowed options: .*episode_length"):
        gym.make("dsegym/toy-accel", episode_len=5)
    with pytest.raises(ConfigError, match=r"no option 'bogus'; allowed options: .*reward.*weights"):
        gym.make("dsegym/toy-accel", bogus=1)
