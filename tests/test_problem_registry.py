"""Problem scoring and Pareto logic against brute force; the registry and plugin discovery."""
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import dsegym
from dsegym.errors import ConfigError, UnknownIdError
from dsegym.problem import Objective, Problem, pareto_mask
from dsegym.space import DesignSpace, Integer


def quadratic_problem(**objective_kwargs):
    space = DesignSpace([Integer("x", 1, 9, default=5), Integer("y", 1, 9, default=5)])

    def sim(df):
        x, y = df["x"].to_numpy(float), df["y"].to_numpy(float)
        return pd.DataFrame({"latency_cycles": 10.0 * x, "energy_uj": 100.0 / x + y, "area_mm2": x * y})

    return Problem("quad", space, sim, [Objective("latency_cycles"), Objective("energy_uj", **objective_kwargs)])


def test_evaluate_accepts_dicts_and_frames_and_calls_the_simulator_once():
    calls = []
    p = quadratic_problem()
    inner = p.simulator
    p.simulator = lambda df: calls.append(len(df)) or inner(df)
    a = p.evaluate([{"x": 2, "y": 3}, {"x": 4}])
    b = p.evaluate(pd.DataFrame({"x": [2, 4], "y": [3, 5]}))
    pd.testing.assert_frame_equal(a, b)
    assert calls == [2, 2]
    assert a["latency_cycles"].tolist() == [20.0, 40.0]


def test_score_is_log_of_the_weighted_product():
    p = quadratic_problem()
    r = p.evaluate([{"x": 2, "y": 3}])
    lat, en = r["latency_cycles"][0], r["energy_uj"][0]
    assert p.score(r)[0] == pytest.approx(np.log(lat * en))
    assert p.score(r, {"energy_uj": 2.0})[0] == pytest.approx(np.log(lat * en ** 2))
    with pytest.raises(ConfigError, match="area_mm2"):
        p.score(r, {"area_mm2": 1.0})


def test_limits_penalise_only_infeasible_designs():
    p = quadratic_problem(limit=30.0)
    r = p.evaluate([{"x": 5, "y": 1}, {"x": 1, "y": 1}])  # energy 21 (ok) and 101 (over)
    assert p.feasible(r).tolist() == [True, False]
    assert p.violation(r)[1] == pytest.approx(np.log(101 / 30))
    assert p.score(r)[1] > p.score(r)[0]


def test_maximised_objectives_flip_sign():
    space = DesignSpace([Integer("x", 1, 4)])
    p = Problem("m", space, lambda df: pd.DataFrame({"accuracy": df["x"] / 4.0}), [Objective("accuracy", "max")])
    s = p.score(p.evaluate([{"x": 1}, {"x": 4}]))
    assert s[1] < s[0]


def test_pareto_mask_matches_brute_force():
    rng = np.random.default_rng(0)
    costs = rng.integers(0, 6, size=(300, 3)).astype(float)
    brute = [not any((costs[j] <= costs[i]).all() and (costs[j] < costs[i]).any() for j in range(len(costs)))
             for i in range(len(costs))]
    assert pareto_mask(costs).tolist() == brute


def test_objective_requires_a_unit_and_a_direction():
    with pytest.raises(ConfigError, match="unit"):
        Objective("speed")
    with pytest.raises(ConfigError, match="direction"):
        Objective("energy_uj", "smaller")
    assert Objective("speed", unit="x").unit == "x"


def test_registry_make_list_and_unknown_ids():
    assert {"toy-accel", "toy-rastrigin"} <= set(dsegym.list_problems())
    assert dsegym.list_problems(tag="toy") == ["toy-accel", "toy-rastrigin"]
    with pytest.raises(UnknownIdError, match="did you mean 'toy-accel'"):
        dsegym.make("toy-acel")
    with pytest.raises(ConfigError, match="toy-accel"):
        dsegym.make("toy-accel", no_such_option=1)
    with pytest.raises(ConfigError, match="already registered"):
        dsegym.register("toy-accel", lambda: None)


def test_one_file_space_registers_everywhere(tmp_path, monkeypatch):
    """The design's promise: one file declares a space and every tool works on it."""
    import gymnasium as gym
    from gymnasium.utils.env_checker import check_env

    from dsegym.agents import make as make_agent
    from dsegym.agents import run_search

    source = (__import__("pathlib").Path(__file__).parents[1] / "examples" / "my_cache_space.py").read_text()
    path = tmp_path / "my_cache_space.py"
    path.write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("my_cache_space")
    problem = dsegym.make("my-cache")
    check_env(gym.make("dsegym/my-cache").unwrapped, skip_render_check=True)
    agent = make_agent("random", problem, seed=0)
    history = run_search(agent, budget=20, batch_size=5)
    assert len(history) == 20 and history["score"].notna().all()


def test_entry_point_plugins_are_found_without_an_import(tmp_path, monkeypatch):
    pkg = tmp_path / "dsegym_plugin_demo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        import pandas as pd
        from dsegym import DesignSpace, Integer, Objective, Problem, register

        def make_plugin_problem():
            space = DesignSpace([Integer("n", 1, 4)])
            sim = lambda df: pd.DataFrame({"latency_cycles": df["n"] * 2.0})
            return Problem("plugin-factory", space, sim, [Objective("latency_cycles")])

        def register_all():
            register("plugin-registered", make_plugin_problem, description="registered by a callable")
    '''))
    dist = tmp_path / "dsegym_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: dsegym-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[dsegym.problems]\nplugin-factory = dsegym_plugin_demo:make_plugin_problem\n"
        "plugin-registrar = dsegym_plugin_demo:register_all\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from dsegym import registry
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    ids = dsegym.list_problems()
    assert "plugin-factory" in ids and "plugin-registered" in ids
    assert dsegym.make("plugin-factory").evaluate([{"n": 3}])["latency_cycles"][0] == 6.0
    import gymnasium as gym
    assert gym.make("dsegym/plugin-registered").unwrapped.problem.id == "plugin-registered"
    sys.modules.pop("dsegym_plugin_demo", None)
