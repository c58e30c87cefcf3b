"""DRAM problems through the core API: registration, make(), the space, Gymnasium and PettingZoo."""
import gymnasium as gym
import numpy as np
import pytest

import dsegym
from dsegym.envs.dram import traces as T
from dsegym.envs.dram.space import DEFAULT, NAMES
from dsegym.errors import ConfigError, InvalidDesignError, TraceFormatError, UnknownIdError


def test_builtin_problems_are_registered():
    ids = dsegym.list_problems()
    for pid in ("dram", "dram-stream", "dram-random", "dram-cloud1", "dram-cloud2"):
        assert pid in ids


def test_archgym_problem_shape():
    p = dsegym.make("dram-stream")
    assert p.id == "dram-stream" and p.info["n_requests"] == 10_000 and p.info["memory"] == "DDR3-1600"
    assert [o.metric for o in p.objectives] == ["energy_uj", "avg_latency_ns"]
    assert all(o.direction == "min" for o in p.objectives)
    assert p.space.names == list(NAMES) == [
        "PagePolicy", "Scheduler", "SchedulerBuffer", "RequestBufferSize", "RespQueue", "RefreshPolicy",
        "RefreshMaxPostponed", "RefreshMaxPulledin", "Arbiter", "MaxActiveTransactions"]
    assert p.space.nvec.tolist() == [4, 3, 3, 8, 2, 2, 4, 4, 3, 8] and p.space.size == 442_368
    assert p.space.groups == {
        "page": ["PagePolicy"], "scheduler": ["Scheduler", "SchedulerBuffer", "RequestBufferSize"],
        "response": ["RespQueue"], "refresh": ["RefreshPolicy", "RefreshMaxPostponed", "RefreshMaxPulledin"],
        "arbiter": ["Arbiter", "MaxActiveTransactions"]}
    assert p.space.default() == DEFAULT
    out = p.evaluate(p.space.sample(3, seed=0))
    assert list(out.columns[:7]) == ["total_time_us", "avg_latency_ns", "p99_latency_ns", "bandwidth_gbps",
                                     "energy_uj", "avg_power_w", "row_hit_rate"]
    assert [p.unit(c) for c in out.columns[:7]] == ["us", "ns", "ns", "GB/s", "uJ", "W", "ratio"]


def test_make_dram_takes_any_trace(tmp_path):
    df = T.make_trace("random", n=500)
    path = tmp_path / "r.stl"
    T.save_stl(df, path)
    from_df = dsegym.make("dram", trace=df, memory="DDR3-1600").evaluate([DEFAULT])
    from_path = dsegym.make("dram", trace=str(path)).evaluate([DEFAULT])
    assert from_df.equals(from_path)
    by_name = dsegym.make("dram", trace="cloud1", n=500)
    assert by_name.info["trace"] == "cloud1" and by_name.info["n_requests"] == 500
    ddr4 = dsegym.make("dram", trace="stream", memory="DDR4-2400", n=500)
    assert ddr4.info["memory"] == "DDR4-2400"  # make() names the problem by its registered id


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(UnknownIdError, match=r"unknown memory 'DDR5'.*DDR3-1600, DDR4-2400, LPDDR4-3200"):
        dsegym.make("dram-stream", memory="DDR5")
    bad = tmp_path / "bad.stl"
    bad.write_text("0: read 0x0\n1: fetch 0x40\n")
    with pytest.raises(TraceFormatError, match="bad.stl:2"):
        dsegym.make("dram", trace=str(bad))
    with pytest.raises(ConfigError, match="unknown DRAM metric"):
        dsegym.make("dram-stream", objectives=["power"])
    p = dsegym.make("dram-stream", n=200)
    with pytest.raises(InvalidDesignError, match="PagePolicy"):
        p.evaluate([{"PagePolicy": "Half"}])
    with pytest.raises(InvalidDesignError, match="RequestBufferSize"):
        p.evaluate([{"RequestBufferSize": 3}])


def test_gymnasium_env_steps_deterministically():
    def rollout():
        env = gym.make("dsegym/dram-cloud2", episode_length=3)
        env.reset(seed=7)
        rewards = []
        for _ in range(3):
            _, r, *_ = env.step(env.action_space.sample())
            rewards.append(r)
        return rewards
    a = rollout()
    assert a == rollout() and np.isfinite(a).all()


def test_parallel_env_has_one_agent_per_group():
    from dsegym.env import ParallelDesignEnv
    env = ParallelDesignEnv("dram-random", agents="group", episode_length=2)
    assert env.possible_agents == ["page", "scheduler", "response", "refresh", "arbiter"]
    per_knob = ParallelDesignEnv("dram-random", agents="parameter", episode_length=2)
    assert [per_knob.action_space(a).n for a in per_knob.possible_agents] == [4, 3, 3, 8, 2, 2, 4, 4, 3, 8]
