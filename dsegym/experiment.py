"""Experiment configs: YAML files naming problems, agents (with hyperparameters or sweep grids), seeds,
budget, batch size and the objective, validated with pydantic and expanded into runs.

A *run* is one (problem, agent, hyperparameters, seed); a *trial* is one design evaluation in it.

.. code-block:: yaml

    name: small
    budget: 50            # simulator evaluations per run
    batch_size: 5         # designs asked, evaluated and told together
    seeds: 0-2            # "A-B", a list, or one integer
    problems:
      - toy-accel                                  # an id ...
      - {id: accel-resnet18, options: {fidelity: scalesim}, budget: 30}   # ... or options and a budget
    agents:
      - random
      - {name: ga, hparams: {population_size: 12}}
      - {name: sa, sweep: true}                    # defaults plus the agent's declared sweep grid
      - {name: tpe, sweep: {n_startup_trials: [5, 10]}}
    objective: {weights: {latency_cycles: 1.0, energy_uj: 1.0}, limits: {area_mm2: 5.0}}
    exclude: [{problem: "dram*", agent: grid}]     # glob patterns

>>> cfg = ExperimentConfig.model_validate({"budget": 20, "seeds": "0-1", "problems": ["toy-accel"],
...                                         "agents": ["random", {"name": "sa", "sweep": True}]})
>>> [s.label() for s in expand(cfg)][:2]
['random on toy-accel seed 0', 'random on toy-accel seed 1']
>>> len(expand(cfg))  # random x 2 seeds + sa's defaults and 2x2 sweep grid x 2 seeds
12
"""
from __future__ import annotations

import fnmatch
import itertools
import os
import re
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError
from .results import RunSpec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemEntry(_Strict):
    id: str
    options: dict[str, Any] = Field(default_factory=dict)
    budget: int | None = Field(default=None, gt=0)

    @field_validator("id")
    @classmethod
    def _known(cls, v: str) -> str:
        from .registry import list_problems
        if v not in list_problems():
            raise ValueError(f"unknown problem '{v}'; allowed: {', '.join(list_problems())}")
        return v


class AgentEntry(_Strict):
    name: str
    hparams: dict[str, Any] | list[dict[str, Any]] = Field(default_factory=dict)
    sweep: bool | dict[str, list[Any]] = False
    label: str | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        from .agents import list_agents
        if v not in list_agents():
            raise ValueError(f"unknown agent '{v}'; allowed: {', '.join(list_agents())}")
        return v

    @model_validator(mode="after")
    def _hparams_declared(self):
        from .agents import agent_info
        info = agent_info(self.name)
        declared = set(info["hyperparameters"])
        settings = self.hparams if isinstance(self.hparams, list) else [self.hparams]
        grid = info["sweep"] if self.sweep is True else (self.sweep or {})
        for names in [*(s.keys() for s in settings), grid.keys()]:
            unknown = sorted(set(names) - declared)
            if unknown:
                raise ValueError(f"agent '{self.name}' has no hyperparameter {unknown}; "
                                 f"allowed: {', '.join(sorted(declared)) or 'none'}")
        if self.sweep is True and not info["sweep"]:
            raise ValueError(f"agent '{self.name}' declares no sweep grid; give one as sweep: {{name: [values]}}")
        return self

    def settings(self) -> list[dict[str, Any]]:
        """Every hyperparameter setting: each given setting, then each crossed with the sweep grid."""
        from .agents import agent_info
        base = self.hparams if isinstance(self.hparams, list) else [self.hparams]
        grid = agent_info(self.name)["sweep"] if self.sweep is True else (self.sweep or {})
        keys = sorted(grid)
        combos = [{}] + [dict(zip(keys, vals)) for vals in itertools.product(*(grid[k] for k in keys))]
        out = []
        for b in base:
            for c in combos:
                s = {**b, **c}
                if s not in out:
                    out.append(s)
        return out


class Objective(_Strict):
    weights: dict[str, float] = Field(default_factory=dict)
    limits: dict[str, float] = Field(default_factory=dict)


class Exclusion(_Strict):
    problem: str = "*"
    agent: str = "*"


class ExperimentConfig(_Strict):
    name: str = "experiment"
    budget: int = Field(gt=0)
    batch_size: int = Field(default=1, gt=0)
    seeds: int | str | list[int] = 0
    problems: list[str | ProblemEntry] = Field(min_length=1)
    agents: list[str | AgentEntry] = Field(min_length=1)
    objective: Objective = Field(default_factory=Objective)
    exclude: list[Exclusion] = Field(default_factory=list)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v):
        return parse_seeds(v)

    @field_validator("problems")
    @classmethod
    def _problems(cls, v):
        return [ProblemEntry(id=p) if isinstance(p, str) else p for p in v]

    @field_validator("agents")
    @classmethod
    def _agents(cls, v):
        return [AgentEntry(name=a) if isinstance(a, str) else a for a in v]


def parse_seeds(value) -> list[int]:
    """Seeds from ``"0-9"``, ``"0,3,7"``, an integer or a list.

    >>> parse_seeds("0-3"), parse_seeds(5), parse_seeds("1,4")
    ([0, 1, 2, 3], [5], [1, 4])
    """
    if isinstance(value, bool):  # pydantic turns ValueError (not TypeError) into a validation message
        raise ValueError("seeds must be integers, 'A-B' or a list")  # noqa: TRY004
    if isinstance(value, int):
        return [value]
    if isinstance(value, list):
        if not value or not all(isinstance(s, int) and not isinstance(s, bool) for s in value):
            raise ValueError("seeds must be a non-empty list of integers")
        return list(dict.fromkeys(value))
    text = str(value).strip()
    m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", text)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if b < a:
            raise ValueError(f"seed range '{text}' ends before it starts")
        return list(range(a, b + 1))
    try:
        return list(dict.fromkeys(int(s) for s in text.split(",")))
    except ValueError:
        raise ValueError(f"seeds '{text}' must look like '0-9', '1,4,7' or 3") from None


def _format_error(path: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        key = ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and p.startswith(("str", "function"))))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            model = _model_at(err["loc"])
            allowed = ", ".join(model.model_fields) if model else "see the docs"
            msg = f"unknown key; allowed keys: {allowed}"
        elif err["type"] == "missing":
            msg = "required key is missing"
        parts.append(f"{key or '(top level)'}: {msg}")
    return f"{path}: " + "; ".join(parts)


def _model_at(loc) -> type[BaseModel] | None:
    models = {"problems": ProblemEntry, "agents": AgentEntry, "objective": Objective, "exclude": Exclusion}
    named = [p for p in loc[:-1] if isinstance(p, str) and p in models]
    return models[named[-1]] if named else ExperimentConfig


def validate(data: Any, source: str = "<config>") -> ExperimentConfig:
    """Validate a config mapping; errors name the source, the key and what is allowed."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: an experiment config must be a mapping of keys "
                          f"({', '.join(ExperimentConfig.model_fields)}), got {type(data).__name__}")
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(source, exc)) from None


def load_config(path: str | os.PathLike) -> ExperimentConfig:
    """Read and validate an experiment YAML file."""
    import yaml
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"experiment config '{p}' not found" if not p.exists() else f"'{p}' is not a file")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {str(exc).splitlines()[0]}") from None
    cfg = validate(data, str(p))
    if cfg.name == "experiment":
        cfg.name = p.stem
    return cfg


def expand(cfg: ExperimentConfig) -> list[RunSpec]:
    """Every run of a config, in a fixed order: problem, agent, hyperparameter setting, seed."""
    objective = {k: v for k, v in cfg.objective.model_dump().items() if v}
    specs = []
    for p in cfg.problems:
        for a in cfg.agents:
            if any(fnmatch.fnmatchcase(p.id, x.problem) and fnmatch.fnmatchcase(a.name, x.agent) for x in cfg.exclude):
                continue
            for hp in a.settings():
                for seed in cfg.seeds:
                    specs.append(RunSpec(problem=p.id, agent=a.name, seed=seed, budget=p.budget or cfg.budget,
                                         batch_size=cfg.batch_size, problem_options=dict(p.options),
                                         hparams=hp, objective=objective, experiment=cfg.name))
    return specs
