"""The bridge between push-style Stable-Baselines3 and pull-style ask/tell: ``learn()`` as a coroutine.

SB3's ``model.learn()`` steps an environment and wants each reward back before it picks the next
action; search agents hand designs out (``ask``) and get their metrics back (``tell``). Here
``model.learn()`` runs in a *greenlet*, a coroutine on the caller's own thread:

- the told-results VecEnv's ``step`` switches back to the agent with the designs to evaluate
  (:meth:`Learner.request`), and ``tell`` switches into the learner with their metrics
  (:meth:`Learner.send`); the learner runs only between those two switches;
- no thread is involved, so nothing outlives the agent: :meth:`Learner.close` (called by the
  agent's ``close`` or its finaliser) throws ``GreenletExit`` into the coroutine, which unwinds
  ``learn()``; a Ctrl-C while the learner runs reaches the caller as usual and ends the coroutine;
- an exception inside ``learn()`` surfaces from the ``start``/``send`` call that resumed it.

>>> from greenlet import greenlet
>>> learner = Learner()
>>> learner.model = type("Model", (), {"learn": lambda self, total_timesteps: learner.request(["a"]) + ["b"]})()
>>> learner.start()
('designs', ['a'])
>>> learner.send(["metrics"])
('finished', ['metrics', 'b'])
"""
from __future__ import annotations

from typing import Any

import greenlet
import numpy as np

from ..errors import ConfigError

Design = dict[str, Any]

_FOREVER = 10 ** 12  # total_timesteps handed to learn(): the learner runs until it is closed


class Learner:
    """``model.learn()`` as a coroutine. Set ``model`` before :meth:`start`; drive it from one thread."""

    def __init__(self):
        self.model = None
        self._g: greenlet.greenlet | None = None

    # --- agent side -------------------------------------------------------------------------------
    def start(self) -> tuple[str, Any]:
        """Run ``learn()`` until it requests designs: returns ``("designs", list)`` or ``("finished", _)``."""
        self._g = greenlet.greenlet(self._main)
        return self._resume()

    def send(self, results) -> tuple[str, Any]:
        """Hand the requested designs' metrics (a DataFrame) in; returns the learner's next message."""
        return self._resume(results)

    def _resume(self, *args) -> tuple[str, Any]:
        g = self._g
        g.parent = greenlet.getcurrent()  # come back to whoever drives the learner now
        return g.switch(*args)

    @property
    def alive(self) -> bool:
        """True while ``learn()`` is suspended inside a request."""
        return self._g is not None and bool(self._g) and not self._g.dead

    def close(self) -> None:
        """Unwind ``learn()`` (GreenletExit) if it is suspended; afterwards the learner cannot run again."""
        g, self._g = self._g, None
        if g is None or g.dead:
            return
        try:
            g.parent = greenlet.getcurrent()
            g.throw(greenlet.GreenletExit)
        except greenlet.error:  # closed from another thread: greenlet kills it when it is collected
            pass

    # --- learner side -----------------------------------------------------------------------------
    def _main(self):
        result = self.model.learn(total_timesteps=_FOREVER)
        return ("finished", result)

    def request(self, designs: list[Design]):
        """Called inside ``learn()``: hand ``designs`` to the agent, return their metrics when told."""
        return self._g.parent.switch(("designs", designs))


_VEC_ENV_CLASS = None


def vec_env_class():
    """The told-results VecEnv, defined on first use so that importing this module stays cheap."""
    global _VEC_ENV_CLASS
    if _VEC_ENV_CLASS is not None:
        return _VEC_ENV_CLASS
    from gymnasium import spaces
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv

    class TellVecEnv(VecEnv):
        """``num_envs`` copies of DesignEnv (``encoding="index"`` or ``"unit"``) or SequentialDesignEnv
        (``encoding="sequential"``) whose metrics come from the agent's ``tell`` instead of a simulator."""

        def __init__(self, space, rewards, encoding: str, num_envs: int, episode_length: int,
                     infeasible_reward: float, channel: Learner):
            self.space, self.rewards, self.encoding = space, rewards, encoding
            self.channel = channel
            self.episode_length, self.infeasible_reward = int(episode_length), float(infeasible_reward)
            d, k = len(space), len(rewards.metrics)
            self.d, self.k = d, k
            self.max_card = int(space.nvec.max())
            if encoding == "index":
                action_space = spaces.MultiDiscrete(space.nvec)
                obs_space = spaces.Box(-1.0, 1.0, shape=(k,), dtype=np.float32)
            elif encoding == "unit":
                action_space = spaces.Box(0.0, 1.0, shape=(d,), dtype=np.float32)
                obs_space = spaces.Box(-1.0, 1.0, shape=(k,), dtype=np.float32)
            elif encoding == "sequential":
                action_space = spaces.Discrete(self.max_card)
                obs_space = spaces.Box(-1.0, 1.0, shape=(2 * d + k,), dtype=np.float32)
            else:  # pragma: no cover - internal
                raise ConfigError(f"unknown encoding {encoding!r}")
            self._t = np.zeros(num_envs, dtype=np.int64)
            self._pos = np.zeros(num_envs, dtype=np.int64)
            self._index = np.zeros((num_envs, d), dtype=np.int64)
            self._last = np.zeros((num_envs, k), dtype=np.float32)
            self._actions = None
            self.handed_out = 0  # designs posted to the agent so far
            super().__init__(num_envs, obs_space, action_space)
            self.current_obs = self._all_obs()

        # --- observations ---------------------------------------------------------------------------
        def _obs(self, i: int) -> np.ndarray:
            if self.encoding != "sequential":
                return self._last[i].copy()
            pos = self._pos[i]
            scale = np.maximum(self.space.nvec - 1, 1)
            chosen = np.where(np.arange(self.d) < pos, self._index[i] / scale, -1.0)
            onehot = np.zeros(self.d)
            if pos < self.d:
                onehot[pos] = 1.0
            return np.concatenate([chosen, onehot, self._last[i]]).astype(np.float32)

        def _all_obs(self) -> np.ndarray:
            return np.stack([self._obs(i) for i in range(self.num_envs)])

        def _reset_one(self, i: int) -> None:
            # DesignEnv and SequentialDesignEnv both start an episode from zero metrics.
            self._t[i], self._pos[i] = 0, 0
            self._index[i] = 0
            self._last[i] = 0.0

        # --- VecEnv API -----------------------------------------------------------------------------
        def reset(self):
            for i in range(self.num_envs):
                self._reset_one(i)
            self._reset_seeds()
            self._reset_options()
            self.current_obs = self._all_obs()
            return self.current_obs

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = np.asarray(actions)

        def decode(self, actions: np.ndarray) -> list[Design]:
            """Full-design actions (index or unit encoding) to designs, constraints unchecked."""
            if self.encoding == "unit":
                u = np.clip(np.asarray(actions, dtype=np.float64).reshape(len(actions), self.d), 0.0, 1.0)
                return self.space.from_unit_batch(u, check_constraints=False)
            idx = np.asarray(actions, dtype=np.int64).reshape(len(actions), self.d)
            return self.space.from_index_batch(idx, check_constraints=False)

        def step_wait(self):
            n = self.num_envs
            actions, self._actions = self._actions, None
            rewards = np.zeros(n, dtype=np.float32)
            dones = np.zeros(n, dtype=bool)
            infos: list[dict[str, Any]] = [{} for _ in range(n)]
            complete = list(range(n))  # envs whose design is complete this step
            if self.encoding == "sequential":
                a = np.asarray(actions, dtype=np.int64).reshape(n)
                for i in range(n):
                    k = int(self.space.nvec[self._pos[i]])
                    self._index[i, self._pos[i]] = int(a[i]) * k // self.max_card
                    self._pos[i] += 1
                complete = [i for i in range(n) if self._pos[i] >= self.d]
                designs = (self.space.from_index_batch(self._index[complete], check_constraints=False)
                           if complete else [])
            else:
                designs = self.decode(actions)
            feasible = self.space.valid_mask(designs) if designs else np.zeros(0, dtype=bool)
            good = [i for i, ok in zip(complete, feasible) if ok]
            if good:
                ask = [designs[complete.index(i)] for i in good]
                results = self.channel.request(ask)  # switches to the agent until it tells the metrics
                self.handed_out += len(ask)
                # A failed simulation (NaN metrics) is treated like an infeasible design, not learnt as NaN.
                r = np.nan_to_num(self.rewards.reward(results), nan=self.infeasible_reward,
                                  posinf=self.infeasible_reward, neginf=self.infeasible_reward)
                obs = np.nan_to_num(self.rewards.observe(results), nan=1.0)
                reached = self.rewards.reached(results)
                for j, i in enumerate(good):
                    rewards[i] = r[j]
                    self._last[i] = obs[j]
                    dones[i] = bool(reached[j])
                    infos[i]["design"] = ask[j]
            for i, ok in zip(complete, feasible):
                if not ok:
                    rewards[i] = self.infeasible_reward
                    self._last[i] = 1.0
                    infos[i]["feasible"] = False
            for i in complete:
                self._t[i] += 1
                if self.encoding == "sequential":
                    dones[i] = True  # one episode = one design (SequentialDesignEnv)
                else:
                    truncated = self._t[i] >= self.episode_length
                    if truncated and not dones[i]:
                        infos[i]["TimeLimit.truncated"] = True
                    dones[i] = dones[i] or truncated
            obs = self._all_obs()
            for i in range(n):
                if dones[i]:
                    infos[i]["terminal_observation"] = obs[i].copy()
                    self._reset_one(i)
                    obs[i] = self._obs(i)
            self.current_obs = obs
            return obs, rewards, dones, infos

        def close(self) -> None:
            return None

        def get_attr(self, attr_name, indices=None):
            if attr_name == "render_mode":
                return [None for _ in self._get_indices(indices)]
            raise AttributeError(attr_name)

        def set_attr(self, attr_name, value, indices=None) -> None:
            raise AttributeError(f"the told-results env has no settable attribute {attr_name!r}")

        def env_method(self, method_name, *args, indices=None, **kwargs):
            raise AttributeError(f"the told-results env has no method {method_name!r}")

        def env_is_wrapped(self, wrapper_class, indices=None):
            return [False for _ in self._get_indices(indices)]

    _VEC_ENV_CLASS = TellVecEnv
    return TellVecEnv


