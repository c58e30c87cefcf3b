"""Genetic algorithm over the index encoding (the index-space machinery lives in :mod:`.index_agent`).

Every design is a vector of grid indices (``space.to_index``), one per parameter, so the GA searches
exactly the ranges the space declares (Float parameters on their ``bins`` grid). Variation is typed:
a categorical gene mutates to another choice, an ordered gene (Integer, Ordinal, PowerOfTwo, Float bins)
steps by ``+/-k`` grid positions. Offspring that break a constraint are re-drawn a few times and then
repaired with :meth:`Agent._repair`. Designs already evaluated are never proposed again while unseen ones
can be found, so no simulator evaluation is spent twice.

On a problem with more than one optimised objective the GA (``selection="auto"``) ranks by NSGA-II
non-dominated sorting with crowding distance over the log-costs (Deb et al. 2002, constrained domination
for limit violations); otherwise it minimises :meth:`Problem.score`.

>>> import dsegym
>>> from dsegym.agents import make, run_search
>>> agent = make("ga", dsegym.make("toy-rastrigin"), seed=0, population_size=8)
>>> len(run_search(agent, budget=24, batch_size=4))
24
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .hparams import Choice, Int, Real
from .index_agent import IndexAgent
from .pareto_ranking import crowding_distance, non_dominated_ranks, nsga2_order  # noqa: F401  (old import path)

# Children equal to an evaluated design, taken into the offspring for free, per asked design.
_FREE_CHILDREN = 64


class GeneticAlgorithm(IndexAgent):
    """Generational GA with tournament selection, typed crossover/mutation and elitism.

    ``ask`` before the first ``population_size`` designs are told returns random designs (the initial
    population); afterwards each asked design is a child of two tournament winners. A generation closes
    when ``population_size - elitism`` children have been told (``population_size`` in Pareto mode, where
    survival is NSGA-II's (mu + lambda) selection).
    """

    name = "ga"
    family = "evolutionary"
    multi_objective = True
    description = ("genetic algorithm on the index encoding: tournament selection, uniform/one-point "
                   "crossover, typed mutation, elitism; NSGA-II ranking on multi-objective problems")
    hparam_rules = {"population_size": Int(2), "tournament_size": Int(1), "crossover": Choice("uniform", "one_point"),
                    "crossover_prob": Real(0, 1), "mutation_rate": Real(0, 1, optional=True), "max_step": Int(1),
                    "elitism": Int(0), "selection": Choice("auto", "scalar", "pareto")}
    hyperparameters = {
        "population_size": 12,
        "tournament_size": 2,
        "crossover": "uniform",  # or "one_point"
        "crossover_prob": 0.9,
        "mutation_rate": None,  # per-gene probability; None means 1 / number of parameters
        "max_step": 2,  # ordered genes move by up to this many grid steps
        "elitism": 2,  # best parents carried into the next generation (scalar mode)
        "selection": "auto",  # "auto": Pareto on multi-objective problems; "scalar"; "pareto"
    }
    sweep = {"population_size": [6, 24], "mutation_rate": [0.1, 0.4]}

    def __init__(self, problem, seed=None, **hparams):
        super().__init__(problem, seed=seed, **hparams)
        hp = self.hp
        if int(hp["population_size"]) < 2:
            raise ConfigError("ga: population_size must be at least 2")
        if hp["crossover"] not in ("uniform", "one_point"):
            raise ConfigError(f"ga: crossover must be 'uniform' or 'one_point', got {hp['crossover']!r}")
        if hp["selection"] not in ("auto", "scalar", "pareto"):
            raise ConfigError(f"ga: selection must be 'auto', 'scalar' or 'pareto', got {hp['selection']!r}")
        if not 0 <= int(hp["elitism"]) < int(hp["population_size"]):
            raise ConfigError("ga: elitism must be in 0..population_size-1")
        if int(hp["tournament_size"]) < 1 or int(hp["max_step"]) < 1:
            raise ConfigError("ga: tournament_size and max_step must be at least 1")
        self._pop_size = int(hp["population_size"])
        self._rate = float(hp["mutation_rate"]) if hp["mutation_rate"] is not None else 1.0 / len(self.space)
        self._mo = hp["selection"] == "pareto" or (hp["selection"] == "auto" and problem.is_multi_objective)
        self._initial: list[int] = []
        self._population: list[int] = []  # rows, best first
        self._offspring: list[int] = []
        self.generation = 0

    def _tournament(self) -> np.ndarray:
        # The population is kept best first, so the winner is the smallest position drawn.
        t = min(int(self.hp["tournament_size"]), len(self._population))
        pos = self.rng.choice(len(self._population), size=t, replace=False).min()
        return np.asarray(self._keys[self._population[pos]])

    def _child(self, attempt: int) -> np.ndarray:
        a, b = self._tournament(), self._tournament()
        child = self._crossover(a, b, self.hp["crossover"]) if self.rng.random() < self.hp["crossover_prob"] else a
        # Re-draws after a duplicate mutate harder so a converged population still finds new designs.
        rate = min(1.0, self._rate * (1 + attempt))
        return self._mutate(child, rate, int(self.hp["max_step"]) + attempt // 4)

    def _new_child(self, attempt: int) -> np.ndarray:
        # A child that was evaluated before joins the offspring with its known result at no simulator
        # cost (as a re-proposed trial does in Optuna's NSGA-II), so generations keep advancing on a
        # small or well-explored space instead of spending evaluations on duplicates.
        for _ in range(_FREE_CHILDREN):
            child = self._child(attempt)
            row = self._seen.get(self._index_key(child))
            if row is None:
                return child
            self._add_offspring(row)
        return child

    def _ask(self, n):
        if not self._population:
            return self._fresh(lambda attempt: self.space.to_index(self._sample(1)[0]), n)
        return self._fresh(self._new_child, n)

    def _tell(self, designs, results, scores):
        rows = self._record(designs, results, scores)
        for r in rows:
            if not self._population:
                self._initial.append(r)
                if len(self._initial) >= self._pop_size:
                    self._population = self._order(self._initial)[: self._pop_size]
                    self._initial = []
                continue
            self._add_offspring(r)

    def _add_offspring(self, row: int) -> None:
        self._offspring.append(row)
        need = self._pop_size if self._mo else self._pop_size - int(self.hp["elitism"])
        if len(self._offspring) >= need:
            self._next_generation()

    def _next_generation(self):
        if self._mo:  # NSGA-II: (mu + lambda) by front and crowding
            merged = list(dict.fromkeys(self._population + self._offspring))
            self._population = self._order(merged)[: self._pop_size]
        else:
            e = int(self.hp["elitism"])
            elites = self._population[:e]
            children = [r for r in self._order(list(dict.fromkeys(self._offspring))) if r not in elites]
            self._population = self._order(elites + children[: self._pop_size - e])
        self._offspring = []
        self.generation += 1
