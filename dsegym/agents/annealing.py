"""Simulated annealing over the index encoding, with a temperature in score units and restarts.

A move changes one parameter: an ordered one (Integer, Ordinal, PowerOfTwo, Float bins) by +/-k grid
steps, a categorical one to another choice. A worse design is accepted with probability
``exp(-(score_new - score_current) / T)``; scores are sums of log-metrics (:meth:`Problem.score`), so
``T = 0.1`` accepts a design 10% worse (one metric multiplied by 1.1) with probability about 0.39.
The temperature falls geometrically per evaluated design; when it drops below ``final_temperature`` or
the best design has not improved for ``restart_after`` evaluations the search restarts, from the best
design so far with probability ``restart_from_best`` and from a random one otherwise, at the initial
temperature. Moves onto designs already evaluated reuse their known score and cost no simulator call.

>>> import dsegym
>>> from dsegym.agents import make, run_search
>>> agent = make("sa", dsegym.make("toy-rastrigin"), seed=0)
>>> len(run_search(agent, budget=30))
30
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from .hparams import Int, Real
from .index_agent import IndexAgent

# Free moves (onto already evaluated designs) per proposal before giving up on the neighbourhood.
_FREE_MOVES = 32


class SimulatedAnnealing(IndexAgent):
    """Single-state simulated annealing with restarts (scalar score)."""

    name = "sa"
    family = "local-search"
    multi_objective = False
    description = ("simulated annealing: one-parameter neighbour moves on the index encoding, geometric "
                   "cooling in score (log-metric) units, restarts on stagnation")
    hparam_rules = {"initial_temperature": Real(0, low_open=True), "final_temperature": Real(0, low_open=True),
                    "cooling": Real(0, 1, low_open=True, high_open=True), "max_step": Int(1),
                    "restart_after": Int(1), "restart_from_best": Real(0, 1)}
    hyperparameters = {
        "initial_temperature": 0.3,  # score units (sum of log-metrics)
        "final_temperature": 0.005,
        "cooling": 0.95,  # temperature multiplier per evaluated design
        "max_step": 2,  # ordered parameters move by up to this many grid steps
        "restart_after": 40,  # evaluations without a new best before a restart
        "restart_from_best": 0.5,  # probability a restart begins at the best design (else random)
    }
    sweep = {"initial_temperature": [0.05, 1.0], "cooling": [0.9, 0.98]}

    def __init__(self, problem, seed=None, **hparams):
        super().__init__(problem, seed=seed, **hparams)
        hp = self.hp
        if not 0 < float(hp["final_temperature"]) <= float(hp["initial_temperature"]):
            raise ConfigError("sa: need 0 < final_temperature <= initial_temperature")
        if not 0 < float(hp["cooling"]) < 1:
            raise ConfigError("sa: cooling must lie in (0, 1)")
        if int(hp["max_step"]) < 1 or int(hp["restart_after"]) < 1:
            raise ConfigError("sa: max_step and restart_after must be at least 1")
        self.temperature = float(hp["initial_temperature"])
        self._mutable = [int(j) for j in np.flatnonzero(self._nvec > 1)]
        self._max_step = int(hp["max_step"])
        self._current: int | None = None  # row of the current state
        self._best: int | None = None
        self._since_best = 0
        self.restarts = 0

    # --- Metropolis step --------------------------------------------------------------------------
    def _consider(self, row: int) -> None:
        cur = self._score_list[self._current]
        new = self._score_list[row]
        if new <= cur or self.rng.random() < math.exp(-(new - cur) / max(self.temperature, 1e-12)):
            self._current = row

    def _neighbour(self, base: tuple) -> np.ndarray:
        idx = list(base)
        if not self._mutable:
            return np.asarray(idx, dtype=np.int64)
        u = self.rng.random(3)
        j = self._mutable[int(u[0] * len(self._mutable))]
        card = int(self._nvec[j])
        if self._ordered[j]:
            step = (1 + int(u[1] * self._max_step)) * (1 if u[2] < 0.5 else -1)
            v = idx[j] + step
            if not 0 <= v < card:
                v = idx[j] - step  # reflect at the ends
            idx[j] = min(max(v, 0), card - 1)
        else:
            other = int(u[1] * (card - 1))
            idx[j] = other + (other >= idx[j])
        return np.asarray(idx, dtype=np.int64)

    def _propose(self, attempt: int) -> np.ndarray:
        # Walk over neighbours whose score is already known without spending evaluations.
        for _ in range(_FREE_MOVES):
            cand = self._neighbour(self._keys[self._current])
            row = self._seen.get(self._index_key(cand))
            if row is None:
                return cand
            self._consider(row)
        return cand

    def _ask(self, n):
        if self._current is None:
            return self._fresh(lambda attempt: self.space.to_index(self._sample(1)[0]), n)
        return self._fresh(self._propose, n)

    # --- learning ---------------------------------------------------------------------------------
    def _tell(self, designs, results, scores):
        rows = self._record(designs, results, scores)
        for row in rows:
            if self._current is None:
                self._current = row
                if self._best is None or self._score_list[row] < self._score_list[self._best]:
                    self._best = row
                continue
            if self._score_list[row] < self._score_list[self._best]:
                self._best, self._since_best = row, 0
            else:
                self._since_best += 1
            self._consider(row)
            self.temperature *= float(self.hp["cooling"])
            if (self.temperature < float(self.hp["final_temperature"])
                    or self._since_best >= int(self.hp["restart_after"])):
                self._restart()

    def _restart(self):
        self.temperature = float(self.hp["initial_temperature"])
        self._since_best = 0
        self.restarts += 1
        if self.rng.random() < float(self.hp["restart_from_best"]):
            self._current = self._best
            return
        # A random restart: the next design asked is random and the first one told becomes the state.
        self._current = None
