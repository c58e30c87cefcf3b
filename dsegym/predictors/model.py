"""Training, saving, loading and querying learned cost models.

A :class:`Predictor` wraps one of the networks in :mod:`dsegym.predictors.nets` with everything needed
to use it later: the problem id and options, the space fingerprint, the targets and their units, the
target scaling, and the versions it was trained with. ``predict(df)`` returns one column per target
and one ``<target>_std`` per target (ensemble spread for the MLP, MC dropout for the transformer and
the GNN).

>>> import os, tempfile, dsegym
>>> from dsegym.datasets import collect_frame
>>> frame, meta = collect_frame("toy-accel", 200, seed=0, progress=False)
>>> p = train((frame, meta), model="mlp", targets=["latency_cycles"], seed=0, epochs=20, progress=False)
>>> path = p.save(os.path.join(tempfile.mkdtemp(), "m.pt"))
>>> out = load(path).predict(dsegym.make("toy-accel").space.sample_frame(3, seed=1))
>>> list(out.columns)
['latency_cycles', 'latency_cycles_std']
"""
from __future__ import annotations

import math
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DatasetError, InvalidDesignError
from .encoding import DEFAULT_ENCODING, DesignEncoder, design_columns, layer_features

MODEL_FORMAT = "dsegym-predictor"
MODEL_VERSION = 1
KINDS = ("mlp", "transformer", "gnn")
ADDITIVE = ("latency_cycles", "latency_ms", "energy_uj", "dram_bytes")  # per-layer metrics that sum over a network
DEFAULT_HP = {
    "mlp": {"hidden": 128, "layers": 2, "members": 5, "lr": 3e-3, "weight_decay": 1e-5, "features": "shape",
            "loss": "mse"},
    "transformer": {"d": 48, "heads": 4, "depth": 2, "bins": 8, "dropout": 0.1, "lr": 2e-3, "weight_decay": 1e-5,
                    "cls_weight": 0.2, "mc_samples": 8, "features": "shape"},
    "gnn": {"hidden": 64, "depth": 3, "dropout": 0.1, "lr": 3e-3, "weight_decay": 1e-5, "mc_samples": 8, "features": "shape",
            "node_loss": 0.0},
}
# Per-layer models' layer inputs: "shape" (log layer dimensions), "roofline" (those plus design x layer
# features and a roofline prior that latency targets are learned as a ratio over; see
# dsegym.datasets.layers.roofline_features) or "mapping" (roofline inputs plus every candidate mapping of
# the accelerator's mapper in closed form, with latency and energy priors; see
# dsegym.datasets.layers.mapping_features). Ignored by design-form models.
LAYER_INPUTS = ("shape", "roofline", "mapping")
LOSSES = ("mse", "l1")  # on standardised (log) targets; l1 on log targets is what MAPE measures


class ModelFileError(DatasetError):
    """A predictor file that cannot be used: corrupt, of another format, or of another problem."""


def space_for(problem: str, options: dict | None = None):
    """The design space a predictor of ``problem`` reads (``accel-layers``: the accelerator space)."""
    from ..datasets.layers import LAYER_PROBLEM
    if problem == LAYER_PROBLEM:
        from ..envs.accelerator.space import make_space
        return make_space()
    from ..registry import make
    return make(problem, **(options or {})).space


def versions() -> dict[str, str]:
    import torch

    from ..results import dsegym_version
    out = {"dsegym": dsegym_version(), "torch": torch.__version__, "numpy": np.__version__,
           "python": platform.python_version()}
    try:
        import torch_geometric
        out["torch_geometric"] = torch_geometric.__version__
    except ImportError:
        pass
    return out


# --- the predictor ----------------------------------------------------------------------------------
class Predictor:
    """A trained cost model (build with :func:`train`, reopen with :func:`load`)."""

    def __init__(self, meta: dict[str, Any], net, space=None):
        self.meta = meta
        self.net = net
        self.space = space if space is not None else space_for(meta["problem"], meta.get("options"))
        if self.space.fingerprint() != meta["space_fingerprint"]:
            raise ModelFileError(f"the model was trained on a different '{meta['problem']}' space (fingerprint "
                                 f"{meta['space_fingerprint']}, now {self.space.fingerprint()}); retrain it")
        self.encoder = DesignEncoder(self.space, meta.get("encoding", "unit"))  # files before 'rich': unit

    kind = property(lambda self: self.meta["kind"])
    form = property(lambda self: self.meta["form"])
    problem = property(lambda self: self.meta["problem"])
    targets = property(lambda self: list(self.meta["targets"]))
    units = property(lambda self: dict(self.meta["units"]))

    def __repr__(self) -> str:
        return f"Predictor({self.kind}, {self.form} form, problem {self.problem!r}, targets {self.targets})"

    # --- inputs ---------------------------------------------------------------------------------------
    def _inputs(self, frame) -> np.ndarray:
        x = self.encoder.flat(frame)
        if self.form == "layer":
            x = np.concatenate([x, layer_inputs(frame, self.meta)[0]], axis=1)
        return x

    def _per_repeat(self, frame) -> np.ndarray | None:
        """Per-layer models predict additive metrics per repeat of a layer (and, with roofline inputs,
        latency as a ratio over the roofline); (n, targets) multipliers."""
        if self.form != "layer":
            return None
        return layer_inputs(frame, self.meta)[1]

    def _to_units(self, z: np.ndarray) -> np.ndarray:
        """Standardised network outputs (..., targets) back to the targets' units."""
        y = z * np.asarray(self.meta["y_std"]) + np.asarray(self.meta["y_mean"])
        logs = np.asarray(self.meta["log_targets"])
        return np.where(logs, np.exp(np.where(logs, y, 0.0)), y)

    def raw(self, x: np.ndarray, samples: int | None = None) -> np.ndarray:
        """(samples, n, targets) predictions in target units for encoded inputs ``x``."""
        import torch
        xt = torch.as_tensor(x, dtype=torch.float32)
        with torch.inference_mode():
            if self.kind == "mlp":
                self.net.eval()
                z = self.net(xt).double().numpy()
            else:
                k = int(samples if samples is not None else self.meta["hp"].get("mc_samples", 8))
                if k <= 1:
                    self.net.eval()
                    z = self.net(xt)[0].double().numpy()[None]
                else:
                    self.net.train()  # MC dropout: dropout stays on at prediction time
                    z = np.stack([self.net(xt)[0].double().numpy() for _ in range(k)])
                    self.net.eval()
        return self._to_units(z)

    def predict(self, designs, workload=None, std: bool = True, batch_size: int = 1024):
        """Predictions for a DataFrame (or list of dicts) of designs: ``<target>`` and ``<target>_std``.

        Per-layer models need layer columns (``layer_m`` ...). Graph (GNN) models predict whole
        networks: give ``workload`` (a zoo name, a list of Conv/Gemm layers, or a per-layer DataFrame)
        or a ``workload`` column of zoo names. ``std=False`` skips the spread (and, for MC-dropout
        models, runs one deterministic pass). Designs go through the network ``batch_size`` at a time:
        small batches keep the activations in cache, which is what makes batched inference fast.
        """
        import pandas as pd
        if isinstance(designs, (list, dict)):
            designs = pd.DataFrame(designs if isinstance(designs, list) else [designs])
        if len(designs) == 0:
            return pd.DataFrame(columns=[c for t in self.targets for c in (t, f"{t}_std")])
        if self.form == "graph":
            from .graph import predict_graphs
            samples = predict_graphs(self, designs, workload, std)
            mean = samples.mean(axis=0)
            sd = samples.std(axis=0) if samples.shape[0] > 1 else np.zeros_like(mean)
        else:
            x = self.encoder.flat(designs)
            scale = None
            if self.form == "layer":  # layer inputs and output multipliers computed once
                lx, scale = layer_inputs(designs, self.meta)
                x = np.concatenate([x, lx], axis=1)
            mean = np.empty((len(x), len(self.targets)))
            sd = np.zeros_like(mean)
            for i in range(0, len(x), int(batch_size)):
                part = self.raw(x[i:i + batch_size], None if std else 1)
                if scale is not None:
                    part *= scale[None, i:i + batch_size]
                mean[i:i + batch_size] = part.mean(axis=0)
                if std and part.shape[0] > 1:
                    sd[i:i + batch_size] = part.std(axis=0)
        out = {}
        for j, t in enumerate(self.targets):
            out[t] = mean[:, j]
            out[f"{t}_std"] = sd[:, j]
        return pd.DataFrame(out, index=designs.index if self.form != "graph" else None)

    # --- files ----------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the model (weights + metadata) atomically; returns the path."""
        import json

        import torch

        from ..results import _plain, atomic_output
        path = Path(path)
        meta = json.loads(json.dumps(_plain(self.meta)))  # plain types only: files load with weights_only
        with atomic_output(path) as tmp:
            torch.save({"format": MODEL_FORMAT, "format_version": MODEL_VERSION, "meta": meta,
                        "state": self.net.state_dict()}, tmp)
        return path

    def check_problem(self, problem) -> None:
        """Raise unless this model answers ``problem`` (same space; for design-form models, same id)."""
        if problem.space.fingerprint() != self.meta["space_fingerprint"]:
            raise ModelFileError(f"the model was trained on '{self.problem}', whose space differs from "
                                 f"'{problem.id}' (fingerprint {self.meta['space_fingerprint']} vs "
                                 f"{problem.space.fingerprint()})")
        if self.form == "design" and problem.id != self.problem:
            raise ModelFileError(f"the model predicts '{self.problem}', not '{problem.id}'")


def layer_inputs(frame, meta: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Layer features of a per-layer frame and the (n, targets) multipliers of the network's outputs:
    the layer's repeat for additive targets, times the roofline latency for latency targets when the
    model reads roofline inputs, or the mapping priors (latency and energy) when it reads mapping inputs
    (``hp["features"]``)."""
    x = layer_features(frame)
    rep = frame["layer_repeat"].to_numpy(dtype=np.float64)
    scale = np.stack([rep if t in ADDITIVE else np.ones_like(rep) for t in meta["targets"]], axis=1)
    features = meta["hp"].get("features", "shape")
    if features in ("roofline", "mapping"):
        from ..datasets.layers import roofline_features, roofline_prior
        rx, roof = roofline_features(frame)
        if features == "roofline":
            x = np.concatenate([x, rx], axis=1)
            scale = scale * roofline_prior(frame, roof, meta["targets"])
        else:
            from ..datasets.layers import mapping_features, mapping_prior
            mx, cycles, energy = mapping_features(frame)
            x = np.concatenate([x, rx, mx], axis=1)
            scale = scale * mapping_prior(frame, cycles, energy, meta["targets"])
    return x, scale


def n_layer_inputs(meta: dict[str, Any]) -> int:
    if meta["form"] not in ("layer", "graph"):
        return 0
    features = meta["hp"].get("features", "shape")
    if features == "roofline":
        from ..datasets.layers import ROOFLINE_FEATURES
        return 5 + len(ROOFLINE_FEATURES)
    if features == "mapping":
        from ..datasets.layers import MAPPING_FEATURES, ROOFLINE_FEATURES
        return 5 + len(ROOFLINE_FEATURES) + len(MAPPING_FEATURES)
    return 5


def build_net(meta: dict[str, Any], encoder: DesignEncoder):
    from . import nets
    hp, n_out = meta["hp"], len(meta["targets"])
    n_layer = n_layer_inputs(meta)
    if meta["kind"] == "mlp":
        return nets.MLPEnsemble(encoder.width + n_layer, n_out, hp["hidden"], hp["members"], hp.get("layers", 2))
    if meta["kind"] == "transformer":
        return nets.TokenTransformer(encoder.token_widths, n_layer, n_out, hp["d"], hp["heads"], hp["depth"],
                                     hp["bins"], hp["dropout"])
    return nets.LayerGraphGNN(encoder.width, n_layer, n_out, hp["hidden"], hp["depth"], hp["dropout"])


def load(path: str | os.PathLike, problem=None) -> Predictor:
    """Open a predictor file. ``problem`` (an id or Problem): refuse a model of another problem.

    A missing, corrupt or foreign file raises :class:`ModelFileError` naming it.
    """
    import torch
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file '{path}' not found")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 (torch raises many types for a damaged zip/pickle)
        raise ModelFileError(f"model file '{path}' is corrupt or not a dsegym predictor: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    if not isinstance(blob, dict) or blob.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"model file '{path}' is not a dsegym predictor (format {blob.get('format') if isinstance(blob, dict) else type(blob).__name__!r})")
    if blob.get("format_version") != MODEL_VERSION:
        raise ModelFileError(f"model file '{path}' has format version {blob.get('format_version')}; "
                             f"this dsegym reads version {MODEL_VERSION}")
    meta = blob["meta"]
    try:
        space = space_for(meta["problem"], meta.get("options"))
    except Exception as exc:  # noqa: BLE001 (any failure to build the problem makes the file unusable)
        raise ModelFileError(f"model file '{path}': its problem '{meta.get('problem')}' cannot be built: {exc}") from None
    if space.fingerprint() != meta["space_fingerprint"]:
        raise ModelFileError(f"model file '{path}' was trained on a different '{meta['problem']}' space "
                             f"(fingerprint {meta['space_fingerprint']}, now {space.fingerprint()}); retrain it")
    enc = DesignEncoder(space, meta.get("encoding", "unit"))
    net = build_net(meta, enc)
    try:
        net.load_state_dict(blob["state"])
    except (RuntimeError, KeyError) as exc:
        raise ModelFileError(f"model file '{path}' has weights that do not fit its declared network: "
                             f"{str(exc).splitlines()[0]}") from None
    net.eval()
    pred = Predictor(meta, net, space)
    if problem is not None:
        if isinstance(problem, str):
            from ..registry import make
            problem = make(problem)
        try:
            pred.check_problem(problem)
        except ModelFileError as exc:
            raise ModelFileError(f"model file '{path}': {exc}") from None
    return pred


# --- training ---------------------------------------------------------------------------------------
def _read(data):
    if isinstance(data, tuple):
        return data
    from ..datasets.parquet import read_dataset
    return read_dataset(data)


def _problem_of(frame, meta, path) -> str:
    problems = sorted(set(frame["problem"])) if "problem" in frame.columns else []
    if len(problems) != 1:
        raise DatasetError(f"dataset '{path}' holds {len(problems)} problems ({problems}); "
                           "train on a dataset of one problem")
    return problems[0]


def train(data, model: str = "mlp", targets=None, seed: int = 0, epochs: int = 300, patience: int = 25,
          val_fraction: float = 0.1, batch_size: int = 256, progress: bool = True,
          encoding: str = DEFAULT_ENCODING, **hp) -> Predictor:
    """Train a predictor on a trial dataset (a path, or ``(frame, provenance)``).

    ``model``: ``mlp``, ``transformer`` or ``gnn`` (the GNN needs the per-layer form). ``targets``:
    metric columns (default: the problem's optimised objectives). ``encoding``: how designs become
    features (:mod:`dsegym.predictors.encoding`; ``rich`` or ``unit``). Training is deterministic for a
    seed, shows a progress bar, and keeps the weights of the best epoch on a ``val_fraction`` validation
    split, stopping after ``patience`` epochs without improvement. The learning rate warms up over the
    first 3% of ``epochs`` and then follows a cosine down to 1% of ``lr`` at ``epochs``.
    """
    import torch

    from .encoding import ENCODINGS
    if model not in KINDS:
        raise ConfigError(f"unknown predictor model {model!r}; allowed: {', '.join(KINDS)}")
    if encoding not in ENCODINGS:
        raise ConfigError(f"unknown design encoding {encoding!r}; allowed: {', '.join(ENCODINGS)}")
    if not 0 < float(val_fraction) < 0.5:
        raise ConfigError(f"val_fraction must lie in (0, 0.5), got {val_fraction!r}")
    for name, v in (("epochs", epochs), ("patience", patience), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {v!r}")
    unknown = set(hp) - set(DEFAULT_HP[model])
    if unknown:
        raise ConfigError(f"unknown {model} hyperparameters {sorted(unknown)}; allowed: {sorted(DEFAULT_HP[model])}")
    frame, prov = _read(data)
    where = data if not isinstance(data, tuple) else "<frame>"
    problem = _problem_of(frame, prov, where)
    entry = prov.get("problems", {}).get(problem, {})
    layer_form = prov.get("form") == "layer"
    form = "graph" if model == "gnn" else ("layer" if layer_form else "design")
    if model == "gnn" and not layer_form:
        raise ConfigError("the GNN learns over a workload's layer graph: train it on a per-layer dataset "
                          "('dsegym collect accel-layers ...')")
    if targets is None or len(targets) == 0:
        targets = [o["metric"] for o in entry.get("objectives", []) if o.get("optimise", True)] or ["latency_cycles"]
    targets = list(dict.fromkeys(targets))
    missing = [t for t in targets if t not in frame.columns]
    if missing:
        metrics = sorted(entry.get("units", {}))
        raise ConfigError(f"dataset '{where}' has no metric(s) {missing}; allowed targets: {metrics}")
    if form == "graph":
        bad = [t for t in targets if t not in ADDITIVE]
        if bad:
            raise ConfigError(f"the GNN predicts network totals of per-layer metrics; {bad} do not add up over "
                              f"layers; allowed: {list(ADDITIVE)}")
    options = {}
    if entry.get("options"):
        import json
        options = json.loads(entry["options"][0]) if isinstance(entry["options"][0], str) else entry["options"][0]
    space = space_for(problem, options if not layer_form else None)
    if entry.get("space_fingerprint") and entry["space_fingerprint"] != space.fingerprint():
        raise DatasetError(f"dataset '{where}' was sampled from a different '{problem}' space; collect it again")
    hp = {**DEFAULT_HP[model], **hp}
    if hp["features"] not in LAYER_INPUTS:
        raise ConfigError(f"unknown features {hp['features']!r}; allowed: {', '.join(LAYER_INPUTS)}")
    if hp.get("loss", "mse") not in LOSSES:
        raise ConfigError(f"unknown loss {hp['loss']!r}; allowed: {', '.join(LOSSES)}")
    if hp["features"] != "shape" and not layer_form:
        raise ConfigError(f"features={hp['features']!r} reads layer shapes: train on a per-layer dataset")
    units = {t: entry.get("units", {}).get(t) for t in targets}
    meta = {"kind": model, "form": form, "problem": problem, "options": options if not layer_form else {},
            "space_fingerprint": space.fingerprint(), "params": space.names, "targets": targets, "units": units,
            "hp": hp, "encoding": encoding, "versions": versions(), "seed": int(seed),
            "dataset": {"path": str(where), "rows": len(frame), "dsegym_version": prov.get("dsegym_version"),
                        "sampler": prov.get("sampler"), "workloads": prov.get("workloads")}}
    enc = DesignEncoder(space, encoding)
    from .graph import graph_data
    if form == "graph":
        data_t = graph_data(frame, enc, targets, meta)
        y = data_t["y"]
        keys = np.arange(len(y))
    else:
        y = np.stack([frame[t].to_numpy(dtype=np.float64) for t in targets], axis=1)
        keys = frame["design_id"].to_numpy() if form == "layer" else np.arange(len(y))
        if form == "layer":  # additive metrics are learned per repeat of a layer (see Predictor._per_repeat)
            layer_x, scale = layer_inputs(frame, meta)
            y = y / scale
    finite = np.isfinite(y).all(axis=1)
    logs = [bool((y[finite, j] > 0).all()) for j in range(len(targets))]
    yt = np.where(logs, np.log(np.where(np.asarray(logs), np.maximum(y, 1e-300), 1.0)), y)
    mu, sd = yt[finite].mean(axis=0), yt[finite].std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    meta.update({"log_targets": logs, "y_mean": mu.tolist(), "y_std": sd.tolist()})
    z = ((yt - mu) / sd).astype(np.float32)
    rng = np.random.default_rng(seed)
    uniq = np.unique(keys)
    val_keys = rng.choice(uniq, size=max(1, round(val_fraction * len(uniq))), replace=False)
    is_val = np.isin(keys, val_keys) | ~finite
    tr, va = np.flatnonzero(~is_val & finite), np.flatnonzero(is_val & finite)
    if len(tr) < 2 or len(va) < 1:
        raise DatasetError(f"dataset '{where}' is too small to train on ({len(frame)} rows)")
    if model == "transformer":
        q = np.linspace(0, 1, hp["bins"] + 1)[1:-1]
        meta["bin_edges"] = np.quantile(z[tr], q, axis=0).T.tolist()  # (targets, bins-1)
    meta.update({"n_train": len(tr), "n_val": len(va)})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        net = build_net(meta, enc)
        if form == "graph":
            from .graph import fit_graph
            history = fit_graph(net, data_t, z, tr, va, meta, epochs, patience, batch_size, rng, progress)
        else:
            x = np.concatenate([enc.flat(frame), layer_x], axis=1) if form == "layer" else enc.flat(frame)
            history = _fit(net, x, z, tr, va, meta, epochs, patience, batch_size, rng, progress)
    meta["history"] = history
    net.eval()
    return Predictor(meta, net, space)


def _loss(net, meta, xb, yb, wb=None):
    import torch
    kind = meta["kind"]
    if kind == "mlp":
        diff = net(xb) - yb[None]  # (members, n, t)
        err = diff.abs() if meta["hp"].get("loss", "mse") == "l1" else diff ** 2
        return (err.mean(dim=2) * wb).sum(dim=1).div(wb.sum(dim=1)).mean() if wb is not None else err.mean()
    reg, logits = net(xb)
    loss = ((reg - yb) ** 2).mean()
    if kind == "transformer" and net.training:
        edges = torch.as_tensor(meta["bin_edges"], dtype=torch.float32)  # (t, bins-1)
        labels = (yb[:, :, None] > edges[None]).sum(dim=2)  # (n, t)
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        loss = loss + meta["hp"]["cls_weight"] * ce
    return loss


def _val(net, meta, xv, yv) -> float:
    import torch
    net.eval()
    with torch.no_grad():
        out = net(xv)
        pred = out.mean(dim=0) if meta["kind"] == "mlp" else out[0]
        return float(((pred - yv) ** 2).mean())


def _fit(net, x, z, tr, va, meta, epochs, patience, batch_size, rng, progress) -> dict[str, Any]:

    import torch
    from tqdm.auto import tqdm
    hp = meta["hp"]
    xt, yt = torch.as_tensor(x), torch.as_tensor(z)
    xv, yv = xt[va], yt[va]
    opt = torch.optim.AdamW(net.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
    warm = max(1, round(0.03 * epochs))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: (e + 1) / warm if e < warm else
                                              0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * (e - warm) / max(1, epochs - warm))))
    # MLP members each see their own Poisson(1) bootstrap weights of the data: their spread is the std
    weights = (torch.as_tensor(rng.poisson(1.0, size=(hp["members"], len(z))).astype(np.float32)) + 1e-3
               if meta["kind"] == "mlp" else None)
    bar = tqdm(range(1, epochs + 1), desc=f"train {meta['kind']}", unit="epoch", disable=not progress)
    stopper = EarlyStopping(net, patience, bar)
    for epoch in bar:
        net.train()
        order = tr[rng.permutation(len(tr))]
        for i in range(0, len(order), batch_size):
            idx = torch.as_tensor(order[i:i + batch_size])
            loss = _loss(net, meta, xt[idx], yt[idx], weights[:, idx] if weights is not None else None)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        if stopper.stop(_val(net, meta, xv, yv)):
            break
    return stopper.finish()


class EarlyStopping:
    """Validation bookkeeping shared by the training loops: keeps the best epoch's weights, says when
    ``patience`` epochs have passed without a 0.01% gain, and restores the best weights at the end."""

    def __init__(self, net, patience: int, bar):
        self.net, self.patience, self.bar = net, int(patience), bar
        self.best, self.state, self.stale, self.epochs, self.curve = math.inf, None, 0, 0, []

    def stop(self, val_mse: float) -> bool:
        """Record one epoch's validation MSE; True when training should stop."""
        import copy
        self.epochs += 1
        self.curve.append(val_mse)
        self.bar.set_postfix(val_mse=f"{val_mse:.4g}")
        if val_mse < self.best * (1 - 1e-4):
            self.best, self.state, self.stale = val_mse, copy.deepcopy(self.net.state_dict()), 0
            return False
        self.stale += 1
        return self.stale >= self.patience

    def finish(self) -> dict[str, Any]:
        """Close the bar, load the best weights; the training history."""
        self.bar.close()
        if self.state is not None:
            self.net.load_state_dict(self.state)
        return {"epochs_run": self.epochs, "best_val_mse": self.best, "val_curve": self.curve[-50:]}


def check_designs(predictor: Predictor, frame) -> None:
    """Raise InvalidDesignError unless ``frame`` has every parameter the predictor reads."""
    design_columns(frame, predictor.space)


__all__ = ["KINDS", "InvalidDesignError", "ModelFileError", "Predictor", "check_designs", "load", "train"]
