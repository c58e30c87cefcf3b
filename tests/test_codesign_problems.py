"""The co-design problems: the network is the accelerator's workload, precision is never free, the
problem forms, both env checkers, and every agent on both problems."""
import numpy as np
import pytest
from knob_shares import free_knobs

import dsegym
from dsegym.envs.codesign.cache import default_cache_dir
from dsegym.envs.codesign.hardware import fusion_speedup, run_network
from dsegym.envs.codesign.network import NetArch
from dsegym.envs.codesign.problems import network_macs
from dsegym.errors import ConfigError

# Trained weights are shared by every test and run (keyed by library versions, written atomically):
# tests/conftest.py points $DSEGYM_CACHE_DIR at a folder of the machine's temporary directory.
CACHE = default_cache_dir() / "codesign"
FAST = {"cache_dir": CACHE, "seeds": 1, "quantization": "ptq"}
# the joint space trains every network it meets: the knob test trains them briefly (a cheaper fidelity
# of the same measurement; the knob trade-offs do not depend on it)
BRIEF = {**FAST, "epochs": 2}
FREE_SHARE = 0.98


def test_bit_fusion_speedups_follow_the_brick_counts():
    # Sharma et al. 2018: 16 2-bit bricks fuse into 1 8x8, 2 4x8, 4 4x4 or 2x8, 8 2x4 multipliers
    assert fusion_speedup(8, 8) == 1 and fusion_speedup(4, 8) == 2 and fusion_speedup(4, 4) == 4
    assert fusion_speedup(2, 8) == 4 and fusion_speedup(2, 4) == 8 and fusion_speedup(3, 8) == 2
    assert fusion_speedup(6, 4) == 2


def test_the_network_is_the_accelerator_workload():
    """At 8x8 bits (no fusion speed-up) the co-design hardware numbers are exactly the accelerator
    problem's on the network's layers: an independent path through make(..., layers=...)."""
    arch = NetArch(3, 8, 2, 5, False)
    designs = dsegym.make("accel-resnet18").space.sample(20, seed=3)
    ours = run_network(designs, arch, (8,) * 3, (8,) * 3, batch=64)
    ref = dsegym.envs.accelerator.make_accel_problem(layers=arch.accelerator_layers(64)).evaluate(designs)
    np.testing.assert_allclose(ours["latency_ms"], ref["latency_ms"], rtol=1e-6)
    np.testing.assert_allclose(ours["energy_pj"] * 1e-6, ref["energy_uj"], rtol=1e-5)
    np.testing.assert_allclose(ours["area_mm2"], ref["area_mm2"], rtol=1e-6)
    # and the layer list carries the network's own MACs, in its own shapes
    assert sum(l.macs for l in arch.accelerator_layers()) == arch.macs
    assert sum(l.macs for l in arch.accelerator_layers(64)) == 64 * arch.macs
    cols = {"depth": [3], "width": [8], "growth": [2], "kernel": [5], "pool": ["none"]}
    assert network_macs(cols)[0] == arch.macs


def test_lower_precision_is_faster_cheaper_and_less_accurate():
    p = dsegym.make("quant-digits", **FAST)
    base = p.space.sample(30, seed=0)
    hi = p.evaluate([{**d, **{f"wbits_{i}": 8 for i in range(3)}, "abits": 8} for d in base])
    lo = p.evaluate([{**d, **{f"wbits_{i}": 2 for i in range(3)}, "abits": 4} for d in base])
    assert (lo["latency_ms"] <= hi["latency_ms"] * (1 + 1e-9)).all()
    assert (lo["energy_uj"] < hi["energy_uj"]).all()
    assert (lo["accuracy"] < hi["accuracy"] - 0.05).all()  # 2-bit PTQ clearly worse
    assert np.allclose(lo["area_mm2"], hi["area_mm2"])  # the same 8x8 fusion units


@pytest.mark.parametrize("pid,n,opts", [("quant-digits", 40, FAST), ("codesign-digits", 40, BRIEF)])
def test_no_value_of_any_knob_is_free(pid, n, opts):
    shares = free_knobs(dsegym.make(pid, **opts), n, max_values=4, min_kept=10)
    assert len(shares) > 20
    bad = [(k, v, round(s, 3)) for k, v, s in shares if s >= FREE_SHARE]
    assert not bad, f"{pid}: free knob values {bad}"


def test_forms_and_bad_options():
    designs = dsegym.make("quant-digits", **FAST).space.sample(20, seed=1)
    limit = float(np.median(dsegym.make("quant-digits", **FAST).evaluate(designs)["latency_ms"]))
    c = dsegym.make("quant-digits", form="constrained", latency_limit_ms=limit, **FAST)
    assert [o.metric for o in c.optimised] == ["accuracy"]
    r = c.evaluate(designs)
    feasible = c.feasible(r)
    assert feasible.any() and not feasible.all()
    assert (feasible == (r["latency_ms"] <= limit).to_numpy()).all()
    s = c.score(r)
    assert s[feasible].max() < s[~feasible].min()  # every feasible design beats every infeasible one
    for kwargs, match in [({"form": "constrained"}, "needs at least one"), ({"form": "best"}, "form must be"),
                          ({"seeds": 0}, "seeds must be"), ({"tech_nm": 3}, "tech_nm must be"),
                          ({"latency_limit_ms": float("nan")}, "finite number"),
                          ({"min_accuracy": 2.0}, "fraction"), ({"quantization": "int4"}, "quantization must")]:
        with pytest.raises(ConfigError, match=match):
            dsegym.make("quant-digits", **{**FAST, **kwargs})
    with pytest.raises(ConfigError, match="fidelity must be"):
        dsegym.make("codesign-digits", fidelity="oracle")


def test_proxy_fidelity_is_labelled_as_a_proxy():
    p = dsegym.make("codesign-digits", fidelity="synflow", cache_dir=CACHE)
    assert [o.metric for o in p.optimised][0] == "proxy_synflow"
    r = p.evaluate(p.space.sample(3, seed=0))
    assert "accuracy" not in r.columns and np.isfinite(r["proxy_synflow"]).all()


@pytest.mark.parametrize("pid", ["quant-digits", "codesign-digits"])
def test_env_checkers(pid):
    import gymnasium as gym
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    from dsegym.env import DesignEnv

    problem = dsegym.make(pid, **BRIEF)
    env = DesignEnv(problem, episode_length=4)
    check_env(env, skip_render_check=True)
    sb3_check_env(DesignEnv(problem, episode_length=4), warn=False)
    env = gym.make(f"dsegym/{pid}", problem_kwargs=BRIEF)
    obs, _ = env.reset(seed=0)
    _, reward, *_ = env.step(env.action_space.sample())
    assert np.isfinite(reward)


def test_every_agent_runs_on_both_problems():
    from dsegym import agents

    quant = dsegym.make("quant-digits", **FAST)
    joint = dsegym.make("codesign-digits", fidelity="params", cache_dir=CACHE)
    brief = dsegym.make("codesign-digits", **BRIEF)
    for name in agents.list_agents():
        for problem in (quant, joint, brief):
            if name == "grid":
                continue  # the joint grids have 1e13 points; grid refuses them by design
            with agents.make(name, problem, seed=0) as agent:
                for _ in range(2):
                    batch = agent.ask(3)
                    agent.tell(batch, problem.evaluate(batch))
                design, _ = agent.best()
                problem.space.validate(design)
