"""DRAM problems through the core API: registration, make(), the space, Gymnasium and PettingZoo."""
import gymnasium as gym
import numpy as np
import pytest

import dsegym
from dsegym.envs.dram import traces as T
from dsegym.envs.dram.space import DEFAULT, NAMES
from dsegym.errors import (
    ConfigError,
    InvalidDesignError,
    TraceFormatError,
    UnknownIdError,
)


def test_builtin_problems_are_registered():
    ids = dsegym.list_problems()
    for trace in ("stream", "random", "cloud1", "cloud2"):
        assert f"dram-{trace}" in ids and f"archgym-dram-{trace}" in ids
    assert "dram" in ids and "archgym-dram" in ids


def test_archgym_problem_shape():
    p = dsegym.make("archgym-dram-stream")
    assert p.id == "archgym-dram-stream" and p.info["n_requests"] == 10_000 and p.info["memory"] == "DDR3-1600"
    # ArchGym's DRAMSys outputs: energy, power, latency (its "latency" is total simulated time)
    assert [o.metric for o in p.objectives] == ["energy_uj", "avg_power_w", "total_time_us"]
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


def test_default_problem_shape():
    p = dsegym.make("dram-random", n=300)
    assert [o.metric for o in p.objectives] == ["energy_uj", "avg_latency_ns", "ctrl_area_mm2"]
    assert p.space.names == ["PagePolicy", "Scheduler", "SchedulerBuffer", "RequestBufferSize",
                             "RefreshMaxPostponed", "MaxActiveTransactions"]
    assert "NoRefresh" not in str(p.space.to_frame([p.space.default()]).to_dict())
    assert p.info["fixed"] == {"RespQueue": "Fifo", "RefreshPolicy": "AllBank", "RefreshMaxPulledin": 8,
                               "Arbiter": "Fifo"}
    wider = dsegym.make("dram", trace="random", n=300, knobs=["PagePolicy", "RefreshMaxPulledin"])
    assert wider.space.names == ["PagePolicy", "RefreshMaxPulledin"]


def test_make_dram_takes_any_trace(tmp_path):
    df = T.make_trace("random", n=500)
    path = tmp_path / "r.stl"
    T.save_stl(df, path)
    from_df = dsegym.make("dram", trace=df, memory="DDR3-1600").evaluate([{"PagePolicy": "Open"}])
    from_path = dsegym.make("dram", trace=str(path)).evaluate([{"PagePolicy": "Open"}])
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


@pytest.mark.parametrize("pid", ["dram-stream", "archgym-dram-random"])
@pytest.mark.parametrize("kwargs,match", [
    ({"trace_clk_mhz": 0}, "trace_clk_mhz"), ({"trace_clk_mhz": float("nan")}, "trace_clk_mhz"),
    ({"trace_clk_mhz": "NaN"}, "trace_clk_mhz"), ({"n": -5}, "n must be"), ({"seed": "x"}, "seed must be"),
    ({"objectives": []}, "at least one"), ({"objectives": ["energy_uj", "energy_uj"]}, "twice"),
    ({"trace": 5}, "a trace is"), ({"memory": 3}, "unknown memory"),
])
def test_every_factory_option_is_checked(pid, kwargs, match):
    with pytest.raises((ConfigError, UnknownIdError), match=match):
        dsegym.make(pid, **kwargs)


def test_cli_reports_bad_dram_options_in_one_line(capsys):
    from dsegym.cli import main
    for arg in ("trace_clk_mhz=0", "trace_clk_mhz=NaN", "n=-5", "knobs=['Page']"):
        assert main(["describe", "dram-stream", "-a", arg]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


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
    env = ParallelDesignEnv("archgym-dram-random", agents="group", episode_length=2)
    assert env.possible_agents == ["page", "scheduler", "response", "refresh", "arbiter"]
    per_knob = ParallelDesignEnv("archgym-dram-random", agents="parameter", episode_length=2)
    assert [per_knob.action_space(a).n for a in per_knob.possible_agents] == [4, 3, 3, 8, 2, 2, 4, 4, 3, 8]
