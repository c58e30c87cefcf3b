"""Predictor-guided search: the ``surrogate`` agent with the MLP, transformer or GNN predictor as its model.

``surrogate-mlp``, ``surrogate-transformer`` and ``surrogate-gnn`` are :class:`SurrogateSearch` with a
different model hook. Each is trained online on the told results (the problem's scalar score), or
warm-started from a saved predictor (``model_path``): the saved model's predicted metrics, scored by
the problem, are the prior, and the online network learns the residual between the prior and the
told scores.

The online GNN reads a design as a graph of its parameters (one node per parameter; edges join the
parameters of one group, and consecutive groups), BRP-NAS style with the graph fixed by the space; a
saved GNN warm-start brings the workload's layer graph.

>>> import dsegym
>>> from dsegym.agents import make, run_search
>>> agent = make("surrogate-transformer", dsegym.make("toy-accel"), seed=0, n_init=4, fit_steps=20)
>>> len(run_search(agent, budget=8, batch_size=4)), agent.n_fits
(8, 1)
"""
from __future__ import annotations

import itertools
import math
import os

import numpy as np

from ..agents.hparams import Int, Text
from ..agents.surrogate import SurrogateSearch
from ..errors import ConfigError
from .encoding import DesignEncoder


class OnlineModel:
    """A small predictor of the scalar score, refit from scratch on every told batch (fit/predict hook)."""

    def __init__(self, space, seed: int, kind: str = "mlp", fit_steps: int = 200, lr: float = 1e-2,
                 prior=None, members: int = 5, mc_samples: int = 8):
        if kind not in ("mlp", "transformer", "gnn"):
            raise ConfigError(f"unknown predictor kind {kind!r}; allowed: mlp, transformer, gnn")
        self.space, self.seed, self.kind = space, int(seed), kind
        self.fit_steps, self.lr, self.prior = int(fit_steps), float(lr), prior
        self.members, self.mc_samples = int(members), int(mc_samples)
        self.enc = DesignEncoder(space)
        self.net = None
        self.fits = 0
        if kind == "gnn":
            self._graph = _parameter_graph(space)

    def _net(self):
        import torch

        from . import nets
        torch.manual_seed(self.seed * 7919 + self.fits)
        if self.kind == "mlp":
            return nets.MLPEnsemble(self.enc.width, 1, 64, self.members)
        if self.kind == "transformer":
            return nets.TokenTransformer(self.enc.token_widths, 0, 1, d=32, heads=4, depth=1, bins=4, dropout=0.1)
        return _build_gnn_class()(self.enc.token_widths, hidden=32)

    def _forward(self, x):
        import torch
        if self.kind == "mlp":
            return self.net(x)[..., 0]  # (members, n)
        if self.kind == "transformer":
            return self.net(x)[0][:, 0]
        return self.net(x, torch.as_tensor(self._graph, dtype=torch.long))

    def fit(self, designs, scores) -> None:
        import torch
        y = np.asarray(scores, dtype=np.float64)
        if self.prior is not None:
            y = y - self.prior(designs)
        q1, q3 = np.quantile(y, [0.25, 0.75])
        y = np.minimum(y, q3 + 3.0 * max(q3 - q1, 1e-9))  # penalised designs: clipped, as in `surrogate`
        self._mu, self._sd = float(y.mean()), float(y.std()) or 1.0
        yt = torch.as_tensor((y - self._mu) / self._sd, dtype=torch.float32)
        x = torch.as_tensor(self.enc.flat(designs))
        with torch.random.fork_rng(devices=[]):
            self.net = self._net()
            self.fits += 1
            opt = torch.optim.Adam(self.net.parameters(), lr=self.lr, weight_decay=1e-4)
            self.net.train()
            gen = np.random.default_rng(self.seed + self.fits)
            w = torch.as_tensor(gen.poisson(1.0, (self.members, len(y))) + 1e-3, dtype=torch.float32)
            for _ in range(self.fit_steps):
                pred = self._forward(x)
                if self.kind == "mlp":
                    loss = ((w * (pred - yt[None]) ** 2).sum(dim=1) / w.sum(dim=1)).mean()
                else:
                    loss = ((pred - yt) ** 2).mean()
                # BRP-NAS's pairwise ranking loss: order matters more than values
                p = pred.mean(dim=0) if pred.dim() == 2 else pred
                better = (yt[None, :] > yt[:, None]).float()
                loss = loss + (better * torch.nn.functional.softplus(-(p[None, :] - p[:, None]))).sum() / better.sum().clamp_min(1)
                opt.zero_grad()
                loss.backward()
                opt.step()

    def predict(self, designs):
        import torch
        x = torch.as_tensor(self.enc.flat(designs))
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            if self.kind == "mlp":
                self.net.eval()
                s = self._forward(x).double().numpy()
            else:
                self.net.train()  # MC dropout
                s = np.stack([self._forward(x).double().numpy() for _ in range(self.mc_samples)])
        s = s * self._sd + self._mu
        mean, std = s.mean(axis=0), s.std(axis=0)
        if self.prior is not None:
            mean = mean + self.prior(designs)
        return mean, std


def _parameter_graph(space) -> np.ndarray:
    """Edges (2, E) between parameters of one group and between consecutive groups' first parameters."""
    names = space.names
    pos = {n: i for i, n in enumerate(names)}
    edges = []
    groups = list(space.groups.values())
    for g in groups:
        idx = [pos[n] for n in g]
        edges += [(a, b) for a in idx for b in idx if a != b]
    for g1, g2 in itertools.pairwise(groups):
        edges += [(pos[g1[0]], pos[g2[0]]), (pos[g2[0]], pos[g1[0]])]
    if not edges:
        edges = [(0, 0)]
    return np.array(edges, dtype=np.int64).T


def _build_gnn_class():
    import torch
    from torch import nn
    from torch_geometric.nn import GraphConv

    class _ParamGraphGNN(nn.Module):
        """torch-geometric GraphConv over the parameter graph; one graph per design, mean-pooled."""

        def __init__(self, token_widths, hidden: int = 32, depth: int = 2, dropout: float = 0.1):
            super().__init__()
            self.token_widths = list(token_widths)
            self.t, self.wmax = len(token_widths), max(token_widths)
            self.node_in = nn.Parameter(torch.randn(self.t, self.wmax, hidden) / math.sqrt(self.wmax))
            self.node_pos = nn.Parameter(torch.randn(self.t, hidden) * 0.1)
            self.convs = nn.ModuleList([GraphConv(hidden, hidden) for _ in range(depth)])
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.SiLU(),
                                      nn.Dropout(dropout), nn.Linear(hidden, 1))

        def forward(self, x, edges):
            n = x.shape[0]
            tok = x.new_zeros(n, self.t, self.wmax)
            start = 0
            for j, w in enumerate(self.token_widths):
                tok[:, j, :w] = x[:, start:start + w]
                start += w
            h = torch.einsum("ntw,twh->nth", tok, self.node_in) + self.node_pos  # (n, t, hidden)
            h = h.reshape(n * self.t, -1)
            e = (edges[:, None, :] + (torch.arange(n) * self.t)[None, :, None]).reshape(2, -1)
            for conv in self.convs:
                h = h + nn.functional.silu(conv(h, e))
            return self.head(h.reshape(n, self.t, -1).mean(dim=1))[:, 0]

    return _ParamGraphGNN


class PredictorGuidedSearch(SurrogateSearch):
    """``surrogate`` with a dsegym predictor (MLP / transformer / GNN) as the model hook."""

    name = "surrogate-predictor"
    family = "surrogate"
    predictor_kind = "mlp"
    description = "predictor-guided search with a dsegym predictor"
    # A predictor is refitted after every batch: half the base class's steps keeps a run's cost near
    # the plain surrogate's (early stopping ends most fits sooner anyway).
    hyperparameters = {**SurrogateSearch.hyperparameters, "fit_steps": 150, "learning_rate": 1e-2,  # noqa: RUF012
                       "model_path": None, "mc_samples": 8}
    hparam_rules = {**SurrogateSearch.hparam_rules, "model_path": Text(optional=True),  # noqa: RUF012
                    "mc_samples": Int(1)}

    def __init__(self, problem, seed=None, **hparams):
        if hparams.get("model_factory") is not None:
            raise ConfigError(f"{self.name} brings its own model; use 'surrogate' for a custom model_factory")
        if isinstance(hparams.get("model_path"), os.PathLike):
            hparams["model_path"] = os.fspath(hparams["model_path"])
        super().__init__(problem, seed=seed, **hparams)
        prior = None
        if self.hp["model_path"]:
            prior = _prior(problem, self.hp["model_path"])
        model_seed = int(seed) if seed is not None else int(self.rng.integers(0, 2 ** 31 - 1))
        self.model = OnlineModel(self.space, model_seed, self.predictor_kind, self.hp["fit_steps"],
                                 self.hp["learning_rate"], prior, self.hp["n_members"], self.hp["mc_samples"])


def _prior(problem, path):
    """Score of designs from a saved predictor's metrics (missing objectives: zero contribution)."""
    from .model import load
    from .proxy import proxy_metrics
    pred = load(path)
    pred.check_problem(problem) if pred.form == "design" else None
    if pred.space.fingerprint() != problem.space.fingerprint():
        raise ConfigError(f"model '{path}' was trained on another space than '{problem.id}'")
    objectives = [o for o in problem.optimised if o.metric in pred.targets]
    if not objectives:
        raise ConfigError(f"model '{path}' predicts {pred.targets}, none of '{problem.id}''s objectives")

    def score(designs):
        m = proxy_metrics(pred, problem, designs)
        return sum(o.weight * o.sign * np.log(np.maximum(m[o.metric].to_numpy(dtype=np.float64), 1e-30))
                   for o in objectives)
    return score


class SurrogateMLP(PredictorGuidedSearch):
    name = "surrogate-mlp"
    predictor_kind = "mlp"
    description = "predictor-guided search: dsegym MLP-ensemble predictor, online or warm-started (model_path)"


class SurrogateTransformer(PredictorGuidedSearch):
    name = "surrogate-transformer"
    predictor_kind = "transformer"
    description = "predictor-guided search: token-transformer predictor (MC dropout), online or warm-started"


class SurrogateGNN(PredictorGuidedSearch):
    name = "surrogate-gnn"
    predictor_kind = "gnn"
    description = "predictor-guided search: torch-geometric GNN over the parameter graph, online or warm-started"
