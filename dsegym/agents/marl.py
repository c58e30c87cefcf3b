"""Multi-agent RL (Krishnan et al. 2022): one learner per parameter group (or per parameter), shared reward.

Each learner is an independent PPO-clip actor-critic (IPPO): a small torch policy over its own slice of
the design (one categorical head per parameter in its slice) and its own value baseline. All learners
see the shared observation and the shared reward of :class:`dsegym.env.ParallelDesignEnv`, and the
agent trains on that env itself: its ``possible_agents``, ``action_space(agent)``, ``slices``,
observations and ``step``. The env's problem is a thin copy of the real one whose simulator only
*looks up* the metrics the agent was told, so rewards come from ``tell`` and nothing is re-simulated
(the one exception is the default design, evaluated once when the env is built, for the reward's
reference; every ``ParallelDesignEnv`` does that).

``ask(n)`` keeps a pool of ``n`` env copies, each with its own observation and episode, and samples one
joint action in each; ``tell`` steps the copies whose designs came back. Joint actions that break a
constraint are stepped at once (they earn ``infeasible_reward`` and cost no evaluation) and resampled.

>>> import dsegym
>>> from dsegym.agents import make, run_search
>>> agent = make("marl", dsegym.make("toy-accel"), seed=0)
>>> len(run_search(agent, budget=6, batch_size=2))
6
>>> agent.possible_agents
['compute', 'memory', 'precision']
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..problem import Problem
from .base import Agent, Design
from .hparams import Choice, Int, MappingOf, Real


class _ToldResults:
    """Simulator of the env's problem: returns the metrics the agent was told, looked up by design.

    ``reference`` holds the default design's metrics, which every env's reward model asks for once.
    """

    def __init__(self, problem: Problem):
        self.names = problem.space.names
        self.table: dict[tuple, Any] = {}
        default = problem.space.default()
        self.reference = (tuple(default[k] for k in self.names),
                          problem.evaluate([default]).reset_index(drop=True))

    def __call__(self, frame):
        import pandas as pd
        rows = []
        for k in zip(*(frame[n].tolist() for n in self.names)):
            if k in self.table:
                rows.append(self.table[k])
            elif k == self.reference[0]:
                rows.append(self.reference[1])
            else:
                raise RuntimeError(f"the MARL env stepped a design whose metrics were not told: "
                                   f"{dict(zip(self.names, k))}")
        return pd.concat(rows, ignore_index=True)


def _mlp(inp: int, hidden: int, out: int):
    import torch.nn as nn
    return nn.Sequential(nn.Linear(inp, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                         nn.Linear(hidden, out))


class _Learner:
    """One independent PPO-clip learner: a factorised categorical policy over its slice, and a critic."""

    def __init__(self, obs_dim: int, nvec: np.ndarray, hidden: int, lr: float):
        import torch
        self.nvec = [int(k) for k in nvec]
        self.actor = _mlp(obs_dim, hidden, sum(self.nvec))
        self.critic = _mlp(obs_dim, hidden, 1)
        with torch.no_grad():  # start from the uniform policy and a zero baseline
            self.actor[-1].weight.mul_(0.01)
            self.actor[-1].bias.zero_()
        params = list(self.actor.parameters()) + list(self.critic.parameters())
        self.opt = torch.optim.Adam(params, lr=lr)

    def dist(self, obs):
        """Per-head log-probabilities, a list of (batch, k_j) tensors."""
        import torch
        logits = self.actor(obs)
        return list(torch.log_softmax(part, dim=-1) for part in torch.split(logits, self.nvec, dim=-1))

    def log_prob(self, logps, actions):
        import torch
        return sum(lp.gather(1, actions[:, j:j + 1]).squeeze(1) for j, lp in enumerate(logps)) \
            if logps else torch.zeros(len(actions))

    @staticmethod
    def entropy(logps):
        return sum(-(lp.exp() * lp).sum(dim=1) for lp in logps)


class MultiAgentRL(Agent):
    """Independent PPO learners, one per parameter group (``agents="group"``) or parameter, on
    :class:`dsegym.env.ParallelDesignEnv` with the shared reward."""

    name = "marl"
    family = "marl"
    multi_objective = False
    description = ("multi-agent RL (Krishnan et al. 2022): one PPO learner per parameter group or parameter "
                   "on the PettingZoo ParallelDesignEnv, shared reward from told metrics")
    torch_threads = 1
    hparam_rules = {"agents": Choice("group", "parameter"), "episode_length": Int(1), "n_steps": Int(1),
                    "n_epochs": Int(1), "learning_rate": Real(0, low_open=True), "gamma": Real(0, 1),
                    "gae_lambda": Real(0, 1), "clip_range": Real(0, 1, low_open=True), "ent_coef": Real(0),
                    "vf_coef": Real(0), "hidden": Int(1), "reward": Choice("weighted", "target", "constrained"),
                    "reward_kwargs": MappingOf(optional=True), "max_resample": Int(0)}
    hyperparameters = {
        "agents": "group",  # "group": one learner per parameter group; "parameter": one per parameter
        "episode_length": 16,  # designs per episode of each env copy
        "n_steps": 16,  # transitions (designs, plus stepped infeasible actions) per update
        "n_epochs": 8,
        "learning_rate": 3e-3,
        "gamma": 0.0,  # a design's reward does not depend on earlier designs (a contextual bandit)
        "gae_lambda": 0.9,
        "clip_range": 0.2,
        "ent_coef": 0.01,
        "vf_coef": 0.5,
        "hidden": 32,
        "reward": "weighted",
        "reward_kwargs": None,
        "infeasible_reward": -10.0,
        "max_resample": 64,  # constraint-violating joint actions stepped and resampled per design
    }
    sweep = {"agents": ["group", "parameter"], "learning_rate": [1e-3, 3e-3, 1e-2]}

    def __init__(self, problem, seed=None, **hparams):
        super().__init__(problem, seed=seed, **hparams)
        self._told = _ToldResults(problem)
        self._env_problem = Problem(problem.id, problem.space, self._told, problem.objectives,
                                    workload=problem.workload, description=problem.description,
                                    metric_units=dict(problem.metric_units), info=dict(problem.info))
        self.envs: list = []  # the ParallelDesignEnv pool, one copy per design in flight
        self._obs: list[dict[str, np.ndarray]] = []
        self.learners: dict[str, _Learner] = {}
        self._pending: list[dict[str, Any]] = []  # asked designs awaiting tell
        self._batch: list[dict[str, Any]] = []  # transitions since the last update
        self.n_updates = 0
        self._env_seed = int(seed) if seed is not None else int(self.rng.integers(0, 2 ** 31 - 1))
        self._make_env(0)

    # --- envs and learners --------------------------------------------------------------------------
    def _make_env(self, i: int) -> None:
        import torch

        from ..env import ParallelDesignEnv
        env = ParallelDesignEnv(self._env_problem, agents=self.hp["agents"],
                                episode_length=self.hp["episode_length"], reward=self.hp["reward"],
                                infeasible_reward=self.hp["infeasible_reward"],
                                **dict(self.hp["reward_kwargs"] or {}))
        obs, _ = env.reset(seed=self._env_seed + i)
        self.envs.append(env)
        self._obs.append(obs)
        if not self.learners:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self._env_seed)
                for a in env.possible_agents:
                    nvec = self.space.nvec[env.slices[a]]
                    self.learners[a] = _Learner(env.observation_space(a).shape[0], nvec,
                                                int(self.hp["hidden"]), float(self.hp["learning_rate"]))

    @property
    def possible_agents(self) -> list[str]:
        """The PettingZoo agent names (one per parameter group or parameter)."""
        return list(self.envs[0].possible_agents)

    def _act(self, obs: dict[str, np.ndarray]) -> tuple[dict[str, Any], dict[str, float], np.ndarray]:
        """Sample each learner's action (drawn with the agent's numpy generator: deterministic)."""
        import torch
        env = self.envs[0]
        actions, logps = {}, {}
        index = np.zeros(len(self.space), dtype=np.int64)
        with torch.no_grad():
            for a, learner in self.learners.items():
                heads = learner.dist(torch.as_tensor(obs[a], dtype=torch.float32)[None])
                choice = []
                lp = 0.0
                for h in heads:
                    p = h[0].exp().numpy().astype(np.float64)
                    c = int(self.rng.choice(len(p), p=p / p.sum()))
                    choice.append(c)
                    lp += float(h[0, c])
                index[env.slices[a]] = choice
                space = env.action_space(a)
                actions[a] = choice[0] if not hasattr(space, "nvec") else np.array(choice, dtype=np.int64)
                logps[a] = lp
        return actions, logps, index

    def _record(self, i: int, obs, actions, logps, out) -> None:
        next_obs, rewards, terms, truncs, _ = out
        a0 = self.possible_agents[0]
        reward = float(rewards[a0])
        if not np.isfinite(reward):  # a failed simulation (NaN metrics) counts as an infeasible design
            reward = float(self.hp["infeasible_reward"])
            next_obs = {a: np.nan_to_num(o, nan=1.0) for a, o in next_obs.items()}
        self._batch.append({"env": i, "obs": obs, "actions": actions, "logps": logps,
                            "reward": reward, "next_obs": next_obs,
                            "term": bool(terms[a0]), "cut": bool(terms[a0] or truncs[a0])})
        if not self.envs[i].agents:  # episode over
            self._obs[i], _ = self.envs[i].reset()
        else:
            self._obs[i] = next_obs

    # --- ask / tell ---------------------------------------------------------------------------------
    def _ask(self, n: int) -> list[Design]:
        while len(self.envs) < len(self._pending) + n:
            self._make_env(len(self.envs))
        busy = {p["env"] for p in self._pending}
        free = [i for i in range(len(self.envs)) if i not in busy][:n]
        out = []
        for i in free:
            design = None
            for _ in range(int(self.hp["max_resample"]) + 1):
                obs = self._obs[i]
                actions, logps, index = self._act(obs)
                candidate = self.space.from_index(index, check_constraints=False)
                if self.space.valid_mask([candidate])[0]:
                    design = candidate
                    self._pending.append({"env": i, "obs": obs, "actions": actions, "logps": logps,
                                          "key": self._key(design)})
                    break
                # Infeasible: the env penalises it without simulating; learn from it and resample.
                self._record(i, obs, actions, logps, self.envs[i].step(actions))
                self._maybe_update()
            if design is None:  # the policy keeps proposing infeasible designs: fall back to random
                design = self._repair([candidate])[0]
            out.append(design)
        return out

    def _tell(self, designs, results, scores) -> None:
        for j, d in enumerate(designs):
            k = self._key(d)
            match = next((p for p in self._pending if p["key"] == k), None)
            if match is None:
                continue  # not asked by a learner (a fallback or a warm start): not trained on
            self._pending.remove(match)
            i = match["env"]
            self._told.table[k] = results.iloc[[j]].reset_index(drop=True)
            try:
                out = self.envs[i].step(match["actions"])
            finally:
                del self._told.table[k]
            self._record(i, match["obs"], match["actions"], match["logps"], out)
            self._maybe_update()

    # --- learning -----------------------------------------------------------------------------------
    def _maybe_update(self) -> None:
        if len(self._batch) >= int(self.hp["n_steps"]):
            self._update(self._batch)
            self._batch = []

    def _update(self, batch: list[dict[str, Any]]) -> None:
        import torch
        hp = self.hp
        gamma, lam = float(hp["gamma"]), float(hp["gae_lambda"])
        rewards = torch.tensor([t["reward"] for t in batch], dtype=torch.float32)
        term = torch.tensor([t["term"] for t in batch], dtype=torch.float32)
        # The next transition of the same env copy, for the GAE recursion (-1 where the batch ends).
        nxt = [-1] * len(batch)
        last: dict[int, int] = {}
        for pos in range(len(batch) - 1, -1, -1):
            e = batch[pos]["env"]
            if not batch[pos]["cut"] and e in last:
                nxt[pos] = last[e]
            last[e] = pos
        for a, learner in self.learners.items():
            obs = torch.as_tensor(np.stack([t["obs"][a] for t in batch]), dtype=torch.float32)
            next_obs = torch.as_tensor(np.stack([t["next_obs"][a] for t in batch]), dtype=torch.float32)
            acts = torch.as_tensor(np.stack([np.atleast_1d(t["actions"][a]) for t in batch]), dtype=torch.int64)
            old_logp = torch.tensor([t["logps"][a] for t in batch], dtype=torch.float32)
            with torch.no_grad():
                v = learner.critic(obs).squeeze(1)
                v_next = learner.critic(next_obs).squeeze(1)
            delta = rewards + gamma * (1.0 - term) * v_next - v
            adv = torch.zeros(len(batch))
            for pos in range(len(batch) - 1, -1, -1):
                adv[pos] = delta[pos] + (gamma * lam * adv[nxt[pos]] if nxt[pos] >= 0 else 0.0)
            returns = adv + v
            if len(batch) > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            clip = float(hp["clip_range"])
            for _ in range(int(hp["n_epochs"])):
                logps = learner.dist(obs)
                ratio = torch.exp(learner.log_prob(logps, acts) - old_logp)
                policy_loss = -torch.min(ratio * adv, torch.clamp(ratio, 1 - clip, 1 + clip) * adv).mean()
                value_loss = ((learner.critic(obs).squeeze(1) - returns) ** 2).mean()
                entropy = _Learner.entropy(logps).mean()
                loss = policy_loss + float(hp["vf_coef"]) * value_loss - float(hp["ent_coef"]) * entropy
                learner.opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(list(learner.actor.parameters())
                                               + list(learner.critic.parameters()), 0.5)
                learner.opt.step()
        self.n_updates += 1
