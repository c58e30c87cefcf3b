"""Gymnasium and PettingZoo environments over any registered Problem.

- :class:`DesignEnv`: one step proposes one full design (a ``MultiDiscrete`` action over the space's
  index grid) and observes the normalised metrics; the episode lasts ``episode_length`` steps.
- :class:`SequentialDesignEnv`: one step sets one parameter; the design is simulated after the last.
- :class:`ParallelDesignEnv`: a PettingZoo ``ParallelEnv`` with one agent per parameter group (or per
  parameter) that share the reward, the multi-agent formulation of Krishnan et al. 2022.

Actions that violate a constraint are not errors for an agent that is exploring: with
``on_infeasible="penalty"`` (default) they earn ``infeasible_reward`` and are not simulated. Actions
that are NaN, of the wrong shape or out of range raise :class:`~dsegym.errors.InvalidActionError`.

>>> import gymnasium as gym, dsegym
>>> env = gym.make("dsegym/accel-resnet18", episode_length=4)
>>> obs, info = env.reset(seed=0)
>>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
>>> info["feasible"] == bool(info["metrics"])
True
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .errors import ConfigError, ConstraintViolation, InvalidActionError, UnknownIdError
from .problem import Problem
from .rewards import RewardModel


def _resolve(problem: str | Problem, problem_kwargs: Mapping[str, Any] | None) -> Problem:
    if isinstance(problem, Problem):
        if problem_kwargs:
            raise ConfigError("problem_kwargs only apply when the problem is given by id")
        return problem
    from .registry import make
    return make(problem, **dict(problem_kwargs or {}))


# Keyword options every env passes on to :class:`~dsegym.rewards.RewardModel`.
REWARD_OPTIONS = ("weights", "targets", "limits", "tolerance", "penalty", "reference")


def _check_options(env: str, reward_kwargs: Mapping[str, Any], own: tuple[str, ...]) -> None:
    """Reject keyword options no env or reward knows, naming every allowed option."""
    unknown = [k for k in reward_kwargs if k not in REWARD_OPTIONS]
    if unknown:
        allowed = ", ".join((*own, *REWARD_OPTIONS))
        raise ConfigError(f"{env} has no option {unknown[0]!r}; allowed options: {allowed}")


def _check_seed(seed: Any) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ConfigError(f"seed must be None or an integer >= 0, got {seed!r}")


def _episode_length(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"episode_length must be an integer >= 1, got {value!r}")
    return int(value)


_DESIGN_ENV_OPTIONS = ("problem", "reward", "episode_length", "problem_kwargs", "on_infeasible",
                       "infeasible_reward")


def _check_int_action(action, nvec: np.ndarray, names) -> np.ndarray:
    try:
        a = np.asarray(action)
    except (TypeError, ValueError):
        raise InvalidActionError(f"action must be an array of {len(nvec)} integer indices, got {action!r}") from None
    if a.shape != nvec.shape:
        raise InvalidActionError(f"action must have shape {nvec.shape} (one index per parameter), got {a.shape}")
    if a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise InvalidActionError("action contains NaN or inf")
        if (a != np.round(a)).any():
            raise InvalidActionError("action entries must be integers")
    elif a.dtype.kind not in "iu" or a.dtype == bool:
        raise InvalidActionError(f"action must be integer indices, got dtype {a.dtype}")
    a = a.astype(np.int64)
    bad = (a < 0) | (a >= nvec)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise InvalidActionError(f"action index {a[j]} out of range for '{names[j]}': allowed 0..{nvec[j] - 1}")
    return a


class _Evaluator:
    """Shared by every env: decode an index vector, simulate, score. One code path for all envs."""

    def __init__(self, problem, reward, reward_kwargs, on_infeasible, infeasible_reward):
        if on_infeasible not in ("penalty", "raise"):
            raise ConfigError(f"on_infeasible must be 'penalty' or 'raise', got {on_infeasible!r}")
        self.problem = problem
        self.space = problem.space
        self.rewards = RewardModel(problem, reward, **reward_kwargs)
        self.on_infeasible, self.infeasible_reward = on_infeasible, float(infeasible_reward)

    def run(self, index: np.ndarray) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        design = self.space.from_index(index, check_constraints=False)
        try:
            self.space.validate(design)
        except ConstraintViolation as exc:
            if self.on_infeasible == "raise":
                raise
            obs = np.ones(self.rewards.obs_size, dtype=np.float32)
            return obs, self.infeasible_reward, False, {"design": design, "feasible": False, "metrics": {},
                                                        "error": str(exc)}
        results = self.problem.evaluate([design])
        metrics = {k: (v.item() if hasattr(v, "item") else v) for k, v in results.iloc[0].items()}
        reward = float(self.rewards.reward(results)[0])
        done = bool(self.rewards.reached(results)[0])
        obs = self.rewards.observe(results)[0]
        return obs, reward, done, {"design": design, "feasible": True, "metrics": metrics,
                                   "score": float(self.problem.score(results)[0])}


class DesignEnv(gym.Env):
    """One step = one full design. See the module docstring for an example.

    Args:
        problem: a registered id or a Problem.
        reward: ``"weighted"``, ``"target"`` or ``"constrained"`` (see :mod:`dsegym.rewards`).
        episode_length: steps per episode (ArchGym uses a fixed number of designs per episode).
        weights, targets, limits, tolerance, penalty: reward settings.
        on_infeasible: ``"penalty"`` or ``"raise"`` for actions that violate a constraint.
    """

    metadata = {"render_modes": []}

    def __init__(self, problem: str | Problem, reward: str = "weighted", episode_length: int = 16,
                 problem_kwargs: Mapping[str, Any] | None = None, on_infeasible: str = "penalty",
                 infeasible_reward: float = -10.0, **reward_kwargs):
        super().__init__()
        _check_options("DesignEnv", reward_kwargs, _DESIGN_ENV_OPTIONS)
        self.episode_length = _episode_length(episode_length)
        self.problem = _resolve(problem, problem_kwargs)
        self._eval = _Evaluator(self.problem, reward, reward_kwargs, on_infeasible, infeasible_reward)
        self.space = self.problem.space
        self.action_space = spaces.MultiDiscrete(self.space.nvec)
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(self._eval.rewards.obs_size,), dtype=np.float32)
        self._t: int | None = None  # None: reset() not called yet, or the episode has ended

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode; ``seed`` (None or an integer >= 0) seeds the action space too."""
        _check_seed(seed)
        super().reset(seed=seed)
        if seed is not None:  # reseeding with None would make later episodes irreproducible
            self.action_space.seed(seed)
        self._t = 0
        return np.zeros(self.observation_space.shape, dtype=np.float32), {}

    def step(self, action):
        """Simulate one design; raises InvalidActionError for a bad action or a step outside an episode
        (before ``reset()`` or after the episode terminated or was truncated)."""
        if self._t is None:
            raise InvalidActionError("call reset() before step(): no episode is running "
                                     "(not started, or it terminated or was truncated)")
        index = _check_int_action(action, self.space.nvec, self.space.names)
        obs, reward, done, info = self._eval.run(index)
        self._t += 1
        truncated = self._t >= self.episode_length
        if done or truncated:
            self._t = None
        return obs, reward, done, truncated, info


class SequentialDesignEnv(gym.Env):
    """One step sets one parameter (in space order); the design is simulated at the last step.

    The action is ``Discrete(max cardinality)``; for a parameter with ``k`` values action ``a`` picks
    index ``a * k // max``, so every value is reachable and the mapping is monotone. The observation is
    the normalised indices chosen so far (-1 where unset), a one-hot of the current position, and the
    normalised metrics of the previous design.
    """

    metadata = {"render_modes": []}

    def __init__(self, problem: str | Problem, reward: str = "weighted",
                 problem_kwargs: Mapping[str, Any] | None = None, on_infeasible: str = "penalty",
                 infeasible_reward: float = -10.0, **reward_kwargs):
        super().__init__()
        _check_options("SequentialDesignEnv", reward_kwargs,
                       tuple(o for o in _DESIGN_ENV_OPTIONS if o != "episode_length"))
        self.problem = _resolve(problem, problem_kwargs)
        self._eval = _Evaluator(self.problem, reward, reward_kwargs, on_infeasible, infeasible_reward)
        self.space = self.problem.space
        d, k = len(self.space), self._eval.rewards.obs_size
        self._max = int(self.space.nvec.max())
        self.action_space = spaces.Discrete(self._max)
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(2 * d + k,), dtype=np.float32)
        self._index = np.zeros(d, dtype=np.int64)
        self._pos = d  # no episode until reset()
        self._last = np.zeros(k, dtype=np.float32)

    def _obs(self) -> np.ndarray:
        d = len(self.space)
        chosen = np.where(np.arange(d) < self._pos, self._index / np.maximum(self.space.nvec - 1, 1), -1.0)
        onehot = np.zeros(d)
        if self._pos < d:
            onehot[self._pos] = 1.0
        return np.concatenate([chosen, onehot, self._last]).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode; ``seed`` (None or an integer >= 0) seeds the action space too."""
        _check_seed(seed)
        super().reset(seed=seed)
        if seed is not None:  # reseeding with None would make later episodes irreproducible
            self.action_space.seed(seed)
        self._pos = 0
        self._index[:] = 0
        self._last[:] = 0
        return self._obs(), {}

    def step(self, action):
        """Set the next parameter; raises InvalidActionError unless ``action`` is one integer (a Python or
        numpy integer, or a one-element integer array) in range, or outside an episode."""
        a = action
        if isinstance(a, np.ndarray) and a.size == 1:
            a = a.reshape(())[()]
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise InvalidActionError(f"action must be one integer in 0..{self._max - 1}, got {action!r}")
        a = int(a)
        if not 0 <= a < self._max:
            raise InvalidActionError(f"action {a} out of range: allowed 0..{self._max - 1}")
        if self._pos >= len(self.space):
            raise InvalidActionError("call reset() before step(): no episode is running (not started, or over)")
        k = int(self.space.nvec[self._pos])
        self._index[self._pos] = a * k // self._max
        self._pos += 1
        if self._pos < len(self.space):
            return self._obs(), 0.0, False, False, {}
        obs, reward, _, info = self._eval.run(self._index.copy())
        self._last = obs
        return self._obs(), reward, True, False, info


def _parallel_env_base():
    from pettingzoo import ParallelEnv
    return ParallelEnv


class ParallelDesignEnv(_parallel_env_base()):
    """PettingZoo parallel env: each agent sets its own slice of the design; all share one reward.

    ``agents="group"`` makes one agent per parameter group (``MultiDiscrete`` actions, or ``Discrete``
    for a one-parameter group); ``agents="parameter"`` makes one agent per parameter (``Discrete``), as
    in the DRAM multi-agent paper (action sizes 4,3,3,8,2,2,4,4,3,8).

    >>> import dsegym
    >>> env = ParallelDesignEnv("accel-resnet18", episode_length=2)
    >>> obs, infos = env.reset(seed=0)
    >>> sorted(env.agents)[:2]
    ['compute', 'dram']
    """

    metadata = {"name": "dsegym_parallel_v0", "render_modes": []}

    def __init__(self, problem: str | Problem, agents: str = "group", episode_length: int = 16,
                 reward: str = "weighted", problem_kwargs: Mapping[str, Any] | None = None,
                 on_infeasible: str = "penalty", infeasible_reward: float = -10.0, **reward_kwargs):
        _check_options("ParallelDesignEnv", reward_kwargs, ("agents", *_DESIGN_ENV_OPTIONS))
        if agents not in ("group", "parameter"):
            raise ConfigError(f"agents must be 'group' or 'parameter', got {agents!r}")
        self.episode_length = _episode_length(episode_length)
        self.problem = _resolve(problem, problem_kwargs)
        self._eval = _Evaluator(self.problem, reward, reward_kwargs, on_infeasible, infeasible_reward)
        self.space = self.problem.space
        groups = self.space.groups if agents == "group" else {n: [n] for n in self.space.names}
        self.slices = {a: [self.space.names.index(n) for n in names] for a, names in groups.items()}
        self.possible_agents = list(groups)
        self.agents: list[str] = []
        k = self._eval.rewards.obs_size
        self._obs_space = spaces.Box(-1.0, 1.0, shape=(k,), dtype=np.float32)
        self._action_spaces = {}
        for a, idx in self.slices.items():
            nvec = self.space.nvec[idx]
            self._action_spaces[a] = spaces.Discrete(int(nvec[0])) if len(idx) == 1 else spaces.MultiDiscrete(nvec)
        self._t = 0

    def observation_space(self, agent):
        """Every agent observes the normalised metrics of the last design, in [-1, 1]."""
        return self._obs_space

    def action_space(self, agent):
        """The agent's ``Discrete``/``MultiDiscrete`` space over its parameters; UnknownIdError for other names."""
        try:
            return self._action_spaces[agent]
        except KeyError:
            raise UnknownIdError("agent", agent, self.possible_agents) from None

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Start an episode with every agent live; ``seed`` (None or an integer >= 0) seeds the action spaces."""
        _check_seed(seed)
        self.agents = list(self.possible_agents)
        self._t = 0
        if seed is not None:
            for i, a in enumerate(self.possible_agents):
                self._action_spaces[a].seed(seed + i)
        zeros = np.zeros(self._obs_space.shape, dtype=np.float32)
        return {a: zeros.copy() for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions: Mapping[str, Any]):
        """Every live agent's action at once; raises InvalidActionError for missing, unknown or bad actions,
        and before ``reset()`` or after the episode ended (PettingZoo: no agents left)."""
        if not self.agents:
            raise InvalidActionError("call reset() before step(): no agent is live (not started, or the episode ended)")
        if not isinstance(actions, Mapping):
            raise InvalidActionError(f"actions must be a dict agent -> action, got {type(actions).__name__}")
        missing = set(self.agents) - set(actions)
        if missing:
            raise InvalidActionError(f"missing actions for agents {sorted(missing)}")
        extra = set(actions) - set(self.agents)
        if extra:
            raise InvalidActionError(f"actions for unknown or finished agents {sorted(map(str, extra))}; "
                                     f"live agents: {', '.join(self.agents)}")
        index = np.zeros(len(self.space), dtype=np.int64)
        for a in self.agents:
            idx = self.slices[a]
            index[idx] = _check_int_action(np.atleast_1d(actions[a]), self.space.nvec[idx],
                                           [self.space.names[j] for j in idx])
        obs, reward, done, info = self._eval.run(index)
        self._t += 1
        trunc = self._t >= self.episode_length
        agents = self.agents
        out = ({a: obs.copy() for a in agents}, {a: reward for a in agents}, {a: done for a in agents},
               {a: trunc for a in agents}, {a: dict(info) for a in agents})
        if done or trunc:
            self.agents = []
        return out

    def render(self):
        """Nothing to render: designs are not pictures."""
        return None

    def close(self):
        """Nothing to release."""
        return None
