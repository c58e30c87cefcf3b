"""The shared base of agents that search the index encoding (GA, ACO, SA).

Every design is a vector of grid indices (``space.to_index``), one per parameter. The base remembers
every design asked or told, proposes only valid designs not evaluated yet, and ranks told designs by
score or, for Pareto search, by NSGA-II fronts (:mod:`dsegym.agents.pareto_ranking`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .base import Agent
from .pareto_ranking import nsga2_order

# Attempts at a new (valid, not yet evaluated) design before falling back to a random unseen one.
_RETRIES = 12


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
    def _index_key(idx) -> tuple:
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
                k = self._index_key(row)
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
                k = self._index_key(cand)
                if self._is_new(k) and k not in taken and self._valid_idx(cand[None])[0]:
                    chosen = cand
                    break
            if chosen is None:
                if not self._valid_idx(cand[None])[0]:
                    cand = self.space.to_index(self._repair(self._decode(cand))[0])
                k = self._index_key(cand)
                chosen = cand if (self._is_new(k) and k not in taken) else self._random_fresh(taken)
            taken.add(self._index_key(chosen))
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
        return self.problem.log_costs(results)

    def _record(self, designs, results, scores) -> list[int]:
        """Store told designs; returns their rows (a design told twice keeps its first row)."""
        idx = self.space.to_index_batch(designs)
        costs = self._log_costs(results)
        viol = self.problem.violation(results)
        rows = []
        for i, row in enumerate(idx):
            k = self._index_key(row)
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
