"""Rewards and normalised observations derived from a problem's objectives.

Three rewards, chosen by name:

- ``"weighted"`` (default): improvement of the problem's scalar score (a weighted sum of log-metrics,
  see :meth:`Problem.score`) over the default design. Positive means better than the default.
- ``"target"``: ArchGym's target reward, ``-mean_i |m_i - t_i| / t_i`` over the metrics with a target;
  the episode terminates once every metric is within ``tolerance`` of its target.
- ``"constrained"``: the weighted reward minus ``penalty`` times the log-excess over ``limits``
  (metric -> bound; defaults to the objectives' own limits).

Rewards and observations are relative to a reference: ``reference="default"`` simulates the space's
default design once; ``"first"`` takes the first results seen (no simulator call, so an agent spends
nothing outside its budget); a one-row results DataFrame is used as given.

>>> import dsegym
>>> rm = RewardModel(dsegym.make("accel-resnet18"))
>>> float(rm.reward(rm.reference)[0])
0.0
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .errors import ConfigError
from .problem import CONSTRAINT_PENALTY, Problem, log_excess, log_metric

REWARDS = ("weighted", "target", "constrained")


class RewardModel:
    """Turns metrics into an observation vector in [-1, 1] and a reward, for one problem."""

    def __init__(self, problem: Problem, reward: str = "weighted", weights: Mapping[str, float] | None = None,
                 targets: Mapping[str, float] | None = None, limits: Mapping[str, float] | None = None,
                 tolerance: float = 0.05, penalty: float = CONSTRAINT_PENALTY, reference="default"):
        if reward not in REWARDS:
            raise ConfigError(f"unknown reward '{reward}'; allowed: {', '.join(REWARDS)}")
        self.problem, self.kind = problem, reward
        self.weights = dict(weights or {})
        self.metrics = [o.metric for o in problem.objectives]
        self.tolerance, self.penalty = tolerance, penalty
        self.targets = {o.metric: o.target for o in problem.objectives if o.target is not None}
        self.targets.update(targets or {})
        self.limits = {o.metric: o.limit for o in problem.objectives if o.limit is not None}
        self.limits.update(limits or {})
        for name, table in (("targets", self.targets), ("limits", self.limits)):
            for metric, value in table.items():
                if metric not in self.metrics:
                    raise ConfigError(f"{name} name metric '{metric}', which is not an objective; "
                                      f"allowed: {', '.join(self.metrics)}")
                if not np.isfinite(value) or value <= 0:
                    raise ConfigError(f"{name}['{metric}'] must be a positive finite number, got {value}")
        if reward == "target" and not self.targets:
            raise ConfigError("the target reward needs targets: give the objectives a target or pass "
                              f"targets={{metric: value}} for some of {', '.join(self.metrics)}")
        problem.score(_probe(self.metrics), self.weights)  # validates weights early
        # Observations and rewards are relative to a reference design: unit-free across problems.
        self.reference = None
        if isinstance(reference, str):
            if reference not in ("default", "first"):
                raise ConfigError(f"reference must be 'default', 'first' or a results DataFrame, got {reference!r}")
            if reference == "default":
                self._set_reference(problem.evaluate([problem.space.default()]))
        else:
            self._set_reference(reference)

    def _set_reference(self, results) -> None:
        import pandas as pd
        ref = pd.DataFrame(results).iloc[:1].reset_index(drop=True)
        missing = [m for m in self.metrics if m not in ref.columns]
        if missing or len(ref) == 0:
            raise ConfigError(f"reference results need one row with the metrics {self.metrics}")
        self.reference = ref
        self._ref_metrics = np.array([float(ref[m].iloc[0]) for m in self.metrics])
        # The reference may itself break a limit; its penalty must not cancel out of the reward.
        self._ref_score = float(self._score(ref, penalised=False)[0])

    def _ensure_reference(self, results) -> None:
        if self.reference is None:
            self._set_reference(results)

    @property
    def obs_size(self) -> int:
        """Length of the observation vector: one entry per objective metric."""
        return len(self.metrics)

    def observe(self, results) -> np.ndarray:
        """(n, k) float32 in [-1, 1]: tanh of log10(metric / reference design's metric)."""
        self._ensure_reference(results)
        m = np.stack([np.asarray(results[k], dtype=np.float64) for k in self.metrics], axis=1)
        return np.tanh((log_metric(m) - log_metric(self._ref_metrics)) / np.log(10.0)).astype(np.float32)

    def _score(self, results, penalised: bool = True) -> np.ndarray:
        s = self.problem.score(results, self.weights)
        if not penalised:
            return s - CONSTRAINT_PENALTY * self.problem.violation(results)
        if self.kind == "constrained":
            s = s - CONSTRAINT_PENALTY * self.problem.violation(results) + self.penalty * self._excess(results)
        return s

    def _excess(self, results) -> np.ndarray:
        v = np.zeros(len(results))
        for metric, bound in self.limits.items():
            o = next(o for o in self.problem.objectives if o.metric == metric)
            v += log_excess(results[metric], bound, o.direction)
        return v

    def reward(self, results) -> np.ndarray:
        """(n,) rewards of result rows: improvement over the reference, or the negative target distance."""
        self._ensure_reference(results)
        if self.kind == "target":
            dist = [np.abs(np.asarray(results[k], dtype=np.float64) - t) / t for k, t in self.targets.items()]
            return -np.mean(dist, axis=0)
        return self._ref_score - self._score(results)

    def reached(self, results) -> np.ndarray:
        """Whether the episode's goal is met (only the target reward has one)."""
        if self.kind != "target":
            return np.zeros(len(results), dtype=bool)
        ok = [np.abs(np.asarray(results[k], dtype=np.float64) - t) / t <= self.tolerance
              for k, t in self.targets.items()]
        return np.all(ok, axis=0)


def _probe(metrics):
    return {m: np.ones(1) for m in metrics}
