"""Agent registry: names to lazily imported classes, so listing agents imports no heavy library.

Each agent module imports its heavy dependency (optuna, torch, stable-baselines3) inside methods.
"""
from __future__ import annotations

import importlib
from typing import Any

from ..errors import ConfigError, UnknownIdError

# name -> "module:Class" (relative to dsegym.agents); a new agent adds one line here.
_AGENTS: dict[str, str] = {
    "random": "random_search:RandomSearch",
    "grid": "grid_search:GridSearch",
    "ga": "genetic:GeneticAlgorithm",
    "aco": "ant_colony:AntColony",
    "sa": "annealing:SimulatedAnnealing",
    "tpe": "optuna_agents:TPE",
    "gp": "optuna_agents:GaussianProcess",
    "cmaes": "optuna_agents:CMAES",
    "nsga2": "optuna_agents:NSGAII",
    "nsga3": "optuna_agents:NSGAIII",
    "motpe": "optuna_agents:MOTPE",
    "ppo": "rl:PPO",
    "a2c": "rl:A2C",
    "dqn": "rl:DQN",
    "sac": "rl:SAC",
    "marl": "marl:MultiAgentRL",
    "surrogate": "surrogate:SurrogateSearch",
    "surrogate-mlp": "dsegym.predictors.agents:SurrogateMLP", "surrogate-transformer": "dsegym.predictors.agents:SurrogateTransformer", "surrogate-gnn": "dsegym.predictors.agents:SurrogateGNN",  # noqa: E501
}


def register_agent(name: str, target: str | type, overwrite: bool = False) -> None:
    """Register an agent class (or a lazy ``"module:Class"`` string) under ``name``."""
    if name in _AGENTS and not overwrite:
        raise ConfigError(f"agent '{name}' is already registered (pass overwrite=True to replace it)")
    _AGENTS[name] = target


def agent_class(name: str) -> type:
    """The agent class registered under ``name`` (imports its module); UnknownIdError otherwise."""
    try:
        target = _AGENTS[name]
    except KeyError:
        raise UnknownIdError("agent", name, _AGENTS) from None
    if isinstance(target, type):
        return target
    module, _, cls = target.partition(":")
    full = module if "." in module and not module.startswith(".") else f"{__package__}.{module}"
    return getattr(importlib.import_module(full), cls)


def list_agents() -> list[str]:
    """Names of every registered agent, sorted."""
    return sorted(_AGENTS)


def agent_info(name: str) -> dict[str, Any]:
    """The :meth:`Agent.info` dict of agent ``name``."""
    return agent_class(name).info()


def make(name: str, problem, seed: int | None = None, **hparams: Any):
    """Build agent ``name`` on ``problem`` (a Problem or a registered id)."""
    cls = agent_class(name)
    if isinstance(problem, str):
        from ..registry import make as make_problem
        problem = make_problem(problem)
    return cls(problem, seed=seed, **hparams)
