"""The torch networks behind the predictors: an MLP ensemble, a token transformer and a layer-graph GNN.

All three map (design features, layer features) to standardised targets; they differ in what they
assume. The MLP sees one flat vector. The transformer (AIrchitect v2 style) sees one token per design
parameter and per layer-shape feature, attends across them, and ends in a *unified head*: a regression
output per target plus a classification over the target's quantile bins (the bins are an auxiliary
ordinal task that sharpens ranking; the regression output is the prediction). The GNN (BRP-NAS style)
runs graph convolutions (torch-geometric ``GraphConv``) over the workload's layer graph with the design
as a global feature added to every node, predicts each layer's log-cost and sums the layers
(log-sum-exp), so a network never seen in training is just another graph.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .encoding import _LOG_CENTRE, _LOG_SCALE


class MLPEnsemble(nn.Module):
    """``members`` independent MLPs (``layers`` hidden layers of ``hidden`` units) as one batched network.

    Parameters are ``w1, b1, ..., w{layers+1}, b{layers+1}``, each with a leading members axis. Without
    autograd (prediction) the first layer of every member runs as one matrix product and activations
    are computed in place: inference is memory-bound, and this halves the traffic.
    """

    def __init__(self, n_in: int, n_out: int, hidden: int = 128, members: int = 5, layers: int = 2):
        super().__init__()
        def param(*shape, fan_in):
            bound = 1.0 / math.sqrt(fan_in)
            return nn.Parameter((torch.rand(*shape) * 2 - 1) * bound)
        widths = [n_in] + [hidden] * layers + [n_out]
        self.n_layers = len(widths) - 1
        for i in range(self.n_layers):
            setattr(self, f"w{i + 1}", param(members, widths[i], widths[i + 1], fan_in=widths[i]))
            setattr(self, f"b{i + 1}", param(members, 1, widths[i + 1], fan_in=widths[i]))
        self.members, self.hidden = members, hidden

    def forward(self, x):  # x: (n, f) -> (members, n, out)
        if not torch.is_grad_enabled():
            return self._predict(x)
        act = nn.functional.silu
        z = torch.matmul(x, self.w1) + self.b1  # (n, f) @ (m, f, h) broadcasts to (m, n, h)
        for i in range(2, self.n_layers + 1):
            z = torch.baddbmm(getattr(self, f"b{i}"), act(z), getattr(self, f"w{i}"))
        return z

    def _predict(self, x):
        m, f, h = self.w1.shape
        silu = nn.functional.silu
        # all members' first layers as one (f, m*h) product
        w1 = self.w1.permute(1, 0, 2).reshape(f, m * h)
        z = torch.addmm(self.b1.reshape(1, m * h), x, w1)
        z = silu(z, inplace=True).view(-1, m, h).transpose(0, 1)
        for i in range(2, self.n_layers + 1):
            z = torch.baddbmm(getattr(self, f"b{i}"), z, getattr(self, f"w{i}"))
            if i < self.n_layers:
                z = silu(z, inplace=True)
        return z


class TokenTransformer(nn.Module):
    """Transformer encoder over parameter tokens (+ layer tokens) with a unified regression/classification head."""

    def __init__(self, token_widths: list[int], n_layer: int, n_out: int, d: int = 48, heads: int = 4,
                 depth: int = 2, bins: int = 8, dropout: float = 0.1):
        super().__init__()
        self.token_widths = list(token_widths) + [1] * n_layer
        self.n_tokens = len(self.token_widths)
        wmax = max(self.token_widths)
        # one linear map per token (its own weights), padded to the widest token and applied by einsum
        self.w = nn.Parameter(torch.randn(self.n_tokens, wmax, d) / math.sqrt(wmax))
        self.pos = nn.Parameter(torch.randn(self.n_tokens + 1, d) * 0.02)  # +1: the CLS token
        mask = torch.zeros(self.n_tokens, wmax)
        for t, w in enumerate(self.token_widths):
            mask[t, :w] = 1
        self.register_buffer("mask", mask)
        layer = nn.TransformerEncoderLayer(d, heads, 2 * d, dropout=dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.drop = nn.Dropout(dropout)
        self.reg = nn.Linear(d, n_out)
        self.cls = nn.Linear(d, n_out * bins)
        self.n_out, self.bins = n_out, bins

    def tokens(self, x):  # x: (n, sum widths) -> (n, tokens, wmax)
        n = x.shape[0]
        out = x.new_zeros(n, self.n_tokens, self.w.shape[1])
        start = 0
        for t, w in enumerate(self.token_widths):
            out[:, t, :w] = x[:, start:start + w]
            start += w
        return out

    def forward(self, x):
        tok = torch.einsum("ntw,twd->ntd", self.tokens(x) * self.mask, self.w)
        cls = x.new_zeros(x.shape[0], 1, self.w.shape[2])
        h = self.encoder(torch.cat([cls, tok], dim=1) + self.pos)
        z = self.drop(self.norm(h[:, 0]))
        return self.reg(z), self.cls(z).view(-1, self.n_out, self.bins)


class LayerGraphGNN(nn.Module):
    """GraphConv layers over the layer graph; design as a global feature; per-layer log-costs summed."""

    def __init__(self, n_design: int, n_layer: int, n_out: int, hidden: int = 64, depth: int = 3,
                 dropout: float = 0.1):
        super().__init__()
        from torch_geometric.nn import GraphConv
        self.node_in = nn.Linear(n_layer, hidden)
        self.design_in = nn.Sequential(nn.Linear(n_design, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.convs = nn.ModuleList([GraphConv(hidden, hidden) for _ in range(depth)])
        self.mix = nn.Sequential(nn.Linear(2 * hidden + n_layer, hidden), nn.SiLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, hidden), nn.SiLU(), nn.Dropout(dropout))
        self.head = nn.Linear(hidden, n_out)

    def forward(self, design, nodes, edge_index, batch, n_graphs: int, offset=None, return_nodes: bool = False):
        """design: (graphs, f); nodes: (N, n_layer), the first 5 columns the layer shape; edge_index:
        (2, E); batch: (N,) graph of each node; offset: (N, out) log multipliers of each node's output
        (default: log repeat).

        Returns (graphs, out): log of the summed per-layer cost of each graph (standardised log units
        are handled by the caller); with ``return_nodes``, also the (N, out) per-layer log costs."""
        g = self.design_in(design)[batch]
        h = nn.functional.silu(self.node_in(nodes) + g)
        for conv in self.convs:
            h = h + nn.functional.silu(conv(h, edge_index))
        # per-layer log cost of one repeat, plus log(repeat): repeats (heads, blocks, depthwise channels)
        # run on independent data, so a layer's cost scales with them; this extrapolates to unseen repeats
        if offset is None:
            offset = (nodes[:, 4:5] * _LOG_SCALE + _LOG_CENTRE) * math.log(2.0)
        z = self.head(self.mix(torch.cat([h, g, nodes], dim=1))) + offset  # (N, out)
        zmax = torch.full((n_graphs, z.shape[1]), -torch.inf, dtype=z.dtype)
        zmax = zmax.scatter_reduce(0, batch[:, None].expand_as(z), z, reduce="amax").detach()
        s = torch.zeros(n_graphs, z.shape[1], dtype=z.dtype).index_add_(0, batch, torch.exp(z - zmax[batch]))
        total = torch.log(s) + zmax
        return (total, z) if return_nodes else total
