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


@pytest.fixture(scope="module")
def my_cache():
    """examples/my_cache_space.py, imported from its own file as a user would."""
    import importlib.util
    path = __import__("pathlib").Path(__file__).parents[1] / "examples" / "my_cache_space.py"
    spec = importlib.util.spec_from_file_location("my_cache_space", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dsegym.make("my-cache")


@pytest.mark.parametrize("name", __import__("dsegym.agents", fromlist=["list_agents"]).list_agents())
def test_every_agent_runs_on_the_one_file_space(name, my_cache):
    """The README's promise: one file declares a space and every agent works on it."""
    from dsegym.agents import make as make_agent
    from dsegym.agents import run_search

    hp = {"n_init": 4} if name == "surrogate" else {}
    with make_agent(name, my_cache, seed=0, **hp) as agent:
        history = run_search(agent, budget=12, batch_size=3)
    assert len(history) == 12 and np.isfinite(history["score"]).all()
    assert my_cache.space.valid_mask(history[my_cache.space.names]).all()
    assert set(history.columns) >= {"latency_cycles", "energy_pj", "area_mm2"}


def test_every_env_runs_on_the_one_file_space(my_cache):
    """Gymnasium (both envs, through gym.make and Gymnasium's and SB3's checkers) and PettingZoo."""
    import gymnasium as gym
    from gymnasium.utils.env_checker import check_env
    from pettingzoo.test import parallel_api_test
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    from dsegym.env import DesignEnv, ParallelDesignEnv, SequentialDesignEnv

    check_env(gym.make("dsegym/my-cache").unwrapped, skip_render_check=True)
    for env in (DesignEnv(my_cache, episode_length=4), SequentialDesignEnv(my_cache)):
        check_env(env, skip_render_check=True)
        sb3_check_env(env, warn=False)
    for agents in ("group", "parameter"):
        parallel_api_test(ParallelDesignEnv(my_cache, agents=agents, episode_length=3), num_cycles=10)


def test_the_one_file_space_works_from_the_cli(capsys):
    """No packaging: ``--import FILE`` and a ``module:factory`` id."""
    import json

    from dsegym.cli import main

    path = str(__import__("pathlib").Path(__file__).parents[1] / "examples" / "my_cache_space.py")
    assert main(["--import", path, "describe", "my-cache", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["space_size"] == 270
    assert main(["--import", path, "evaluate", "my_cache_space:make_my_cache", "-d", "ways=2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["design"]["ways"] == 2


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


def _fake_plugin(tmp_path):
    """An installed-looking distribution with a factory that needs an option, and a registrar."""
    pkg = tmp_path / "dsegym_fake_noc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        import pandas as pd
        from dsegym import DesignSpace, Integer, Objective, Problem, register
        BUILT = []

        def make_noc(mesh):  # a required option: discovery must not call it
            BUILT.append(mesh)
            space = DesignSpace([Integer("vcs", 1, 4)])
            sim = lambda df: pd.DataFrame({"latency_cycles": mesh * 10.0 / df["vcs"]})
            return Problem("my-noc", space, sim, [Objective("latency_cycles")])

        def register_more():
            register("my-noc-4x4", make_noc, kwargs={"mesh": 4}, description="4x4 mesh")
    '''))
    dist = tmp_path / "dsegym_fake_noc-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: dsegym-fake-noc\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[dsegym.problems]\nmy-noc = dsegym_fake_noc:make_noc\n"
                                           "more = dsegym_fake_noc:register_more\n")


def _python(code: str, tmp_path) -> str:
    import os
    import subprocess
    root = str(__import__("pathlib").Path(__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), root])}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_dsegym_does_not_import_gymnasium_yet_gym_make_works_both_orders(tmp_path):
    _fake_plugin(tmp_path)
    out = _python('''
        import sys, dsegym
        print("gymnasium" in sys.modules)
        import gymnasium as gym
        print(gym.make("dsegym/toy-accel").unwrapped.problem.id)
        print(gym.make("dsegym/my-noc", problem_kwargs={"mesh": 2}).unwrapped.problem.evaluate([{"vcs": 2}])
              ["latency_cycles"][0])
    ''', tmp_path)
    assert out.split() == ["False", "toy-accel", "10.0"]
    out = _python('''
        import gymnasium as gym, dsegym
        print(gym.make("dsegym/my-noc-4x4").unwrapped.problem.id)
        print(gym.make("dsegym/my-noc", problem_kwargs={"mesh": 3}).unwrapped.problem.id)
    ''', tmp_path)
    assert out.split() == ["my-noc-4x4", "my-noc"]


def test_plugin_factories_register_without_building(tmp_path):
    _fake_plugin(tmp_path)
    out = _python('''
        import dsegym, dsegym_fake_noc
        from dsegym.cli import main
        main(["list", "--tag", "plugin"])
        print("built", dsegym_fake_noc.BUILT)
        print(dsegym.make("my-noc", mesh=8).evaluate([{"vcs": 4}])["latency_cycles"][0])
        try:
            dsegym.make("my-noc")
        except dsegym.ConfigError as e:
            print("error:", e)
    ''', tmp_path)
    assert "my-noc " in out and "built []" in out and "20.0" in out
    assert "error: problem 'my-noc' needs the option 'mesh'" in out
