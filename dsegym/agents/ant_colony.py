"""Ant colony optimisation with one pheromone table per parameter value, as ArchGym's ACO agent.

ArchGym's ACO (after DeepSwarm) walks a graph whose layers are the design parameters and whose nodes are
their values; each ant picks one value per layer, greedily with probability ``greediness`` and otherwise
in proportion to pheromone. Here the graph is the design space's index encoding: ``tau[j][k]`` is the
pheromone of value ``k`` of parameter ``j``. After every colony of ``ant_count`` told designs the table
evaporates (``tau <- (1 - evaporation) tau``) and the best ``elite_ants`` of the colony deposit pheromone
in proportion to their rank (rank-based Ant System, Bullnheimer et al. 1999), the best design so far
depositing as much as the colony's best. Pheromone is kept within ``[tau_min, tau_max]`` (MAX-MIN Ant
System, Stuetzle and Hoos 2000) so no value's probability ever reaches zero.

>>> import dsegym
>>> from dsegym.agents import make, run_search
>>> agent = make("aco", dsegym.make("toy-accel"), seed=0)
>>> len(run_search(agent, budget=20, batch_size=5))
20
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .hparams import Int, Real
from .index_agent import IndexAgent


class AntColony(IndexAgent):
    """Ant colony optimisation over per-parameter pheromone tables (scalar score)."""

    name = "aco"
    family = "swarm"
    multi_objective = False
    description = ("ant colony optimisation: per-value pheromone tables, evaporation, rank-based deposit "
                   "by the colony's best ants (ArchGym/DeepSwarm-style)")
    hparam_rules = {"ant_count": Int(1), "evaporation": Real(0, 1), "greediness": Real(0, 1), "alpha": Real(0),
                    "elite_ants": Int(1), "deposit": Real(0, low_open=True), "tau_min": Real(0, low_open=True),
                    "tau_max": Real(0, low_open=True)}
    hyperparameters = {
        "ant_count": 8,  # designs per colony (pheromone update period)
        "evaporation": 0.2,  # fraction of pheromone lost per colony
        "greediness": 0.2,  # probability an ant takes the strongest value of a parameter
        "alpha": 1.0,  # exponent on pheromone in the choice probabilities
        "elite_ants": 3,  # how many of a colony's best ants deposit (by rank)
        "deposit": 1.0,  # pheromone the best ant deposits on each of its values
        "tau_min": 0.05,
        "tau_max": 5.0,
    }
    sweep = {"evaporation": [0.1, 0.4], "greediness": [0.0, 0.5]}

    def __init__(self, problem, seed=None, **hparams):
        super().__init__(problem, seed=seed, **hparams)
        hp = self.hp
        if int(hp["ant_count"]) < 1 or int(hp["elite_ants"]) < 1:
            raise ConfigError("aco: ant_count and elite_ants must be at least 1")
        if not 0 <= float(hp["evaporation"]) <= 1 or not 0 <= float(hp["greediness"]) <= 1:
            raise ConfigError("aco: evaporation and greediness must lie in [0, 1]")
        if not 0 < float(hp["tau_min"]) < float(hp["tau_max"]):
            raise ConfigError("aco: need 0 < tau_min < tau_max")
        self.tau = [np.ones(int(k)) for k in self._nvec]
        self._colony: list[int] = []
        self._best_row: int | None = None
        self.colonies = 0

    def _ant(self, attempt: int) -> np.ndarray:
        """One ant's walk; re-draws after a duplicate ignore greediness and flatten the pheromone."""
        greedy = float(self.hp["greediness"]) if attempt == 0 else 0.0
        alpha = float(self.hp["alpha"]) / (1 + attempt)
        idx = np.empty(len(self.tau), dtype=np.int64)
        for j, t in enumerate(self.tau):
            if self.rng.random() < greedy:
                best = np.flatnonzero(t == t.max())
                idx[j] = best[self.rng.integers(len(best))]
            else:
                w = t ** alpha
                idx[j] = self.rng.choice(len(t), p=w / w.sum())
        return idx

    def _ask(self, n):
        return self._fresh(self._ant, n)

    def _tell(self, designs, results, scores):
        for r in self._record(designs, results, scores):
            if self._best_row is None or self._score_list[r] < self._score_list[self._best_row]:
                self._best_row = r
            self._colony.append(r)
            if len(self._colony) >= int(self.hp["ant_count"]):
                self._update()

    def _update(self):
        hp = self.hp
        rho, q, w = float(hp["evaporation"]), float(hp["deposit"]), int(hp["elite_ants"])
        for t in self.tau:
            t *= 1.0 - rho
        ranked = self._order(list(dict.fromkeys(self._colony)))[:w]
        deposits = [(r, q * (w - i) / w) for i, r in enumerate(ranked)] + [(self._best_row, q)]
        for r, amount in deposits:
            for j, k in enumerate(self._keys[r]):
                self.tau[j][k] += amount
        for t in self.tau:
            np.clip(t, float(hp["tau_min"]), float(hp["tau_max"]), out=t)
        self._colony = []
        self.colonies += 1
