"""Deep reinforcement learning agents (Stable-Baselines3 PPO, A2C, DQN, SAC) behind ask/tell.

Stable-Baselines3 is push-style: ``model.learn()`` steps an environment and wants each reward back
before it picks the next action. Search agents are pull-style: ``ask`` hands designs out, ``tell``
brings their metrics back. The bridge:

- ``model.learn()`` runs as a coroutine (a greenlet on the caller's thread, see
  :mod:`dsegym.agents.sb3_bridge`) on a vectorised env of our own (``num_envs`` = the first
  ``ask(n)``'s ``n``, so one ``ask``/``tell`` round is one vectorised step). Its ``step`` decodes the
  actions into designs, switches to the agent with them and resumes when ``tell`` delivers their
  metrics; the reward and observation are computed from those told metrics
  with :class:`dsegym.rewards.RewardModel` (the weighted reward by default), exactly as
  :class:`dsegym.env.DesignEnv` would compute them. Nothing is re-simulated (the reward model
  evaluates the default design once, for its reference, as every ``DesignEnv`` does).
- The hand-off is strict: the learner only runs inside ``ask``/``tell``, and
  ``tell`` returns only once the learner has trained (if due) and posted its next designs. The agent
  keeps its own torch / numpy / ``random`` generator states and swaps them in around every hand-off,
  so the same seed gives the same designs even when several agents share a process.
- Constraint-violating actions earn ``infeasible_reward`` inside the learner and are never handed out
  (as ``DesignEnv`` does with ``on_infeasible="penalty"``): they cost no simulator budget.
- If ``ask`` wants more designs than the learner can produce before its pending ones are told (an
  irregular batch size), the extra designs are sampled from the current policy without being
  trained on.
- An exception in the learner is re-raised from ``ask``/``tell`` as a ``RuntimeError`` naming the
  agent; ``close()`` (or garbage collection) unwinds ``learn()``. No thread is started, so none can
  outlive the agent, and a Ctrl-C during the hand-off ends the learner with the caller.

Encodings (all derived from the one space declaration):

- PPO and A2C: ``MultiDiscrete(space.nvec)``, one action = one full design (as ``DesignEnv``).
- DQN needs a ``Discrete`` action: it uses the ``SequentialDesignEnv`` formulation, one parameter per
  step (``Discrete(max cardinality)``, action ``a`` picks index ``a * k // max``), the design being
  evaluated after its last parameter. This scales to any space, where a flat ``Discrete`` over the
  grid would need one Q-value per design (442,368 for the DRAM space), and it works: with the
  defaults DQN found toy-rastrigin's optimum in 3 of 5 runs of 100 evaluations.
- SAC needs a ``Box``: it acts in ``Box(0, 1, d)`` decoded with ``space.from_unit`` (the continuous
  encoding; uniform actions decode to the space's prior).

>>> import dsegym
>>> from dsegym.agents import make, run_search
>>> agent = make("ppo", dsegym.make("toy-accel"), seed=0)
>>> len(run_search(agent, budget=6, batch_size=3))
6
>>> agent.close()
"""
from __future__ import annotations

import contextlib
import random
import weakref
from typing import Any

import numpy as np

from ..errors import ConfigError
from .base import Agent, Design
from .hparams import Choice, Int, MappingOf, Real, Rule, Sizes
from .sb3_bridge import Learner, vec_env_class

_REWARDS = ("weighted", "target", "constrained")


def _rng_snapshot():
    import torch
    return torch.get_rng_state(), np.random.get_state(), random.getstate()


def _rng_restore(state) -> None:
    import torch
    torch.set_rng_state(state[0])
    np.random.set_state(state[1])
    random.setstate(state[2])


class SB3Agent(Agent):
    """Base of the Stable-Baselines3 agents; subclasses set ``algorithm`` and ``encoding``."""

    family = "rl"
    multi_objective = False
    algorithm = ""  # stable_baselines3 class name
    encoding = "index"
    _common: dict[str, Any] = {
        "n_envs": None,  # parallel env copies; None: the first ask(n)'s n (one ask/tell = one vec step)
        "episode_length": 16,  # designs per episode (index/unit encodings)
        "reward": "weighted",  # see dsegym.rewards
        "reward_kwargs": None,  # weights / targets / limits for the reward
        "infeasible_reward": -10.0,  # reward of a constraint-violating action (never evaluated)
        "net_arch": (64, 64),
    }
    torch_threads = 1
    hparam_rules = {
        "n_envs": Int(1, optional=True), "episode_length": Int(1), "reward": Choice(*_REWARDS),
        "reward_kwargs": MappingOf(optional=True), "infeasible_reward": Real(), "net_arch": Sizes(),
        "n_steps": Int(1), "batch_size": Int(1), "n_epochs": Int(1), "learning_rate": Real(0, low_open=True),
        "buffer_size": Int(1), "gradient_steps": Int(1), "target_update_designs": Int(1),
        "tau": Real(0, 1, low_open=True), "learning_starts": Int(0), "exploration_designs": Int(0),
        "ent_coef": Real(0), "gamma": Real(0, 1), "gae_lambda": Real(0, 1), "exploration_final_eps": Real(0, 1),
        "clip_range": Real(0, 1, low_open=True),
    }

    def __init__(self, problem, seed=None, **hparams):
        super().__init__(problem, seed=seed, **hparams)
        import torch
        self._model = None
        self._venv = None
        self._learner: Learner | None = None
        self._finalizer = None
        self._error: BaseException | None = None
        self._error_text = ""
        self._finished = False
        self._closed = False
        # The current request of the learner: its designs, how many are handed out, told results.
        self._req: list[Design] = []
        self._req_handed = 0
        self._req_rows: dict[int, Any] = {}
        self.n_overflow = 0  # designs sampled outside the learner (irregular batch sizes)
        # Private generator states: derived from the seed, swapped in around every learner run.
        seed_ = int(seed) if seed is not None else int(self.rng.integers(0, 2 ** 31 - 1))
        self._model_seed = seed_
        outer = _rng_snapshot()
        try:
            torch.manual_seed(seed_)
            np.random.seed(seed_)
            random.seed(seed_)
            self._rng_state = _rng_snapshot()
        finally:
            _rng_restore(outer)

    # --- generator isolation ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _own_rng(self):
        outer = _rng_snapshot()
        _rng_restore(self._rng_state)
        try:
            yield
        finally:
            self._rng_state = _rng_snapshot()
            _rng_restore(outer)

    # --- model construction (subclasses give the algorithm's keyword arguments) -----------------------
    def _algo_kwargs(self, n_envs: int) -> dict[str, Any]:
        raise NotImplementedError

    def _steps_per_design(self) -> int:
        return len(self.space) if self.encoding == "sequential" else 1

    def _start(self, n: int) -> None:
        import stable_baselines3

        from ..rewards import RewardModel
        n_envs = int(self.hp["n_envs"] or n)
        if n_envs < 1:
            raise ConfigError(f"n_envs must be positive, got {n_envs}")
        # Rewards are relative to the first told design, so no simulator call falls outside the budget.
        rewards = RewardModel(self.problem, self.hp["reward"],
                              **{"reference": "first", **dict(self.hp["reward_kwargs"] or {})})
        self._learner = Learner()
        self._venv = vec_env_class()(self.space, rewards, self.encoding, n_envs, self.hp["episode_length"],
                                     self.hp["infeasible_reward"], self._learner)
        cls = getattr(stable_baselines3, self.algorithm)
        policy_kwargs = {"net_arch": list(self.hp["net_arch"])}
        with self._own_rng():
            self._model = cls("MlpPolicy", self._venv, seed=self._model_seed, device="cpu", verbose=0,
                              policy_kwargs=policy_kwargs, **self._algo_kwargs(n_envs))
            # SB3's default logger makes a new empty /tmp/SB3-<time> folder on every learn() even when
            # it writes nothing; a logger with no outputs keeps the user's temp folder clean.
            from stable_baselines3.common.logger import Logger
            self._model.set_logger(Logger(folder=None, output_formats=[]))
            self._configure(self._model)
            self._learner.model = self._model
            self._finalizer = weakref.finalize(self, self._learner.close)
            self._drive(None)

    def _configure(self, model) -> None:
        """Adjust the built model (e.g. exploration schedules counted in designs)."""

    # --- the hand-off -------------------------------------------------------------------------------
    def _check_alive(self) -> None:
        if self._closed:
            raise RuntimeError(f"agent '{self.name}' is closed; make a new agent to search again")
        if self._error is not None:
            raise RuntimeError(f"agent '{self.name}': the Stable-Baselines3 learner failed earlier "
                               f"with {type(self._error).__name__}: {self._error}") from self._error

    def _drive(self, results) -> None:
        """Resume the learner (inside the agent's RNG scope) until its next request; ``None`` starts it."""
        try:
            msg = self._learner.start() if results is None else self._learner.send(results)
        except BaseException as exc:
            # The coroutine is over: a learner error, or a KeyboardInterrupt that arrived while it ran.
            self._error, self._req, self._req_handed, self._req_rows = exc, [], 0, {}
            if isinstance(exc, Exception):
                raise RuntimeError(f"agent '{self.name}': the Stable-Baselines3 learner failed with "
                                   f"{type(exc).__name__}: {exc}") from exc
            raise
        if msg[0] == "designs":
            self._req, self._req_handed, self._req_rows = list(msg[1]), 0, {}
        else:  # learn() returned
            self._finished, self._req, self._req_handed, self._req_rows = True, [], 0, {}

    def _ask(self, n: int) -> list[Design]:
        self._check_alive()
        if self._model is None:
            self._start(n)
        out = self._req[self._req_handed:self._req_handed + n]
        self._req_handed += len(out)
        if len(out) < n:
            out = out + self._overflow(n - len(out))
        return [dict(d) for d in out]

    def _overflow(self, n: int) -> list[Design]:
        """Designs the learner cannot produce yet: sampled from the current policy, not trained on."""
        self.n_overflow += n
        with self._own_rng():
            designs = self._policy_designs(n)
        return self._repair(designs)

    def _policy_designs(self, n: int) -> list[Design]:
        obs = np.repeat(self._venv.current_obs[:1], n, axis=0)
        actions, _ = self._model.predict(obs, deterministic=False)
        return self._venv.decode(actions)

    def _tell(self, designs, results, scores) -> None:
        self._check_alive()
        if self._model is None or self._finished:
            return
        key = self._key
        open_pos: dict[tuple, list[int]] = {}
        for p in range(self._req_handed):
            if p not in self._req_rows:
                open_pos.setdefault(key(self._req[p]), []).append(p)
        for i, d in enumerate(designs):
            slots = open_pos.get(key(d))
            if slots:  # designs not in the learner's request (overflow, warm starts) are not trained on
                self._req_rows[slots.pop(0)] = results.iloc[[i]]
        if self._req and len(self._req_rows) == len(self._req):
            import pandas as pd
            told = pd.concat([self._req_rows[p] for p in range(len(self._req))], ignore_index=True)
            with self._own_rng():
                self._drive(told)

    # --- lifecycle ----------------------------------------------------------------------------------
    @property
    def model(self):
        """The Stable-Baselines3 model (``None`` before the first ``ask``)."""
        return self._model

    def close(self) -> None:
        """Unwind the learner's ``learn()``. The agent cannot ask for more designs afterwards."""
        if self._finalizer is not None:
            self._finalizer()
        self._closed = self._model is not None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class PPO(SB3Agent):
    """Proximal policy optimisation (SB3) over ``MultiDiscrete`` full designs.

    Defaults are sized for budgets of 100-300 evaluations: a policy update every 16 designs
    (``n_steps``, counted over all env copies), ``gamma=0`` and a higher learning rate than SB3's
    default. ``gamma=0`` because in ``DesignEnv`` a design's reward does not depend on the designs
    before it (the observation, the previous design's metrics, is only context): discounted returns
    would add other designs' rewards to each action's advantage as pure noise. Raise it to recover
    ArchGym's formulation.
    """

    name = "ppo"
    algorithm = "PPO"
    encoding = "index"
    description = ("Stable-Baselines3 PPO; one action = one full design (MultiDiscrete), reward from told "
                   "metrics via a learner coroutine")
    hyperparameters = {**SB3Agent._common, "n_steps": 16, "batch_size": 8, "n_epochs": 10,
                       "learning_rate": 3e-3, "gamma": 0.0, "gae_lambda": 0.9, "ent_coef": 0.01,
                       "clip_range": 0.2}
    sweep = {"learning_rate": [1e-3, 3e-3, 1e-2], "n_steps": [8, 16, 32]}

    def _algo_kwargs(self, n_envs):
        per_env = max(2 if n_envs == 1 else 1, -(-int(self.hp["n_steps"]) // n_envs))
        buffer = per_env * n_envs
        batch = _minibatch(buffer, int(self.hp["batch_size"]))
        return {"n_steps": per_env, "batch_size": batch, "n_epochs": int(self.hp["n_epochs"]),
                "learning_rate": float(self.hp["learning_rate"]), "gamma": float(self.hp["gamma"]),
                "gae_lambda": float(self.hp["gae_lambda"]), "ent_coef": float(self.hp["ent_coef"]),
                "clip_range": float(self.hp["clip_range"])}


class A2C(SB3Agent):
    """Advantage actor-critic (SB3) over ``MultiDiscrete`` full designs; an update every ``n_steps``
    designs, ``gamma=0`` and normalised advantages (see :class:`PPO` for why)."""

    name = "a2c"
    algorithm = "A2C"
    encoding = "index"
    description = ("Stable-Baselines3 A2C; one action = one full design (MultiDiscrete), reward from told "
                   "metrics via a learner coroutine")
    hyperparameters = {**SB3Agent._common, "n_steps": 8, "learning_rate": 3e-3, "gamma": 0.0,
                       "gae_lambda": 0.9, "ent_coef": 0.01, "normalize_advantage": True}
    sweep = {"learning_rate": [1e-3, 3e-3, 1e-2], "n_steps": [4, 8, 16]}

    def _algo_kwargs(self, n_envs):
        per_env = max(1, -(-int(self.hp["n_steps"]) // n_envs))
        return {"n_steps": per_env, "learning_rate": float(self.hp["learning_rate"]),
                "gamma": float(self.hp["gamma"]), "gae_lambda": float(self.hp["gae_lambda"]),
                "ent_coef": float(self.hp["ent_coef"]), "normalize_advantage": bool(self.hp["normalize_advantage"])}


class DQN(SB3Agent):
    """Deep Q-learning (SB3) choosing one parameter per step (the ``SequentialDesignEnv`` formulation).

    Counts are in designs (each is ``len(space)`` env steps): ``learning_starts`` random designs first;
    epsilon decays linearly from 1 to ``exploration_final_eps`` over the first ``learning_starts +
    exploration_designs`` designs; ``gradient_steps`` gradient steps per design. An episode is one
    design whose reward arrives at its last parameter, so ``gamma=1``.
    """

    name = "dqn"
    algorithm = "DQN"
    encoding = "sequential"
    description = ("Stable-Baselines3 DQN; one parameter per step (Discrete, SequentialDesignEnv "
                   "formulation), reward from told metrics via a learner coroutine")
    hyperparameters = {**SB3Agent._common, "learning_rate": 3e-3, "gamma": 1.0, "learning_starts": 16,
                       "batch_size": 32, "buffer_size": 20_000, "gradient_steps": 8,
                       "target_update_designs": 8, "exploration_designs": 100,
                       "exploration_final_eps": 0.05}
    sweep = {"learning_rate": [1e-3, 3e-3], "gradient_steps": [2, 8]}

    def _algo_kwargs(self, n_envs):
        d = self._steps_per_design()
        return {"learning_rate": float(self.hp["learning_rate"]), "gamma": float(self.hp["gamma"]),
                "learning_starts": int(self.hp["learning_starts"]) * d,
                "batch_size": int(self.hp["batch_size"]), "buffer_size": int(self.hp["buffer_size"]),
                # SB3 counts train_freq in vectorised steps (n_envs designs' worth): scale the
                # gradient steps so that every design buys the same amount of training.
                "train_freq": (d, "step"), "gradient_steps": int(self.hp["gradient_steps"]) * n_envs,
                "target_update_interval": max(n_envs, int(self.hp["target_update_designs"]) * d),
                "exploration_final_eps": float(self.hp["exploration_final_eps"])}

    def _configure(self, model) -> None:
        model.exploration_schedule = _DesignSchedule(model, 1.0, float(self.hp["exploration_final_eps"]),
                                                     (int(self.hp["learning_starts"])
                                                      + int(self.hp["exploration_designs"]))
                                                     * self._steps_per_design())

    def _policy_designs(self, n):
        venv = self._venv
        index = np.zeros((n, venv.d), dtype=np.int64)
        scale = np.maximum(self.space.nvec - 1, 1)
        for pos in range(venv.d):
            chosen = np.where(np.arange(venv.d) < pos, index / scale, -1.0)
            onehot = np.zeros((n, venv.d))
            onehot[:, pos] = 1.0
            obs = np.concatenate([chosen, onehot, np.zeros((n, venv.k))], axis=1).astype(np.float32)
            a, _ = self._model.predict(obs, deterministic=False)
            index[:, pos] = np.asarray(a, dtype=np.int64).reshape(n) * int(self.space.nvec[pos]) // venv.max_card
        return self.space.from_index_batch(index, check_constraints=False)


class _DesignSchedule:
    """Linear epsilon schedule over a fixed number of env steps (learn() runs 'forever')."""

    def __init__(self, model, start: float, end: float, steps: int):
        self._model = weakref.ref(model)
        self.start, self.end, self.steps = start, end, max(1, steps)

    def __call__(self, _progress_remaining: float) -> float:
        model = self._model()
        t = model.num_timesteps if model is not None else self.steps
        frac = min(1.0, t / self.steps)
        return self.start + frac * (self.end - self.start)


class _EntCoef(Rule):
    """SAC's entropy coefficient: a number >= 0, ``"auto"`` or ``"auto_<initial value>"`` (as SB3 takes it)."""

    def ok(self, value):
        if isinstance(value, str):
            if value == "auto":
                return True
            head, _, tail = value.partition("_")
            return head == "auto" and Real(0, low_open=True).ok(_float_or_none(tail))
        return Real(0).ok(value)

    def describe(self):
        return "a number >= 0, 'auto' or 'auto_<initial value>'"


def _float_or_none(text: str):
    try:
        return float(text)
    except ValueError:
        return None


class SAC(SB3Agent):
    """Soft actor-critic (SB3) in the continuous encoding: ``Box(0, 1, d)`` decoded by ``space.from_unit``.

    ``gamma=0`` (see :class:`PPO`), a fixed entropy coefficient of 0.02 (SB3's automatic one starts at
    1.0 and keeps the policy nearly uniform for most of a few-hundred-design budget), 16 random designs
    before learning and 8 gradient steps per design.
    """

    name = "sac"
    algorithm = "SAC"
    encoding = "unit"
    description = ("Stable-Baselines3 SAC; continuous encoding Box(0,1,d) -> space.from_unit, reward from "
                   "told metrics via a learner coroutine")
    hyperparameters = {**SB3Agent._common, "learning_rate": 3e-3, "gamma": 0.0, "learning_starts": 16,
                       "batch_size": 64, "buffer_size": 20_000, "gradient_steps": 8, "tau": 0.02,
                       "ent_coef": 0.02}
    hparam_rules = {**SB3Agent.hparam_rules, "ent_coef": _EntCoef()}
    sweep = {"learning_rate": [1e-3, 3e-3], "ent_coef": [0.005, 0.02, "auto_0.1"]}

    def _algo_kwargs(self, n_envs):
        return {"learning_rate": float(self.hp["learning_rate"]), "gamma": float(self.hp["gamma"]),
                "learning_starts": int(self.hp["learning_starts"]), "batch_size": int(self.hp["batch_size"]),
                "buffer_size": int(self.hp["buffer_size"]), "train_freq": (1, "step"),
                "gradient_steps": int(self.hp["gradient_steps"]) * n_envs, "tau": float(self.hp["tau"]),
                "ent_coef": self.hp["ent_coef"]}


def _minibatch(n: int, cap: int) -> int:
    """The largest divisor of ``n`` in ``cap/2..cap`` (PPO warns when minibatches do not divide the rollout
    and refuses minibatches of one), or the whole rollout when there is none."""
    divisors = [k for k in range(max(2, cap // 2), min(cap, n) + 1) if n % k == 0]
    return max(divisors) if divisors else n
