"""The ask/tell interface every search agent implements, and the search loop that drives it.

An agent sees a problem only through ``problem.space`` and the results of ``problem.evaluate``, so
every agent runs on every registered problem. Subclasses implement ``_ask(n)`` and ``_tell``; the base
class validates arguments, keeps the history and scores results with :meth:`Problem.score`.

>>> import dsegym
>>> from dsegym import agents
>>> problem = dsegym.make("accel-resnet18")
>>> agent = agents.make("random", problem, seed=0)
>>> history = run_search(agent, budget=8, batch_size=4)
>>> len(history)
8
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError, InvalidDesignError
from ..problem import Problem
from .hparams import Rule, check_hparams, check_seed

Design = dict[str, Any]


class Agent:
    """Base class of search agents.

    Class attributes a subclass declares:
        name: the registry name.
        family: e.g. "random", "evolutionary", "bayesian", "rl", "marl", "surrogate".
        multi_objective: True if the agent searches for a Pareto set itself; otherwise it optimises the
            problem's scalarised score (lower is better).
        hyperparameters: every hyperparameter with its default.
        hparam_rules: allowed values of hyperparameters (see :mod:`dsegym.agents.hparams`); names without
            a rule get one inferred from the default's type.
        sweep: a small grid over some hyperparameters, for the leaderboard's hyperparameter-lottery check.
    """

    name: ClassVar[str] = "base"
    family: ClassVar[str] = ""
    multi_objective: ClassVar[bool] = False
    hyperparameters: ClassVar[dict[str, Any]] = {}
    hparam_rules: ClassVar[dict[str, Rule]] = {}
    # Torch agents set this to 1: ask/tell then run with that many intra-op threads and restore the
    # caller's setting afterwards (tiny networks and GP fits run several times faster single-threaded,
    # and the process-wide setting is not the agent's to change).
    torch_threads: ClassVar[int | None] = None
    sweep: ClassVar[dict[str, list[Any]]] = {}
    description: ClassVar[str] = ""

    def __init__(self, problem: Problem, seed: int | None = None, **hparams: Any):
        """Check the seed (None or 0..2**32-1) and every hyperparameter; raise ConfigError if one is bad."""
        seed = check_seed(seed)
        if not isinstance(problem, Problem):
            raise ConfigError(f"agent '{self.name}' needs a Problem (from dsegym.make), got {type(problem).__name__}")
        unknown = set(hparams) - set(self.hyperparameters)
        if unknown:
            allowed = ", ".join(sorted(self.hyperparameters)) or "none"
            raise ConfigError(f"agent '{self.name}' has no hyperparameter {sorted(unknown)}; allowed: {allowed}")
        check_hparams(self.name, hparams, self.hyperparameters, self.hparam_rules)
        self.problem = problem
        self.space = problem.space
        self.seed = seed
        self.hp: dict[str, Any] = {**self.hyperparameters, **hparams}
        self.rng = np.random.default_rng(seed)
        self._designs: list[Design] = []
        self._results: list[Any] = []
        self._scores: list[np.ndarray] = []

    # --- public interface ---------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Design]:
        """Propose ``n`` designs to evaluate next."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"ask(n) needs a positive integer n, got {n!r}")
        with self._compute_scope():
            designs = self._ask(int(n))
        if len(designs) != n:
            raise RuntimeError(f"agent '{self.name}' returned {len(designs)} designs for ask({n})")
        return designs

    def tell(self, designs: Sequence[Mapping[str, Any]], results) -> None:
        """Report the metrics (a DataFrame from ``problem.evaluate``, row-aligned) of asked designs.

        Raises InvalidDesignError if a design is not in the problem's space, if ``results`` is not a
        DataFrame with one row per design, lacks one of the problem's objective metrics, or holds a
        non-finite value of one.
        """
        import pandas as pd
        if isinstance(designs, Mapping) or not isinstance(designs, Sequence):
            raise InvalidDesignError(f"tell() needs a list of designs (dicts), got {type(designs).__name__}")
        if not isinstance(results, pd.DataFrame):
            raise InvalidDesignError(f"tell() needs results as a DataFrame (from problem.evaluate), "
                                     f"got {type(results).__name__}")
        if len(designs) != len(results):
            raise InvalidDesignError(f"tell() got {len(designs)} designs but {len(results)} result rows")
        if not designs:
            return
        checked = self.space.check_columns(designs)  # raises on unknown parameters or invalid values
        designs = self.space._rows(checked, len(designs))
        metrics = [o.metric for o in self.problem.objectives]
        missing = [m for m in metrics if m not in results.columns]
        if missing:
            raise InvalidDesignError(f"tell() results lack the metrics {missing} of problem '{self.problem.id}' "
                                     f"(got columns {list(results.columns)})")
        try:
            values = results[metrics].to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            raise InvalidDesignError(f"tell() results must hold numbers for the metrics {metrics}") from None
        if not np.isfinite(values).all():
            i, j = np.argwhere(~np.isfinite(values))[0]
            raise InvalidDesignError(f"tell() result row {i} has a non-finite {metrics[j]} ({values[i, j]}); "
                                     "results must be finite")
        results = results.reset_index(drop=True)
        scores = self.problem.score(results)
        self._designs.extend(designs)
        self._results.append(results)
        self._scores.append(scores)
        with self._compute_scope():
            self._tell(designs, results, scores)

    @property
    def n_told(self) -> int:
        """Number of designs told so far."""
        return len(self._designs)

    def history(self):
        """Every design told so far with its metrics and score, in order."""
        import pandas as pd
        if not self._designs:
            return pd.DataFrame()
        designs = pd.DataFrame(self._designs)
        results = pd.concat(self._results, ignore_index=True)
        out = pd.concat([designs, results], axis=1)
        out["score"] = np.concatenate(self._scores)
        return out

    def best(self) -> tuple[Design, dict[str, Any]]:
        """The told design with the lowest score, and its metrics."""
        if not self._designs:
            raise ConfigError("no design has been told yet")
        scores = np.concatenate(self._scores)
        i = int(np.argmin(scores))
        results = self.history().iloc[i]
        metrics = {k: (results[k].item() if hasattr(results[k], "item") else results[k])
                   for k in self._results[0].columns}
        return self._designs[i], metrics

    def pareto(self):
        """The told designs that are Pareto-optimal over the problem's objectives (with metrics)."""
        h = self.history()
        if h.empty:
            return h
        return h[self.problem.pareto_mask(h)].reset_index(drop=True)

    def close(self) -> None:
        """Release what the agent holds (learner threads, studies); memoryless agents hold nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @classmethod
    def info(cls) -> dict[str, Any]:
        """Name, family, multi-objective flag, hyperparameter defaults, sweep grid and description."""
        return {"name": cls.name, "family": cls.family, "multi_objective": cls.multi_objective,
                "hyperparameters": dict(cls.hyperparameters), "sweep": dict(cls.sweep),
                "description": cls.description}

    def _key(self, design: Mapping[str, Any]) -> tuple:
        """A hashable identity of a (normalised) design: its values in space order."""
        return tuple(design.get(k) for k in self.space.names)

    @contextlib.contextmanager
    def _compute_scope(self) -> Iterator[None]:
        """Torch's thread count set to ``torch_threads`` inside, the caller's restored on exit."""
        if self.torch_threads is None:
            yield
            return
        with torch_threads(self.torch_threads):
            yield

    # --- for subclasses -----------------------------------------------------------------------------
    def _ask(self, n: int) -> list[Design]:
        raise NotImplementedError

    def _tell(self, designs: list[Design], results, scores: np.ndarray) -> None:
        """Learn from results; the default (memoryless agents) does nothing."""

    def _sample(self, n: int) -> list[Design]:
        """Valid random designs from the space's prior, drawn with the agent's own generator."""
        return self.space.sample(n, self.rng)

    def _repair(self, designs: list[Design]) -> list[Design]:
        """Replace designs that violate a constraint with random valid ones (keeps ask() valid)."""
        if not designs:
            return designs
        ok = self.space.valid_mask(designs)
        if ok.all():
            return designs
        fresh = iter(self._sample(int((~ok).sum())))
        return [d if good else next(fresh) for d, good in zip(designs, ok)]


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)``, restoring the previous count on exit."""
    import torch
    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def run_search(agent: Agent, budget: int, batch_size: int = 1, progress: bool = False):
    """Drive ``agent`` for ``budget`` simulator evaluations; returns the history DataFrame.

    ``batch_size`` designs are asked, evaluated in one vectorised call, and told together.
    """
    for name, value in (("budget", budget), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=budget, desc=f"{agent.name} on {agent.problem.id}", unit="design")
    done = 0
    while done < budget:
        n = min(batch_size, budget - done)
        designs = agent.ask(n)
        agent.tell(designs, agent.problem.evaluate(designs))
        done += n
        if bar is not None:
            bar.update(n)
    if bar is not None:
        bar.close()
    return agent.history()
