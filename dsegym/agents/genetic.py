"""Genetic algorithm over the index encoding, plus the index-space machinery the other metaheuristics share.

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

from typing import Any

import numpy as np

from ..errors import ConfigError
from .base import Agent
from .hparams import Choice, Int, Real

_TINY = 1e-30
# Attempts at a new (valid, not yet evaluated) design before falling back to a random unseen one.
_RETRIES = 12
# Children equal to an evaluated design, taken into the offspring for free, per asked design.
_FREE_CHILDREN = 64


# --- multi-objective ranking (NSGA-II) ---------------------------------------------------------------
def non_dominated_ranks(costs: np.ndarray, violation: np.ndarray | None = None) -> np.ndarray:
    """Front number (0 = non-dominated) of each row of an (n, k) cost matrix, all objectives minimised.

    With ``violation`` (>= 0 per row), constrained domination applies: every feasible row ranks before
    every infeasible one, and infeasible rows rank by their violation.

    >>> non_dominated_ranks(np.array([[1, 2], [2, 1], [2, 2], [3, 3]])).tolist()
    [0, 0, 1, 2]
    """
    costs = np.asarray(costs, dtype=np.float64)
    n = len(costs)
    ranks = np.zeros(n, dtype=np.int64)
    if n == 0:
        return ranks
    feasible = np.ones(n, bool) if violation is None else np.asarray(violation) <= 0
    idx = np.flatnonzero(feasible)
    if len(idx):
        c = costs[idx]
        le = np.all(c[:, None, :] <= c[None, :, :], axis=2)
        lt = np.any(c[:, None, :] < c[None, :, :], axis=2)
        dom = le & lt  # dom[i, j]: i dominates j
        count = dom.sum(axis=0)
        rank = np.full(len(idx), -1)
        front, r = np.flatnonzero(count == 0), 0
        while len(front):
            rank[front] = r
            count = count - dom[front].sum(axis=0)
            count[rank >= 0] = -1
            front, r = np.flatnonzero(count == 0), r + 1
        ranks[idx] = rank
        base = r
    else:
        base = 0
    bad = np.flatnonzero(~feasible)
    if len(bad):
        v = np.asarray(violation)[bad]
        _, inverse = np.unique(v, return_inverse=True)
        ranks[bad] = base + inverse
    return ranks


def crowding_distance(costs: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each row within one front (boundary rows get infinity)."""
    costs = np.asarray(costs, dtype=np.float64)
    n, k = costs.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(k):
        order = np.argsort(costs[:, j], kind="stable")
        col = costs[order, j]
        span = col[-1] - col[0]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0:
            dist[order[1:-1]] += (col[2:] - col[:-2]) / span
    return dist


def nsga2_order(costs: np.ndarray, violation: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted best first by (front, -crowding); also returns the fronts and crowding distances."""
    ranks = non_dominated_ranks(costs, violation)
    crowd = np.zeros(len(costs))
    for r in np.unique(ranks):
        members = np.flatnonzero(ranks == r)
        crowd[members] = crowding_distance(costs[members])
    order = np.lexsort((-crowd, ranks))
    return order, ranks, crowd


# --- the shared base of index-space agents -----------------------------------------------------------
class IndexAgent(Agent):
    """An agent that works on grid-index vectors and remembers every design it has asked or been told.

    Subclasses call :meth:`_fresh` to turn candidate index vectors into valid, not-yet-evaluated designs.
    Per design it keeps the scalar score, the log-cost vector of the optimised objectives and the
    limit violation (for NSGA-II style ranking).
    """

    def __init__(self, problem, seed=None, **hparams):
        super().__init__(problem, seed=seed, **hparams)
        self._nvec = self.space.nvec.astype(np.int64)
        self._ordered = np.array([p.kind != "categorical" for p in self.space.params])
        self._seen: dict[tuple, int] = {}  # key -> row in the tables below
        self._pending: set[tuple] = set()  # asked, not told yet
        self._keys: list[tuple] = []
        self._score_list: list[float] = []
        self._cost_list: list[np.ndarray] = []
        self._viol_list: list[float] = []
        self._mo = False  # subclasses set it to rank by Pareto fronts

    # --- encoding helpers -------------------------------------------------------------------------
    @staticmethod
    def _key(idx) -> tuple:
        return tuple(int(v) for v in idx)

    def _valid_idx(self, idx: np.ndarray) -> np.ndarray:
        """Which rows of an (n, d) index matrix honour every constraint."""
        return self.space.valid_index_mask(idx)

    def _decode(self, idx: np.ndarray) -> list[dict[str, Any]]:
        return self.space.from_index_batch(np.atleast_2d(idx), check_constraints=False)

    def _is_new(self, key: tuple) -> bool:
        return key not in self._seen and key not in self._pending

    def _random_fresh(self, taken: set[tuple]) -> np.ndarray:
        """A valid random index vector, one not asked or told before if 64 draws turn one up."""
        best = None
        for _ in range(4):
            cand = self.space.to_index_batch(self._sample(16))
            for row in cand:
                k = self._key(row)
                if self._is_new(k) and k not in taken:
                    return row
                best = row if best is None else best
        return best

    def _fresh(self, propose, n: int) -> list[dict[str, Any]]:
        """``n`` designs from ``propose(attempt) -> index vector``: valid and never asked/told before.

        After ``_RETRIES`` attempts a candidate that still breaks a constraint is repaired with
        :meth:`Agent._repair`; one that was already evaluated is replaced by a random unseen design.
        """
        out: list[np.ndarray] = []
        taken: set[tuple] = set()
        for _ in range(n):
            chosen = None
            for attempt in range(_RETRIES):
                cand = np.asarray(propose(attempt), dtype=np.int64)
                k = self._key(cand)
                if self._is_new(k) and k not in taken and self._valid_idx(cand[None])[0]:
                    chosen = cand
                    break
            if chosen is None:
                if not self._valid_idx(cand[None])[0]:
                    cand = self.space.to_index(self._repair(self._decode(cand))[0])
                k = self._key(cand)
                chosen = cand if (self._is_new(k) and k not in taken) else self._random_fresh(taken)
            taken.add(self._key(chosen))
            out.append(chosen)
        idx = np.stack(out)
        self._pending.update(taken)
        return self._decode(idx)

    # --- variation operators (all stay inside 0..nvec-1) ------------------------------------------
    def _mutate(self, idx: np.ndarray, rate: float, max_step: int) -> np.ndarray:
        """Each gene mutates with probability ``rate``: categoricals to another choice, ordered genes by
        +/-k grid steps (k uniform in 1..max_step, reflected at the ends). At least one gene changes."""
        idx = np.array(idx, dtype=np.int64)
        d = len(idx)
        mutable = self._nvec > 1
        if not mutable.any():
            return idx
        genes = np.flatnonzero((self.rng.random(d) < rate) & mutable)
        if len(genes) == 0:
            genes = [self.rng.choice(np.flatnonzero(mutable))]
        for j in genes:
            card = int(self._nvec[j])
            if self._ordered[j]:
                step = int(self.rng.integers(1, max_step + 1)) * (1 if self.rng.random() < 0.5 else -1)
                v = idx[j] + step
                if v < 0 or v >= card:
                    v = idx[j] - step  # reflect
                idx[j] = int(np.clip(v, 0, card - 1))
            else:
                other = int(self.rng.integers(0, card - 1))
                idx[j] = other + (other >= idx[j])
        return idx

    def _crossover(self, a: np.ndarray, b: np.ndarray, kind: str) -> np.ndarray:
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        d = len(a)
        if kind == "one_point" and d > 1:
            point = int(self.rng.integers(1, d))
            return np.concatenate([a[:point], b[point:]])
        mask = self.rng.random(d) < 0.5
        return np.where(mask, a, b)

    # --- bookkeeping ------------------------------------------------------------------------------
    def _log_costs(self, results) -> np.ndarray:
        cols = [o.sign * np.log(np.maximum(np.asarray(results[o.metric], dtype=float), _TINY))
                for o in self.problem.optimised]
        return np.stack(cols, axis=1)

    def _record(self, designs, results, scores) -> list[int]:
        """Store told designs; returns their rows (a design told twice keeps its first row)."""
        idx = self.space.to_index_batch(designs)
        costs = self._log_costs(results)
        viol = self.problem.violation(results)
        rows = []
        for i, row in enumerate(idx):
            k = self._key(row)
            self._pending.discard(k)
            if k in self._seen:
                rows.append(self._seen[k])
                continue
            self._seen[k] = len(self._keys)
            rows.append(len(self._keys))
            self._keys.append(k)
            self._score_list.append(float(scores[i]))
            self._cost_list.append(costs[i])
            self._viol_list.append(float(viol[i]))
        return rows

    def _order(self, rows: list[int]) -> list[int]:
        """``rows`` best first: by score, or by NSGA-II (front, crowding) when ranking Pareto fronts."""
        rows = list(rows)
        if not self._mo:
            return sorted(rows, key=lambda r: self._score_list[r])
        costs = np.array([self._cost_list[r] for r in rows])
        viol = np.array([self._viol_list[r] for r in rows])
        order, _, _ = nsga2_order(costs, viol)
        return [rows[i] for i in order]


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
            row = self._seen.get(self._key(child))
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
