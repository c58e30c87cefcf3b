"""Problems: a design space, a vectorised simulator, a workload and named objectives.

>>> import numpy as np, pandas as pd
>>> from dsegym.space import DesignSpace, Integer
>>> space = DesignSpace([Integer("x", 1, 10, default=5)])
>>> def simulate(df):
...     return pd.DataFrame({"latency_cycles": 100.0 / df["x"], "area_mm2": 0.5 * df["x"]})
>>> p = Problem("toy", space, simulate, [Objective("latency_cycles"), Objective("area_mm2")])
>>> p.evaluate([{"x": 2}, {"x": 10}])["latency_cycles"].tolist()
[50.0, 10.0]
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ConfigError, InvalidDesignError, SimulationError
from .space import DesignSpace
from .units import unit_of

# A constraint violation adds this many log-units per log-unit of excess: any feasible design beats
# an infeasible one that is not absurdly better on the objectives.
CONSTRAINT_PENALTY = 100.0
_TINY = 1e-30  # metrics are clipped here before a log: a zero metric is very good, not -inf


def log_metric(values) -> np.ndarray:
    """Natural log of metric values (any array-like), clipped below at 1e-30 so zeros stay finite.

    >>> log_metric([1.0, 0.0]).round(1).tolist()
    [0.0, -69.1]
    """
    return np.log(np.maximum(np.asarray(values, dtype=np.float64), _TINY))


def log_excess(values, bound: float, direction: str) -> np.ndarray:
    """How far metric values break a limit, in log units (0 where ``values`` honour it).

    ``direction="min"``: values must stay at or below ``bound``; ``"max"``: at or above.

    >>> log_excess([1.0, 4.0], 2.0, "min").round(3).tolist()
    [0.0, 0.693]
    """
    excess = log_metric(values) - np.log(bound)
    return np.maximum(excess if direction == "min" else -excess, 0.0)


@dataclass(frozen=True)
class Objective:
    """A metric to minimise or maximise, with its unit, an optional target and an optional hard limit.

    ``limit`` makes the metric a constraint: for ``min`` the metric must stay at or below it, for
    ``max`` at or above. ``target`` is the value an ArchGym-style target reward steers towards.

    >>> Objective("energy_uj").unit
    'uJ'
    """

    metric: str
    direction: str = "min"
    unit: str | None = None
    target: float | None = None
    limit: float | None = None
    weight: float = 1.0
    optimise: bool = True  # False: the metric is only a constraint (needs a limit)

    def __post_init__(self):
        if self.direction not in ("min", "max"):
            raise ConfigError(f"objective '{self.metric}': direction must be 'min' or 'max', got {self.direction!r}")
        unit = self.unit or unit_of(self.metric)
        if unit is None:
            raise ConfigError(f"objective '{self.metric}': the metric name carries no known unit suffix; "
                              "name it like 'energy_uj' or pass unit=...")
        object.__setattr__(self, "unit", unit)
        if not self.optimise and self.limit is None:
            raise ConfigError(f"objective '{self.metric}' is not optimised, so it needs a limit")
        for name in ("target", "limit"):
            value = getattr(self, name)
            if value is not None and not (_is_number(value) and math.isfinite(value) and value > 0):
                raise ConfigError(f"objective '{self.metric}': {name} must be a positive finite number "
                                  f"[{unit}] or None, got {value!r}")
        if not (_is_number(self.weight) and math.isfinite(self.weight) and self.weight >= 0):
            raise ConfigError(f"objective '{self.metric}': weight must be a finite number >= 0, got {self.weight!r}")

    @property
    def sign(self) -> float:
        """+1 for min, -1 for max: multiply by it to turn the metric into a cost."""
        return 1.0 if self.direction == "min" else -1.0

    def describe(self) -> dict[str, Any]:
        """Everything about the objective as a plain dict."""
        return {"metric": self.metric, "direction": self.direction, "unit": self.unit, "target": self.target,
                "limit": self.limit, "weight": self.weight, "optimise": self.optimise}


@dataclass
class Problem:
    """A design-space exploration problem; ``evaluate`` runs the simulator once over a whole batch."""

    id: str
    space: DesignSpace
    simulator: Callable[[Any], Any]
    objectives: Sequence[Objective]
    workload: Any = None
    description: str = ""
    metric_units: Mapping[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.objectives = list(self.objectives)
        if not any(o.optimise for o in self.objectives):
            raise ConfigError(f"problem '{self.id}' needs at least one optimised objective")
        metrics = [o.metric for o in self.objectives]
        if len(set(metrics)) != len(metrics):
            raise ConfigError(f"problem '{self.id}' lists an objective metric twice: {metrics}")

    # --- objectives ---------------------------------------------------------------------------------
    @property
    def optimised(self) -> list[Objective]:
        """The objectives that are optimised (not only limits)."""
        return [o for o in self.objectives if o.optimise]

    @property
    def is_multi_objective(self) -> bool:
        """True if more than one objective is optimised."""
        return len(self.optimised) > 1

    @property
    def directions(self) -> list[str]:
        """``'min'``/``'max'`` of each optimised objective."""
        return [o.direction for o in self.optimised]

    def unit(self, metric: str) -> str | None:
        """The unit of ``metric`` (from ``metric_units`` or its name's suffix), or None."""
        return self.metric_units.get(metric) or unit_of(metric)

    # --- evaluation ---------------------------------------------------------------------------------
    def evaluate(self, designs):
        """Metrics of a batch of designs (list of dicts, one dict or DataFrame), one row per design.

        Missing parameters take their defaults; invalid values raise InvalidDesignError, violated
        constraints ConstraintViolation. A simulator that returns the wrong number of rows, misses an
        objective metric or returns a non-finite or negative one raises SimulationError naming the design.
        """
        import pandas as pd
        frame = self.space.to_frame(designs)
        if len(frame) == 0:
            return pd.DataFrame(columns=[o.metric for o in self.objectives])
        out = self.simulator(frame)
        if not isinstance(out, pd.DataFrame):
            out = pd.DataFrame(out)
        if len(out) != len(frame):
            raise SimulationError(f"simulator of '{self.id}' returned {len(out)} rows for {len(frame)} designs")
        metrics = [o.metric for o in self.objectives]
        missing = [m for m in metrics if m not in out.columns]
        if missing:
            raise SimulationError(f"simulator of '{self.id}' did not return objective metrics {missing}")
        values = out[metrics].to_numpy(dtype=np.float64, na_value=np.nan)
        # Scores take logs of the objective metrics: a NaN, an infinity or a negative value (an
        # overflowed latency, say) would rank as a perfect design. Refuse it, naming the design.
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            design = ", ".join(f"{k}={v.item() if hasattr(v, 'item') else v!r}" for k, v in frame.iloc[int(i)].items())
            what = "non-finite" if not np.isfinite(values[i, j]) else "negative"
            raise SimulationError(f"problem '{self.id}' gave a {what} {metrics[j]} ({values[i, j]}) for "
                                  f"design {i} ({design}); check the problem options and inputs")
        return out.reset_index(drop=True)

    def evaluate_one(self, design: Mapping[str, Any]) -> dict[str, float]:
        """Metrics of one design as a plain dict."""
        row = self.evaluate([design]).iloc[0]
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}

    # --- scalarisation ------------------------------------------------------------------------------
    def objective_matrix(self, results) -> np.ndarray:
        """(n, k) costs of the optimised objectives, each turned into 'lower is better'."""
        return np.stack([o.sign * _column(results, o.metric) for o in self.optimised], axis=1)

    def violation(self, results) -> np.ndarray:
        """Total log-excess over the objectives' limits per design (0 where every limit holds)."""
        n = len(results)
        v = np.zeros(n)
        for o in self.objectives:
            if o.limit is None:
                continue
            v += log_excess(_column(results, o.metric), o.limit, o.direction)
        return v

    def feasible(self, results) -> np.ndarray:
        """(n,) bool: which result rows honour every objective limit."""
        return self.violation(results) <= 0

    def score(self, results, weights: Mapping[str, float] | None = None) -> np.ndarray:
        """Scalar cost per design, lower is better: sum of w * (+/-) log(metric) plus limit penalties.

        Working in logs makes the score unit-free; with unit weights on latency and energy it is
        log(energy-delay product).
        """
        weights = weights or {}
        unknown = set(weights) - {o.metric for o in self.optimised}
        if unknown:
            raise ConfigError(f"weights name metrics that are not optimised objectives: {sorted(unknown)}; "
                              f"allowed: {[o.metric for o in self.optimised]}")
        total = np.zeros(len(results))
        for o in self.optimised:
            w = weights.get(o.metric, o.weight)
            total += w * o.sign * log_metric(_column(results, o.metric))
        return total + CONSTRAINT_PENALTY * self.violation(results)

    def log_costs(self, results) -> np.ndarray:
        """(n, k) log-costs of the optimised objectives, ``sign * log(metric)``: lower is better, unit-free."""
        return np.stack([o.sign * log_metric(_column(results, o.metric)) for o in self.optimised], axis=1)

    def pareto_mask(self, results) -> np.ndarray:
        """Which designs are Pareto-optimal among the feasible ones over the optimised objectives."""
        costs = self.objective_matrix(results)
        mask = pareto_mask(costs)
        feas = self.feasible(results)
        if feas.any():
            mask = np.zeros(len(costs), dtype=bool)
            idx = np.flatnonzero(feas)
            mask[idx] = pareto_mask(costs[idx])
        return mask

    # --- description --------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Everything ``dsegym describe`` shows: parameters, space size, valid count, constraints, objectives."""
        size = self.space.size
        try:
            valid = self.space.count_valid()
        except ConfigError:
            valid = None
        return {
            "id": self.id,
            "description": self.description,
            "workload": self.workload if isinstance(self.workload, (str, int, float, type(None))) else str(self.workload),
            "space_size": size if size != float("inf") else "infinite",
            "valid_designs": valid if valid != float("inf") else "infinite",
            "parameters": self.space.describe(),
            "constraints": [{"name": c.name, "description": c.description} for c in self.space.constraints],
            "objectives": [o.describe() for o in self.objectives],
            "multi_objective": self.is_multi_objective,
        }

    def __repr__(self) -> str:
        objs = ", ".join(f"{o.direction} {o.metric}" for o in self.objectives)
        return f"Problem({self.id!r}, {len(self.space)} parameters, objectives: {objs})"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _column(results, metric: str) -> np.ndarray:
    try:
        col = results[metric]
    except (KeyError, IndexError, TypeError):
        raise InvalidDesignError(f"results have no metric '{metric}'") from None
    return np.asarray(col, dtype=np.float64)


def pareto_mask(costs: np.ndarray) -> np.ndarray:
    """Non-dominated rows of an (n, k) cost matrix (all objectives minimised).

    >>> pareto_mask(np.array([[1, 2], [2, 1], [2, 2], [1, 2]])).tolist()
    [True, True, False, True]
    """
    costs = np.asarray(costs, dtype=np.float64)
    n = len(costs)
    mask = np.ones(n, dtype=bool)
    order = np.lexsort(costs.T[::-1])
    for pos, i in enumerate(order):
        if not mask[i]:
            continue
        later = order[pos + 1:]
        dominated = np.all(costs[i] <= costs[later], axis=1) & np.any(costs[i] < costs[later], axis=1)
        mask[later[dominated]] = False
    return mask
