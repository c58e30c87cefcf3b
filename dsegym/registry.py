"""The problem registry: ``register``, ``make``, ``list_problems``, and plugin discovery.

Factories may be callables or lazy ``"module:attr"`` strings, so registering every built-in problem
on ``import dsegym`` imports no simulator. Third-party packages declare an entry point in the group
``dsegym.problems``; it is found without an import the first time problems are listed or made:

- an entry point whose attribute name starts with ``register`` (``pkg.mod:register_all``) is a
  *registrar*: it is imported and called once, and registers its problems itself;
- any other entry point is a *factory*, registered under the entry point's name without importing or
  calling it, so a factory that needs options (``trace=...``) can ship and listing costs nothing.

Every problem is also a Gymnasium env ``dsegym/<problem_id>``. ``import dsegym`` does not import
gymnasium: the ids are registered with Gymnasium when gymnasium is (or already was) imported, so
``import gymnasium as gym, dsegym`` and ``import dsegym, gymnasium as gym`` both make
``gym.make("dsegym/<id>")`` work, plugins included.

>>> import dsegym
>>> "accel-resnet18" in dsegym.list_problems()
True
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import inspect
import sys
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
        """The factory itself (imports its module for a ``"module:attr"`` string)."""
        if callable(self.factory):
            return self.factory
        try:
            return _load_attr(self.factory)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"problem '{self.id}': cannot load its factory {self.factory!r}: {exc}") from None


def _load_attr(target: str) -> Any:
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        if part:
            obj = getattr(obj, part)
    return obj


_REGISTRY: dict[str, ProblemSpec] = {}
_plugins_loaded = False
_GYM_ENTRY_POINT = "dsegym.env:DesignEnv"


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
    if "gymnasium.envs.registration" in sys.modules:  # otherwise the import hook registers it later
        _register_gymnasium(problem_id)
    return spec


def _register_gymnasium(problem_id: str) -> None:
    """Make ``dsegym/<problem_id>`` a Gymnasium id (gymnasium must be imported already)."""
    registration = sys.modules["gymnasium.envs.registration"]
    env_id = f"dsegym/{problem_id}"
    registration.registry.pop(env_id, None)
    registration.register(env_id, entry_point=_GYM_ENTRY_POINT, kwargs={"problem": problem_id},
                          disable_env_checker=False)


def register_gymnasium_ids() -> None:
    """Register every dsegym problem (plugins included) as a Gymnasium id; needs gymnasium imported.

    Called automatically: at ``import dsegym`` when gymnasium is already loaded, else right after
    gymnasium's own import completes (see :class:`_GymnasiumHook`).
    """
    _load_plugins()
    for problem_id in list(_REGISTRY):
        _register_gymnasium(problem_id)


class _GymnasiumHook(importlib.abc.MetaPathFinder):
    """Runs :func:`register_gymnasium_ids` once ``gymnasium`` has finished importing.

    Gymnasium 1.x has no plugin entry point any more, and importing it costs about 0.5 s, which
    ``import dsegym`` must not pay. This finder wraps the loader of the ``gymnasium`` package only,
    registers the ids after the package has executed, and then removes itself.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "gymnasium":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _HookedLoader(spec.loader)
                return spec
        return None


class _HookedLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _remove_hook()
        try:
            register_gymnasium_ids()
        except Exception as exc:  # noqa: BLE001 - gymnasium must import even if a plugin is broken
            warnings.warn(f"dsegym: could not register Gymnasium ids: {exc}", stacklevel=2)

    def __getattr__(self, name):  # get_resource_reader, is_package, ... of the wrapped loader
        return getattr(self._loader, name)


_HOOK = _GymnasiumHook()


def _remove_hook() -> None:
    if _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


def _install_gymnasium_registration() -> None:
    """Register the Gymnasium ids now if gymnasium is loaded, else when it is imported."""
    if "gymnasium.envs.registration" in sys.modules:
        register_gymnasium_ids()
    elif _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)


def _load_plugins() -> None:
    """Find third-party problems through the ``dsegym.problems`` entry-point group (once)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        attr = ep.value.partition(":")[2].split(".")[-1].strip()
        if not attr.startswith("register"):
            # A factory: registered by name, neither imported nor built until someone makes it.
            if ep.name not in _REGISTRY:
                try:
                    register(ep.name, ep.value.replace(" ", ""), description=f"plugin problem ({ep.value})",
                             tags=("plugin",))
                except ConfigError as exc:
                    warnings.warn(f"dsegym: plugin entry point '{ep.name}' ({ep.value}) ignored: {exc}",
                                  stacklevel=2)
            continue
        try:
            ep.load()()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break dsegym itself
            warnings.warn(f"dsegym: plugin entry point '{ep.name}' ({ep.value}) failed to load: {exc}",
                          stacklevel=2)


def spec(problem_id: str) -> ProblemSpec:
    """The registration record of a problem id (raises UnknownIdError with the nearest known id).

    An unregistered ``"module:factory"`` id imports ``module`` (from the working directory too) and
    registers ``factory`` under that id, so a one-file design space needs no packaging.
    """
    if problem_id not in _REGISTRY:
        _load_plugins()
    if problem_id not in _REGISTRY and ":" in problem_id:
        _register_target(problem_id)
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
    if not isinstance(problem_id, str):
        raise ConfigError(f"problem id must be a string, got {type(problem_id).__name__}")
    prefix, sep, rest = problem_id.partition(":")
    if sep and prefix in _PREFIXES and problem_id not in _REGISTRY:
        import importlib
        module, _, fn = _PREFIXES[prefix].partition(":")
        return getattr(importlib.import_module(module), fn)(rest, **kwargs)
    s = spec(problem_id)
    factory = s.load_factory()
    options = {**s.kwargs, **kwargs}
    _check_options(problem_id, factory, options)
    problem = factory(**options)
    from .problem import Problem
    if not isinstance(problem, Problem):
        raise ConfigError(f"the factory of problem '{problem_id}' returned {type(problem).__name__}, not a Problem")
    problem.id = problem_id  # one factory may serve several ids; the registered id is the name
    # The id alone does not say which options built the problem: keep them for provenance.
    problem.info = {**problem.info, "make_kwargs": {**s.kwargs, **kwargs}}
    return problem


def _register_target(target: str) -> None:
    """Register ``"module:factory"`` under its own name (ConfigError if it cannot be imported)."""
    import os
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        factory = _load_attr(target)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"problem '{target}': cannot import it as module:factory ({exc})") from None
    if not callable(factory):
        raise ConfigError(f"problem '{target}': {type(factory).__name__} is not a factory")
    register(target, factory, description=f"factory {target}", tags=("import",), overwrite=True)


def _check_options(problem_id: str, factory: Callable[..., Any], options: Mapping[str, Any]) -> None:
    """Raise ConfigError naming the allowed options if ``options`` do not fit the factory's signature."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins and C callables: let the call itself decide
        return
    params = sig.parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = [k for k in options if k not in names]
    if unknown:
        allowed = ", ".join(names) or "none"
        raise ConfigError(f"problem '{problem_id}' has no option {unknown[0]!r}; allowed options: {allowed}")
    missing = [p.name for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               and p.name not in options]
    if missing:
        raise ConfigError(f"problem '{problem_id}' needs the option {missing[0]!r} (e.g. -a {missing[0]}=...)")


def list_problems(tag: str | None = None) -> list[str]:
    """Ids of every registered problem (built-in and plugin), sorted; optionally only those with ``tag``.

    Raises UnknownIdError if no problem has ``tag``.
    """
    _load_plugins()
    ids = sorted(k for k, s in _REGISTRY.items() if tag is None or tag in s.tags)
    if tag is not None and not ids:
        raise UnknownIdError("tag", tag, known_tags())
    return ids


def known_tags() -> list[str]:
    """Every tag some registered problem carries."""
    _load_plugins()
    return sorted({t for s in _REGISTRY.values() for t in s.tags})


def registered() -> dict[str, ProblemSpec]:
    """Every registration record, by id."""
    _load_plugins()
    return dict(_REGISTRY)
