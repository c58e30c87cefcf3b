"""Layer graphs for the GNN: one graph per (workload, design), layers as nodes joined in execution order.

A workload's layers form a chain (each layer reads the previous one's output); the design is a global
feature of the graph. Node features are the log-scaled layer shapes of :func:`layer_features` and, for
a model trained with ``features="roofline"``, the design x layer features of
:func:`dsegym.datasets.layers.roofline_features`; each node's output is offset by the log of its
repeat (times its roofline latency), so the network learns a per-layer ratio that transfers to shapes
and repeat counts it never saw.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError
from .encoding import layer_features


def _nodes(frame, meta, targets) -> tuple[np.ndarray, np.ndarray]:
    """Node features and (N, targets) log offsets of each node's output."""
    if meta is None:  # shape features only, offset log repeat
        rep = np.log(frame["layer_repeat"].to_numpy(dtype=np.float64))[:, None]
        return layer_features(frame), np.repeat(rep, len(targets or [None]), axis=1)
    from .model import layer_inputs
    x, scale = layer_inputs(frame, meta)
    return x, np.log(scale)


def graph_data(frame, enc, targets=None, meta=None) -> dict[str, Any]:
    """Graphs of a per-layer frame: design features per graph, node features and offsets, graph
    boundaries (``ptr``), summed targets. ``meta``: the model's metadata (which layer inputs)."""
    keys = ["workload", "design_id", "layer"]
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ConfigError(f"a per-layer frame needs columns {keys}; missing {missing}")
    f = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    gid = f.groupby(["workload", "design_id"], sort=False).ngroup().to_numpy()
    starts = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
    ptr = np.r_[starts, len(f)]
    first = f.iloc[starts]
    nodes, offset = _nodes(f, meta, targets)
    out = {"design": enc.flat(first), "nodes": nodes, "offset": offset.astype(np.float32), "ptr": ptr,
           "workload": first["workload"].to_numpy(), "design_id": first["design_id"].to_numpy()}
    if targets is not None:
        per_layer = np.stack([f[t].to_numpy(dtype=np.float64) for t in targets], axis=1)
        out["y"] = np.add.reduceat(per_layer, starts, axis=0)
        # each layer's own cost, for the optional per-node loss (hp node_loss): deep supervision that the
        # per-layer form offers and BRP-NAS's whole-network labels do not
        out["node_y"] = np.log(np.maximum(per_layer, 1e-300)).astype(np.float32)
    return out


def _batch(data, graphs: np.ndarray):
    """Tensors of a mini-batch of graphs (design, nodes, edge_index, batch vector)."""
    import torch
    ptr = data["ptr"]
    lengths = ptr[graphs + 1] - ptr[graphs]
    total = int(lengths.sum())
    offsets = np.repeat(ptr[graphs] - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    node_idx = offsets + np.arange(total)
    batch = np.repeat(np.arange(len(graphs)), lengths)
    src = np.flatnonzero(batch[:-1] == batch[1:])
    edges = np.stack([np.r_[src, src + 1], np.r_[src + 1, src]])
    return (torch.as_tensor(data["design"][graphs]), torch.as_tensor(data["nodes"][node_idx]),
            torch.as_tensor(edges, dtype=torch.long), torch.as_tensor(batch, dtype=torch.long),
            torch.as_tensor(data["offset"][node_idx])), node_idx


def _forward(net, data, graphs, return_nodes: bool = False):
    (d, nodes, edges, batch, offset), node_idx = _batch(data, graphs)
    out = net(d, nodes, edges, batch, len(graphs), offset, return_nodes=return_nodes)
    return (out, node_idx) if return_nodes else out


def fit_graph(net, data, z, tr, va, meta, epochs, patience, batch_size, rng, progress) -> dict[str, Any]:

    import torch
    from tqdm.auto import tqdm
    hp = meta["hp"]
    # Standardised log totals: the network's log-sum-exp output is shifted and scaled the same way.
    mu, sd = torch.as_tensor(meta["y_mean"], dtype=torch.float32), torch.as_tensor(meta["y_std"], dtype=torch.float32)
    with torch.no_grad():  # start the head at the mean log ratio of a graph's total to its summed offsets
        off = data["offset"].astype(np.float64)
        top = off.max(axis=0)
        lse = np.log(np.add.reduceat(np.exp(off - top), data["ptr"][:-1], axis=0)) + top
        ratio = np.log(np.maximum(data["y"][tr], 1e-300)) - lse[tr]
        net.head.bias.copy_(torch.as_tensor(ratio.mean(axis=0), dtype=torch.float32))
    zt = torch.as_tensor(z)
    node_w = float(hp.get("node_loss", 0.0))
    if node_w > 0 and "node_y" not in data:
        raise ConfigError("node_loss needs per-layer targets in the graph data")
    node_y = torch.as_tensor(data["node_y"]) if node_w > 0 else None
    opt = torch.optim.AdamW(net.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    from .model import EarlyStopping
    bar = tqdm(range(1, epochs + 1), desc="train gnn", unit="epoch", disable=not progress)
    stopper = EarlyStopping(net, patience, bar)
    for _ in bar:
        net.train()
        order = tr[rng.permutation(len(tr))]
        for i in range(0, len(order), batch_size):
            g = order[i:i + batch_size]
            if node_w > 0:
                (total, z_nodes), node_idx = _forward(net, data, g, return_nodes=True)
                loss = (((total - mu) / sd - zt[g]) ** 2).mean()
                loss = loss + node_w * (((z_nodes - node_y[node_idx]) / sd) ** 2).mean()
            else:
                loss = ((((_forward(net, data, g) - mu) / sd) - zt[g]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        net.eval()
        with torch.no_grad():
            v = float(torch.cat([((_forward(net, data, va[i:i + 4096]) - mu) / sd - zt[va[i:i + 4096]]) ** 2
                                 for i in range(0, len(va), 4096)]).mean())
        if stopper.stop(v):
            break
    return stopper.finish()


def raw_graphs(predictor, data, samples: int) -> np.ndarray:
    """(samples, graphs, targets) predictions in target units (log-sum-exp outputs are log totals)."""
    import torch
    net = predictor.net
    n = len(data["ptr"]) - 1
    logs = np.asarray(predictor.meta["log_targets"])
    outs = []
    with torch.no_grad():
        for s in range(max(1, samples)):
            net.train(samples > 1)
            parts = [_forward(net, data, np.arange(i, min(i + 4096, n))).double().numpy() for i in range(0, n, 4096)]
            outs.append(np.concatenate(parts))
    net.eval()
    out = np.stack(outs)
    return np.where(logs, np.exp(out), out)


def workload_layers(workload) -> tuple[str, Any]:
    """(name, LayerTable) of a zoo name, a list of Conv/Gemm layers, a DataFrame of layers or a CSV path."""
    from ..envs.accelerator.layers import layer_table
    name = workload if isinstance(workload, str) else "custom"
    if isinstance(workload, str) and "@b" in workload:  # a batch variant of a zoo workload
        from ..datasets.layers import workload_layers as variant
        workload = variant(workload)
    return name, layer_table(workload)


def predict_graphs(predictor, designs, workload, std: bool) -> np.ndarray:
    """(samples, n, targets) network totals for every design on its workload."""
    from .encoding import design_columns
    if workload is None:
        if "workload" not in designs.columns:
            raise ConfigError("a GNN predicts whole networks: pass workload=NAME (or layers), or give the designs "
                              "a 'workload' column of zoo names")
        groups = {w: np.flatnonzero(designs["workload"].to_numpy() == w) for w in dict.fromkeys(designs["workload"])}
    else:
        groups = {None: np.arange(len(designs))}
    k = int(predictor.meta["hp"].get("mc_samples", 8)) if std else 1
    enc = predictor.encoder
    cols = design_columns(designs, predictor.space)
    out = np.zeros((k, len(designs), len(predictor.targets)))
    for w, rows in groups.items():
        _, lt = workload_layers(workload if w is None else w)
        L = len(lt)
        per_layer = cols.iloc[np.repeat(rows, L)].reset_index(drop=True)
        per_layer = per_layer.join(_layer_frame(lt).iloc[np.tile(np.arange(L), len(rows))].reset_index(drop=True))
        nodes, offset = _nodes(per_layer, predictor.meta, predictor.targets)
        dx = enc.flat(cols.iloc[rows])
        data = {"design": dx, "nodes": nodes, "offset": offset.astype(np.float32),
                "ptr": np.arange(len(rows) + 1) * L}
        out[:, rows] = raw_graphs(predictor, data, k)
    return out


def _layer_frame(lt):
    import pandas as pd
    return pd.DataFrame({"layer_m": lt.M, "layer_n": lt.N, "layer_k": lt.K, "layer_ifmap_elems": lt.ifmap_elems,
                         "layer_repeat": lt.repeat})
