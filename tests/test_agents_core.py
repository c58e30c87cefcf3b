"""The agent interface: registry errors, hyperparameters, info(), batching, grid enumeration, GA operators,
Optuna agents' handling of constraints, and the Pareto sets of the multi-objective agents."""
from __future__ import annotations

import functools
import itertools

try:  # conftest-free: single-threaded torch keeps the RL and GP agents fast and reproducible
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass

import numpy as np
import pandas as pd
import pytest

import dsegym
from dsegym.agents import agent_class, agent_info, list_agents, make, run_search
from dsegym.errors import ConfigError, UnknownIdError
from dsegym.problem import Objective, Problem, pareto_mask
from dsegym.space import Categorical, Constraint, DesignSpace, Float, Integer, Ordinal, PowerOfTwo

# The agents written in this module's sibling files (the RL, MARL and surrogate agents have their own
# tests in test_agents_rl.py and friends; the interface checks below run on every agent).
CLASSIC = ["grid", "ga", "aco", "sa", "tpe", "gp", "cmaes", "nsga2", "nsga3", "motpe"]



def _close(agent) -> None:
    agent.close()


@functools.lru_cache(maxsize=None)
def toy(problem_id: str):
    return dsegym.make(problem_id)


def mixed_problem() -> Problem:
    """Every parameter kind (stepped and log integers, categorical, ordinal, power of two, float) and a
    constraint that rejects about a quarter of the grid."""
    space = DesignSpace([
        Integer("lanes", 2, 29, step=3, default=5),
        Integer("rows", 1, 300, log=True, default=16),
        Categorical("mode", ["a", "b", "c", "d"]),
        Ordinal("bits", [2, 4, 8, 16], default=8),
        PowerOfTwo("kb", 4, 512, default=32),
        Float("ghz", 0.5, 2.0, bins=5, default=1.0),
    ], constraints=[Constraint("budget", lambda d: d["rows"] * d["bits"] <= 1200, "rows * bits <= 1200")])

    def simulate(df):
        rows = df["rows"].to_numpy(float)
        lanes = df["lanes"].to_numpy(float)
        mode = df["mode"].map({"a": 1.0, "b": 0.8, "c": 1.3, "d": 1.1}).to_numpy(float)
        lat = 1e5 * mode / (rows * lanes * df["ghz"].to_numpy(float)) + 100.0 / np.log2(df["kb"].to_numpy(float))
        energy = df["bits"].to_numpy(float) * (1.0 + rows / 50.0) + df["kb"].to_numpy(float) / 100.0
        return pd.DataFrame({"latency_cycles": lat, "energy_uj": energy})

    return Problem("mixed", space, simulate, [Objective("latency_cycles"), Objective("energy_uj")])


# --- registry, hyperparameters, info --------------------------------------------------------------------
def test_unknown_agent_suggests_a_name():
    with pytest.raises(UnknownIdError, match=r"unknown agent 'tpee'; did you mean 'tpe'\?"):
        make("tpee", toy("toy-accel"))
    with pytest.raises(UnknownIdError, match="did you mean 'nsga2'"):
        agent_class("nsga-2")


@pytest.mark.parametrize("name", list_agents())
def test_unknown_hyperparameter_names_the_allowed_ones(name):
    cls = agent_class(name)
    with pytest.raises(ConfigError) as err:
        make(name, toy("toy-accel"), seed=0, not_a_knob=3)
    message = str(err.value)
    assert "not_a_knob" in message
    for hp in cls.hyperparameters:
        assert hp in message


@pytest.mark.parametrize("name", list_agents())
def test_info_is_complete(name):
    info = agent_info(name)
    assert set(info) >= {"name", "family", "multi_objective", "hyperparameters", "sweep", "description"}
    assert info["name"] == name
    assert isinstance(info["family"], str) and info["family"]
    assert isinstance(info["description"], str) and len(info["description"]) > 20
    assert isinstance(info["multi_objective"], bool)
    assert isinstance(info["hyperparameters"], dict)
    if name == "random":
        assert info["sweep"] == {}
        return
    # A small sweep: 1-2 key hyperparameters with 2-4 settings each, each a declared hyperparameter.
    sweep = info["sweep"]
    assert 1 <= len(sweep) <= 2, sweep
    assert set(sweep) <= set(info["hyperparameters"]), sweep
    for values in sweep.values():
        assert 2 <= len(values) <= 4, sweep
        assert len(set(map(repr, values))) == len(values)


@pytest.mark.parametrize("name", CLASSIC)
def test_every_sweep_setting_builds_and_runs(name):
    sweep = agent_info(name)["sweep"]
    for values in itertools.product(*sweep.values()):
        hp = dict(zip(sweep, values))
        agent = make(name, toy("toy-accel"), seed=1, **hp)
        history = run_search(agent, budget=12, batch_size=4)
        assert len(history) == 12
        _close(agent)


@pytest.mark.parametrize("name", ["ga", "aco", "sa", "grid", "cmaes", "tpe", "nsga2"])
def test_bad_hyperparameter_values_are_config_errors(name):
    bad = {"ga": {"crossover": "two_point"}, "aco": {"evaporation": 1.5}, "sa": {"cooling": 1.2},
           "grid": {"order": "random"}, "cmaes": {"popsize": 1}, "tpe": {"n_startup_trials": -1},
           "nsga2": {"population_size": 1}}[name]
    with pytest.raises((ConfigError, ValueError)):
        make(name, toy("toy-accel"), seed=0, **bad)


# --- ask/tell contract -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list_agents())
def test_batches_of_any_size_stay_valid(name):
    problem = mixed_problem()
    agent = make(name, problem, seed=5)
    try:
        # 37 is larger than every default population, colony or startup phase.
        for n in (37, 1, 5):
            designs = agent.ask(n)
            assert len(designs) == n
            assert problem.space.valid_mask(designs).all()
            agent.tell(designs, problem.evaluate(designs))
        with pytest.raises(ConfigError):
            agent.ask(0)
    finally:
        _close(agent)


@pytest.mark.parametrize("name", CLASSIC)
def test_same_seed_same_designs_with_batches(name):
    problem = mixed_problem()
    budget = 17 if name == "gp" else 30  # each GP proposal refits the GP: ~0.5 s on this 6-d space
    runs = []
    for _ in range(2):
        agent = make(name, problem, seed=11)
        runs.append(run_search(agent, budget=budget, batch_size=7))
    pd.testing.assert_frame_equal(runs[0], runs[1])
    other = run_search(make(name, problem, seed=12), budget=budget, batch_size=7)
    assert not runs[0][problem.space.names].equals(other[problem.space.names])


@pytest.mark.parametrize("name", ["ga", "aco", "sa", "tpe", "cmaes", "nsga2", "nsga3", "motpe"])
def test_no_design_is_evaluated_twice(name):
    problem = toy("toy-accel")
    history = run_search(make(name, problem, seed=2), budget=80, batch_size=3)
    assert not history[problem.space.names].duplicated().any()


def test_agents_accept_designs_they_did_not_ask_for():
    problem = toy("toy-accel")
    seeds = problem.space.sample(6, seed=0)
    for name in CLASSIC:
        agent = make(name, problem, seed=0)
        agent.tell(seeds, problem.evaluate(seeds))
        designs = agent.ask(4)
        assert problem.space.valid_mask(designs).all(), name
        assert agent.n_told == 6


# --- grid search ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("order", ["shuffled", "index"])
def test_grid_enumerates_every_valid_design_once(order):
    problem = toy("toy-accel")
    agent = make("grid", problem, seed=0, order=order)
    history = run_search(agent, budget=420, batch_size=64)
    names = problem.space.names
    seen = [tuple(r) for r in history[names].itertuples(index=False)]
    truth = [tuple(d[n] for n in names) for d in problem.space.enumerate()]
    assert len(seen) == len(set(seen)) == 420
    assert set(seen) == set(truth)
    if order == "index":
        assert seen == truth
    else:
        assert seen != truth
    # A further ask starts a second pass.
    assert agent.ask(1)[0] == dict(zip(names, seen[0]))


def test_grid_float_parameters_use_their_bins():
    problem = mixed_problem()
    agent = make("grid", problem, seed=0)
    ghz = {d["ghz"] for d in agent.ask(3000)}
    assert ghz <= set(np.linspace(0.5, 2.0, 5).tolist())


def test_grid_refuses_large_spaces():
    with pytest.raises(ConfigError, match=r"50,625 grid points.*max_size=1,000"):
        make("grid", toy("toy-rastrigin"), max_size=1000)


# --- GA operators -----------------------------------------------------------------------------------------
def test_ga_variation_never_leaves_the_declared_ranges():
    problem = mixed_problem()
    agent = make("ga", problem, seed=3, max_step=3, mutation_rate=0.7)
    nvec = problem.space.nvec
    rng = np.random.default_rng(0)
    for _ in range(3000):
        a = rng.integers(0, nvec)
        b = rng.integers(0, nvec)
        for kind in ("uniform", "one_point"):
            child = agent._crossover(a, b, kind)
            assert ((child == a) | (child == b)).all()
            assert ((0 <= child) & (child < nvec)).all()
        m = agent._mutate(a, agent._rate, 3)
        assert ((0 <= m) & (m < nvec)).all()
        assert (m != a).any()  # at least one gene changes
        # ordered genes move by at most max_step, categoricals to another choice
        ordered = agent._ordered
        assert (np.abs(m - a)[ordered] <= 3).all()
    history = run_search(agent, budget=80, batch_size=8)
    assert problem.space.valid_mask(history[problem.space.names]).all()
    for p in problem.space.params:
        assert history[p.name].isin(p.value_at(np.arange(p.cardinality)).tolist()).all(), p.name


def test_ga_elitism_keeps_the_best_design():
    problem = toy("toy-rastrigin")
    agent = make("ga", problem, seed=0, population_size=8, elitism=2)
    best = np.inf
    for _ in range(12):
        designs = agent.ask(8)
        agent.tell(designs, problem.evaluate(designs))
        if agent._population:
            pop_best = min(agent._score_list[r] for r in agent._population)
            best = min(best, pop_best)
            assert pop_best <= best + 1e-12


def test_ga_selection_mode_follows_the_problem():
    assert make("ga", toy("toy-accel"))._mo is True
    assert make("ga", toy("toy-rastrigin"))._mo is False
    assert make("ga", toy("toy-accel"), selection="scalar")._mo is False


def test_nsga2_ranking_helpers():
    from dsegym.agents.pareto_ranking import crowding_distance, non_dominated_ranks, nsga2_order

    costs = np.array([[1, 5], [2, 4], [3, 3], [2, 5], [4, 4], [5, 5]], dtype=float)
    ranks = non_dominated_ranks(costs)
    assert ranks.tolist() == [0, 0, 0, 1, 1, 2]
    assert (ranks == 0).tolist() == pareto_mask(costs).tolist()
    # constrained domination: an infeasible design ranks after every feasible one
    ranks = non_dominated_ranks(costs, violation=np.array([0, 0, 0, 0, 0.5, 0]))
    assert ranks[4] == ranks.max()
    crowd = crowding_distance(costs[:3])
    assert np.isinf(crowd[0]) and np.isinf(crowd[2]) and np.isfinite(crowd[1])
    order, _, _ = nsga2_order(costs)
    assert set(order[:3].tolist()) == {0, 1, 2}


# --- annealing and ant colony --------------------------------------------------------------------------------
def test_sa_restarts_and_cools():
    problem = toy("toy-rastrigin")
    agent = make("sa", problem, seed=0, restart_after=10, cooling=0.8)
    run_search(agent, budget=150)
    assert agent.restarts >= 1
    assert agent.temperature <= agent.hp["initial_temperature"]


def test_aco_pheromone_concentrates_on_good_values():
    problem = toy("toy-rastrigin")
    agent = make("aco", problem, seed=0)
    run_search(agent, budget=200, batch_size=8)
    assert agent.colonies >= 20
    best = problem.space.to_index(agent.best()[0])
    for j, tau in enumerate(agent.tau):
        assert tau.min() >= agent.hp["tau_min"] - 1e-12 and tau.max() <= agent.hp["tau_max"] + 1e-12
        assert tau[best[j]] > np.median(tau)


# --- Optuna agents ------------------------------------------------------------------------------------------
def test_optuna_agents_never_return_infeasible_designs():
    # toy-accel's constraint (pes * bits <= 512) rejects 21 of 441 grid points; the mixed space a quarter.
    for problem in (toy("toy-accel"), mixed_problem()):
        for name in ["tpe", "cmaes", "nsga2", "nsga3", "motpe"]:
            agent = make(name, problem, seed=4)
            history = run_search(agent, budget=60, batch_size=4)
            assert problem.space.valid_mask(history[problem.space.names]).all(), (name, problem.id)


def test_optuna_studies_use_the_right_directions_and_encoding():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    accel = toy("toy-accel")
    assert len(make("nsga2", accel).study.directions) == 3
    assert len(make("motpe", accel).study.directions) == 3
    assert len(make("tpe", accel).study.directions) == 1
    tpe = make("tpe", accel)
    assert isinstance(tpe._dists["dataflow"], CategoricalDistribution)
    assert isinstance(tpe._dists["bits"], IntDistribution)  # ordinal: by index, order kept
    cma = make("cmaes", accel)
    assert all(isinstance(d, FloatDistribution) and (d.low, d.high) == (0.0, 1.0) for d in cma._dists.values())
    # no "independent sampling" fallback: every parameter is in the CMA-ES model
    history = run_search(cma, budget=30)
    study_params = {k for t in cma.study.trials for k in t.params}
    assert study_params == set(accel.space.names)
    assert len(history) == 30


def test_limits_become_optuna_constraints():
    problem = dsegym.make("toy-accel", area_limit_mm2=1.0)
    agent = make("nsga2", problem, seed=0)
    history = run_search(agent, budget=40, batch_size=5)
    told = [t for t in agent.study.trials if t.values is not None]
    assert all("limits" in t.constraints for t in told)
    viol = problem.violation(history)
    assert (viol > 0).any()
    pareto = agent.pareto()
    assert (problem.violation(pareto) <= 0).all()


# --- multi-objective agents: Pareto sets ------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def true_front() -> frozenset:
    problem = toy("toy-accel")
    designs = list(problem.space.enumerate())
    mask = problem.pareto_mask(problem.evaluate(designs))
    names = problem.space.names
    return frozenset(tuple(d[n] for n in names) for d, m in zip(designs, mask) if m)


def _front_fraction(name: str, seed: int, budget: int) -> tuple[float, pd.DataFrame, pd.DataFrame]:
    problem = toy("toy-accel")
    agent = make(name, problem, seed=seed)
    history = run_search(agent, budget=budget, batch_size=1)
    pareto = agent.pareto()
    found = {tuple(r) for r in pareto[problem.space.names].itertuples(index=False)}
    _close(agent)
    return len(found & true_front()) / len(true_front()), pareto, history


MO_AGENTS = [n for n in CLASSIC if agent_class(n).multi_objective]


def test_multi_objective_agents_are_declared():
    assert set(MO_AGENTS) == {"ga", "nsga2", "nsga3", "motpe"}


@pytest.mark.parametrize("name", MO_AGENTS)
def test_pareto_sets_are_non_dominated_and_cover_the_front(name):
    problem = toy("toy-accel")
    budget, seeds = 150, range(3)
    fractions, random_fractions = [], []
    for seed in seeds:
        frac, pareto, history = _front_fraction(name, seed, budget)
        fractions.append(frac)
        random_fractions.append(_front_fraction("random", seed, budget)[0])
        # Only non-dominated designs: none is dominated by any design the agent evaluated.
        costs = problem.objective_matrix(history)
        for row in problem.objective_matrix(pareto):
            dominated = np.all(costs <= row, axis=1) & np.any(costs < row, axis=1)
            assert not dominated.any()
        assert len(pareto) == problem.pareto_mask(history).sum()
    # The true front has 38 of 420 designs; with 150 evaluations random search finds about a third.
    assert np.mean(fractions) >= 0.6, (name, fractions)
    assert np.mean(fractions) > np.mean(random_fractions), (name, fractions, random_fractions)


@pytest.mark.parametrize("name", list_agents())
def test_hyperparameter_defaults_and_sweeps_pass_their_own_rules(name):
    """Every default and every sweep value an agent declares is one its rules accept."""
    from dsegym.agents import agent_class
    from dsegym.agents.hparams import check_hparams
    cls = agent_class(name)
    check_hparams(name, cls.hyperparameters, cls.hyperparameters, cls.hparam_rules)
    for key, values in cls.sweep.items():
        for value in values:
            check_hparams(name, {key: value}, cls.hyperparameters, cls.hparam_rules)
    # Every hyperparameter has a rule, declared or inferred from a default that is not None.
    unchecked = [k for k, v in cls.hyperparameters.items() if v is None and k not in cls.hparam_rules]
    assert not unchecked, f"{name}: hyperparameters without a rule: {unchecked}"
