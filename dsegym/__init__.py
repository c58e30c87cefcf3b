"""dsegym: a gym for hardware design-space exploration with learned cost models.

A design space is declared once (:mod:`dsegym.space`); every simulator, agent, Gymnasium and
PettingZoo env, dataset, predictor and leaderboard derives from that declaration.

>>> import dsegym
>>> problem = dsegym.make("accel-resnet18")
>>> results = problem.evaluate(problem.space.sample(4, seed=0))
>>> list(results.columns[:3])
['latency_cycles', 'energy_uj', 'area_mm2']
"""
from . import envs as _builtin_families  # noqa: F401  (registers every built-in problem, lazily)
from .errors import (
    ConfigError,
    ConstraintViolation,
    DatasetError,
    DsegymError,
    InvalidActionError,
    InvalidDesignError,
    SimulationError,
    TopologyFormatError,
    TraceFormatError,
    UnknownIdError,
)
from .problem import Objective, Problem, pareto_mask
from .registry import _install_gymnasium_registration, list_problems, make, register
from .space import Categorical, Constraint, DesignSpace, Float, Integer, Ordinal, PowerOfTwo

__version__ = "0.1.0"

__all__ = [
    "Categorical", "ConfigError", "Constraint", "ConstraintViolation", "DatasetError", "DesignSpace",
    "DsegymError", "Float", "Integer", "InvalidActionError", "InvalidDesignError", "Objective", "Ordinal",
    "PowerOfTwo", "Problem", "SimulationError", "TopologyFormatError", "TraceFormatError", "UnknownIdError",
    "list_problems", "make", "pareto_mask", "register",
]

_install_gymnasium_registration()  # Gymnasium ids now if gymnasium is loaded, else when it is imported
