"""Grid search: every valid grid design exactly once, in index order or a seeded shuffled order.

Float parameters contribute their ``bins`` grid points. Spaces larger than ``max_size`` grid points are
refused (a full enumeration would never finish within any sensible budget): use random search or a
model-based agent there. After the whole grid has been asked, a second pass starts in the same order.

>>> import dsegym
>>> from dsegym.agents import make
>>> problem = dsegym.make("toy-accel")
>>> agent = make("grid", problem, order="index")
>>> agent.ask(2)
[{'pes': 1, 'dataflow': 'ws', 'buffer_kb': 1, 'bits': 4}, {'pes': 1, 'dataflow': 'ws', 'buffer_kb': 1, 'bits': 8}]
>>> agent.n_valid
420
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from .base import Agent
from .hparams import Choice, Int

_CHUNK = 1_000_000


class GridSearch(Agent):
    """Exhaustive enumeration of the valid grid (constraints honoured), shuffled by the seed by default."""

    name = "grid"
    family = "exhaustive"
    multi_objective = False
    description = ("every valid grid design once (Float parameters at their bins), in a seeded shuffled "
                   "or index order; refuses grids above max_size")
    hparam_rules = {"order": Choice("shuffled", "index"), "max_size": Int(1)}
    hyperparameters = {
        "order": "shuffled",  # or "index" (space.enumerate() order, last parameter fastest)
        "max_size": 10_000_000,  # largest grid (unconstrained count of grid points) it will enumerate
    }
    sweep = {"order": ["shuffled", "index"]}

    def __init__(self, problem, seed=None, **hparams):
        super().__init__(problem, seed=seed, **hparams)
        if self.hp["order"] not in ("shuffled", "index"):
            raise ConfigError(f"grid: order must be 'shuffled' or 'index', got {self.hp['order']!r}")
        nvec = self.space.nvec.astype(np.int64)
        total = math.prod(int(k) for k in nvec)
        limit = int(self.hp["max_size"])
        if total > limit:
            raise ConfigError(
                f"grid search over '{problem.id}' would enumerate {total:,} grid points, more than "
                f"max_size={limit:,}; raise max_size or use an agent that samples (e.g. 'random', 'tpe')")
        self._nvec = nvec
        ids = []
        for start in range(0, total, _CHUNK):
            chunk = np.arange(start, min(total, start + _CHUNK), dtype=np.int64)
            ok = self._valid_ids(chunk)
            ids.append(chunk[ok])
        self._ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        if len(self._ids) == 0:
            raise ConfigError(f"grid search over '{problem.id}': no grid design honours the constraints")
        if self.hp["order"] == "shuffled":
            self._ids = self.rng.permutation(self._ids)
        self._next = 0
        self.passes = 0

    def _index_rows(self, ids: np.ndarray) -> np.ndarray:
        # Mixed radix with the last parameter varying fastest, as space.enumerate().
        return np.stack(np.unravel_index(ids, tuple(int(k) for k in self._nvec)), axis=1).astype(np.int64)

    def _valid_ids(self, ids: np.ndarray) -> np.ndarray:
        return self.space.valid_index_mask(self._index_rows(ids))

    @property
    def n_valid(self) -> int:
        """Number of valid grid designs (one pass)."""
        return int(len(self._ids))

    def _ask(self, n):
        take, have = [], 0
        while have < n:
            part = self._ids[self._next: self._next + (n - have)]
            take.append(part)
            have += len(part)
            self._next += len(part)
            if self._next >= len(self._ids):
                self._next = 0
                self.passes += 1
        ids = np.concatenate(take)
        return self.space.from_index_batch(self._index_rows(ids), check_constraints=False)
