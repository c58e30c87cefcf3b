"""The problem registry: ``register``, ``make``, ``list_problems``, and plugin discovery.

Factories may be callables or lazy ``"module:attr"`` strings, so registering every built-in problem
on ``import dsegym`` imports no simulator. Third-party packages declare an entry point in the group
``dsegym.problems``; it is found without an import the first time problems are listed or made. The
entry point names either a factory (registered under the entry point's name) or a callable that
registers problems itself and returns None.

>>> import dsegym
>>> "accel-resnet18" in dsegym.list_problems()
True
"""
from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, UnknownIdError

ENTRY_POINT_GROUP = "dsegym.problems"


@dataclass
class ProblemSpec:
    """What ``register`` stores: how to build a problem, and how to describe it without building it."""

    id: str
    factory: Callable[..., Any] | str
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    tags: tuple[str, ...] = ()

    def load_factory(self) -> Callable[..., Any]:
        if callable(self.factory):
            return self.factory
        module, _, attr = self.factory.partition(":")
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj


_REGISTRY: dict[str, ProblemSpec] = {}
_plugins_loaded = False


def register(problem_id: str, factory: Callable[..., Any] | str, kwargs: Mapping[str, Any] | None = None,
             description: str = "", tags: Sequence[str] = (), overwrite: bool = False) -> ProblemSpec:
    """Register a problem factory under ``problem_id`` (also as Gymnasium env ``dsegym/<problem_id>``).

    >>> from dsegym.space import DesignSpace, Integer
    >>> from dsegym.problem import Problem, Objective
    >>> import pandas as pd
    >>> def make_toy(scale=1.0):
    ...     space = DesignSpace([Integer("x", 1, 8)])
    ...     sim = lambda df: pd.DataFrame({"latency_cycles": scale * (df["x"] - 3) ** 2 + 1.0})
    ...     return Problem("toy-doc", space, sim, [Objective("latency_cycles")])
    >>> _ = register("toy-doc", make_toy, overwrite=True)
    >>> make("toy-doc", scale=2.0).evaluate([{"x": 5}])["latency_cycles"].item()
    9.0
    """
    if not isinstance(problem_id, str) or not problem_id or any(c.isspace() or c == "/" for c in problem_id):
        raise ConfigError(f"problem id must be a non-empty string without spaces or '/', got {problem_id!r}")
    if problem_id in _REGISTRY and not overwrite:
        raise ConfigError(f"problem '{problem_id}' is already registered (pass overwrite=True to replace it)")
    if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
        raise ConfigError(f"factory for '{problem_id}' must be a callable or a 'module:attr' string")
    spec = ProblemSpec(problem_id, factory, dict(kwargs or {}), description, tuple(tags))
    _REGISTRY[problem_id] = spec
    _register_gymnasium(problem_id)
    return spec


def _register_gymnasium(problem_id: str) -> None:
    import gymnasium

    env_id = f"dsegym/{problem_id}"
    if env_id in gymnasium.registry:
        del gymnasium.registry[env_id]
    gymnasium.register(env_id, entry_point="dsegym.env:DesignEnv", kwargs={"problem": problem_id},
                       disable_env_checker=False)


def _load_plugins() -> None:
    """Find third-party problems through the ``dsegym.problems`` entry-point group (once)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _REGISTRY:
            continue
        try:
            obj = ep.load()
            result = obj()
        except Exception as exc:  # a broken plugin must not break dsegym itself
            warnings.warn(f"dsegym: plugin entry point '{ep.name}' ({ep.value}) failed to load: {exc}",
                          stacklevel=2)
            continue
        if result is not None and ep.name not in _REGISTRY:
            from .problem import Problem
            if isinstance(result, Problem):
                register(ep.name, obj, description=result.description, tags=("plugin",))
            else:
                warnings.warn(f"dsegym: plugin entry point '{ep.name}' returned {type(result).__name__}, "
                              "expected a Problem or None", stacklevel=2)


def spec(problem_id: str) -> ProblemSpec:
    """The registration record of a problem id (raises with the nearest known id)."""
    if problem_id not in _REGISTRY:
        _load_plugins()
    try:
        return _REGISTRY[problem_id]
    except KeyError:
        raise UnknownIdError("problem", problem_id, _REGISTRY) from None


# Id prefixes served by a factory named lazily ("module:function"), e.g. "proxy:<id>" answered by a
# predictor; the core never imports the module until such an id is made.
_PREFIXES: dict[str, str] = {"proxy": "dsegym.predictors.proxy:make_proxy"}


def make(problem_id: str, **kwargs: Any):
    """Build a registered problem; ``kwargs`` update the registered defaults.

    >>> import dsegym
    >>> dsegym.make("accel-resnet18").id
    'accel-resnet18'
    """
    prefix, sep, rest = problem_id.partition(":") if isinstance(problem_id, str) else ("", "", "")
    if sep and prefix in _PREFIXES and problem_id not in _REGISTRY:
        import importlib
        module, _, fn = _PREFIXES[prefix].partition(":")
        return getattr(importlib.import_module(module), fn)(rest, **kwargs)
    s = spec(problem_id)
    factory = s.load_factory()
    try:
        problem = factory(**{**s.kwargs, **kwargs})
    except TypeError as exc:
        if "unexpected keyword" in str(exc) or "positional argument" in str(exc):
            raise ConfigError(f"problem '{problem_id}': {exc}") from None
        raise
    problem.id = problem_id  # one factory may serve several ids; the registered id is the name
    # The id alone does not say which options built the problem: keep them for provenance.
    problem.info = {**problem.info, "make_kwargs": {**s.kwargs, **kwargs}}
    return problem


def list_problems(tag: str | None = None) -> list[str]:
    """Ids of every registered problem (built-in and plugin), sorted; optionally only those with ``tag``."""
    _load_plugins()
    return sorted(k for k, s in _REGISTRY.items() if tag is None or tag in s.tags)


def registered() -> dict[str, ProblemSpec]:
    """Every registration record, by id."""
    _load_plugins()
    return dict(_REGISTRY)
