"""The co-design problems: ``codesign-digits`` (network x bits x accelerator) and ``quant-digits``
(bits x accelerator for one fixed network, FLIQS style).

Objectives: ``accuracy`` (maximise, measured: see ``accuracy``), ``latency_ms``, ``energy_uj`` and
``area_mm2`` (minimise, from the accelerator model running the chosen network at its chosen
precision: see ``hardware``). ``form="pareto"`` optimises all four; ``form="constrained"`` maximises
accuracy subject to the limits given (``latency_limit_ms``, ``energy_limit_uj``, ``area_limit_mm2``);
``min_accuracy`` adds an accuracy floor to either form.

Weight bits are per convolution; activation bits (``abits``) are one width for the whole network. Per-
layer activation widths were tried: the last convolution's activations feed only the small classifier,
and at 4 bits they cost neither measurable accuracy nor hardware, a knob without a trade-off. Weight
bits of convolutions a shallower network does not have are inactive: they change nothing.

``fidelity``: ``"trained"`` (measured accuracy, the default) or a zero-cost proxy (``"params"``,
``"synflow"``, ``"grad_norm"``), which replaces the accuracy objective by the metric ``proxy_<name>``
(maximised). Proxies score the float network at initialisation: they see neither training nor bits,
so under a proxy lower precision looks free; use them to screen networks, not to choose bits.

>>> import tempfile
>>> p = make_quant_problem(cache_dir=tempfile.mkdtemp(), seeds=1)
>>> sorted(p.space.groups)
['compute', 'dram', 'memory', 'quantization']
>>> [o.metric for o in p.optimised]
['accuracy', 'latency_ms', 'energy_uj', 'area_mm2']
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ...errors import ConfigError
from ...problem import Objective, Problem
from ...space import Categorical, Constraint, DesignSpace, Ordinal
from .network import (
    ACT_BITS,
    DEPTHS,
    GROWTHS,
    IMAGE_HW,
    KERNELS,
    MAC_BUDGET,
    MAX_CHANNELS,
    N_CLASSES,
    WEIGHT_BITS,
    WIDTHS,
    NetArch,
)

FIXED_NETWORK = NetArch(3, 16, 2, 3, True)
# Images per inference. The networks are tiny (under 1 MMAC per image): one image's activations fit
# any buffer, which would make the smallest buffers free; a batch that shares the weights is the
# throughput workload such an accelerator is built for, and latency_ms is per batch.
DEFAULT_BATCH = 64  # quant-digits: 16-32-64 channels, 3x3, pooled
MAX_DEPTH = max(DEPTHS)
FORMS = ("pareto", "constrained")
FIDELITIES = ("trained", "params", "synflow", "grad_norm")
QUANTIZATION = ("auto", "ptq")
HW_OBJECTIVES = ("latency_ms", "energy_uj", "area_mm2")
LIMIT_OPTIONS = {"latency_limit_ms": "latency_ms", "energy_limit_uj": "energy_uj", "area_limit_mm2": "area_mm2"}


def _bits_params(depth: int) -> list:
    params = [Ordinal(f"wbits_{i}", list(WEIGHT_BITS), default=8, group="quantization",
                      help=f"weight bits of convolution {i}") for i in range(depth)]
    params.append(Ordinal("abits", list(ACT_BITS), default=8, group="quantization",
                          help="activation bits after every convolution"))
    return params


def network_macs(cols) -> np.ndarray:
    """Vectorised ``NetArch.macs`` over design columns (depth, width, growth, kernel, pool)."""
    depth = np.asarray(cols["depth"], dtype=np.int64)
    width = np.asarray(cols["width"], dtype=np.int64)
    growth = np.asarray(cols["growth"], dtype=np.int64)
    k2 = np.asarray(cols["kernel"], dtype=np.int64) ** 2
    pooled = np.asarray(cols["pool"]) == "first"
    total = np.zeros(len(depth), dtype=np.int64)
    c_in = np.ones_like(depth)
    c_out = c_in
    for i in range(MAX_DEPTH):
        active = i < depth
        c_out = np.where(active, np.minimum(MAX_CHANNELS, width * growth ** i), c_out)
        hw = np.where(pooled & (i > 0), IMAGE_HW // 2, IMAGE_HW)
        total += np.where(active, hw * hw * k2 * c_in * c_out, 0)
        c_in = np.where(active, c_out, c_in)
    feat_hw = np.where(pooled, IMAGE_HW // 2, IMAGE_HW)
    return total + c_in * feat_hw * feat_hw * N_CLASSES


def _network_params() -> list:
    return [
        Ordinal("depth", list(DEPTHS), default=3, group="network", help="convolution layers"),
        Ordinal("width", list(WIDTHS), default=16, group="network", help="channels of the first convolution"),
        Ordinal("growth", list(GROWTHS), default=2, group="network", help="channel multiplier per layer (cap 64)"),
        Ordinal("kernel", list(KERNELS), default=3, group="network", help="convolution kernel size"),
        Categorical("pool", ["none", "first"], default="first", group="network",
                    help="2x2 max-pool after the first convolution"),
    ]


def _accelerator_space():
    from ..accelerator.space import make_space

    return make_space()


def make_space(fixed: NetArch | None = None) -> DesignSpace:
    """The joint space (``fixed=None``) or the bits x accelerator space of one network."""
    acc = _accelerator_space()
    constraints = list(acc.constraints)
    if fixed is None:
        params = _network_params() + _bits_params(MAX_DEPTH)
        constraints.append(Constraint(
            "network_macs_le_budget", lambda d: network_macs(d) <= MAC_BUDGET,
            f"the network's multiply-accumulates per image must be at most {MAC_BUDGET:,}"))
    else:
        params = _bits_params(fixed.depth)
    return DesignSpace(params + list(acc.params), constraints,
                       name="codesign" if fixed is None else f"quant-{fixed.key}")


def _archs(frame, fixed: NetArch | None) -> list[NetArch]:
    if fixed is not None:
        return [fixed] * len(frame)
    return [NetArch(int(d), int(w), int(g), int(k), p == "first") for d, w, g, k, p in
            zip(frame["depth"], frame["width"], frame["growth"], frame["kernel"], frame["pool"])]


def _positive(name: str, value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _make(fixed: NetArch | None, form: str, fidelity: str, quantization: str, seeds, cache_dir, tech_nm,
          batch, epochs, min_accuracy, limits: dict) -> Problem:
    from ..accelerator.constants import TECH_NODES_NM
    from .accuracy import AccuracyOracle

    if form not in FORMS:
        raise ConfigError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
    if fidelity not in FIDELITIES:
        raise ConfigError(f"fidelity must be one of {', '.join(FIDELITIES)}, got {fidelity!r}")
    if quantization not in QUANTIZATION:
        raise ConfigError(f"quantization must be one of {', '.join(QUANTIZATION)}, got {quantization!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, numbers.Integral) or not 1 <= seeds <= 10:
        raise ConfigError(f"seeds must be an integer from 1 to 10 (training seeds averaged), got {seeds!r}")
    if isinstance(tech_nm, bool) or tech_nm not in TECH_NODES_NM:
        raise ConfigError(f"tech_nm must be one of {', '.join(map(str, sorted(TECH_NODES_NM)))}, got {tech_nm!r}")
    if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or not 1 <= batch <= 4096:
        raise ConfigError(f"batch must be an integer from 1 to 4096 (images per inference), got {batch!r}")
    limits = {LIMIT_OPTIONS[k]: _positive(k, v) for k, v in limits.items() if v is not None}
    if min_accuracy is not None and (_positive("min_accuracy", min_accuracy) > 1):
        raise ConfigError(f"min_accuracy is a fraction in (0, 1], got {min_accuracy!r}")
    if form == "constrained" and not limits:
        raise ConfigError("form='constrained' needs at least one of " + ", ".join(LIMIT_OPTIONS))

    oracle = AccuracyOracle(cache_dir, seeds=tuple(range(int(seeds))), epochs=epochs)
    if quantization == "ptq":
        oracle.collapse_drop = math.inf  # never fall back to QAT
    acc_metric = "accuracy" if fidelity == "trained" else f"proxy_{fidelity}"
    space = make_space(fixed)

    def simulate(frame):
        import pandas as pd
        from tqdm.auto import tqdm

        from .hardware import run_network
        from .proxies import proxy_scores

        frame = frame.reset_index(drop=True)
        n = len(frame)
        archs = _archs(frame, fixed)
        depth_max = fixed.depth if fixed is not None else MAX_DEPTH
        wb = np.stack([frame[f"wbits_{i}"].to_numpy() for i in range(depth_max)], axis=1)
        ab = np.repeat(frame["abits"].to_numpy()[:, None], depth_max, axis=1)
        hw = {k: np.zeros(n) for k in ("latency_cycles", "latency_ms", "energy_pj", "energy_mac_pj",
                                       "energy_sram_pj", "energy_dram_pj", "energy_static_pj", "area_mm2",
                                       "area_pe_mm2", "area_sram_mm2", "area_phy_mm2", "dram_bytes")}
        acc = np.zeros(n)
        acc_std = np.zeros(n)
        qat = np.zeros(n, dtype=np.int64)
        groups: dict[NetArch, list[int]] = {}
        for i, a in enumerate(archs):
            groups.setdefault(a, []).append(i)
        keys = {}
        for i, a in enumerate(archs):
            keys.setdefault((a, tuple(wb[i, :a.depth]), tuple(ab[i, :a.depth])), []).append(i)
        todo = [k for k in keys if fidelity == "trained" and not oracle.is_cached(k[0])]
        bar = tqdm(total=len(keys), desc="accuracy", unit="net", disable=len(todo) < 2, leave=False)
        for (a, w, b), rows in keys.items():
            if fidelity == "trained":
                r = oracle.measure(a, w, b)
                acc[rows], acc_std[rows], qat[rows] = r["accuracy"], r["accuracy_std"], r["quant_method"] == "qat"
            else:
                acc[rows] = proxy_scores(a, fidelity)
            bar.update()
        bar.close()
        for a, rows in groups.items():
            out = run_network(frame.iloc[rows], a, wb[rows, :a.depth], ab[rows, :a.depth], tech_nm, batch)
            for k in hw:
                hw[k][rows] = out[k]
        data = {acc_metric: acc}
        if fidelity == "trained":
            data.update(accuracy_std=acc_std, qat_used=qat)
        data.update(latency_ms=hw["latency_ms"], energy_uj=hw["energy_pj"] * 1e-6, area_mm2=hw["area_mm2"],
                    latency_cycles=hw["latency_cycles"])
        for k in ("energy_mac_pj", "energy_sram_pj", "energy_dram_pj", "energy_static_pj"):
            data[k.replace("_pj", "_uj")] = hw[k] * 1e-6
        data.update(area_pe_mm2=hw["area_pe_mm2"], area_sram_mm2=hw["area_sram_mm2"],
                    area_phy_mm2=hw["area_phy_mm2"], dram_bytes=hw["dram_bytes"],
                    network_macs_count=np.array([a.macs for a in archs], dtype=np.float64),
                    network_params=np.array([a.params for a in archs], dtype=np.float64))
        return pd.DataFrame(data)

    acc_unit = "ratio" if fidelity == "trained" else "score"
    objectives = [Objective(acc_metric, "max", unit=acc_unit,
                            limit=min_accuracy if fidelity == "trained" else None)]
    for m in HW_OBJECTIVES:
        if form == "pareto":
            objectives.append(Objective(m, "min", limit=limits.get(m)))
        elif m in limits:
            objectives.append(Objective(m, "min", limit=limits[m], optimise=False))
    what = "CNN x per-layer bits x accelerator" if fixed is None else f"per-layer bits x accelerator for {fixed.key}"
    return Problem("codesign-digits" if fixed is None else "quant-digits", space, simulate, objectives,
                   workload="digits", description=f"{what} on scikit-learn digits ({fidelity} accuracy)",
                   info={"fidelity": fidelity, "form": form, "seeds": int(seeds), "tech_nm": tech_nm, "batch": batch, "epochs": epochs,
                         "quantization": quantization, "cache": str(oracle.cache.root)})


def make_codesign_problem(form: str = "pareto", fidelity: str = "trained", quantization: str = "auto",
                          seeds: int = 3, cache_dir=None, tech_nm: int = 28, batch: int = DEFAULT_BATCH,
                          epochs: int = 10, min_accuracy: float | None = None,
                          latency_limit_ms: float | None = None, energy_limit_uj: float | None = None,
                          area_limit_mm2: float | None = None) -> Problem:
    """``codesign-digits``: search the network, its per-layer bits and the accelerator together."""
    return _make(None, form, fidelity, quantization, seeds, cache_dir, tech_nm, batch, epochs, min_accuracy,
                 {"latency_limit_ms": latency_limit_ms, "energy_limit_uj": energy_limit_uj,
                  "area_limit_mm2": area_limit_mm2})


def make_quant_problem(form: str = "pareto", quantization: str = "auto", seeds: int = 3, cache_dir=None,
                       tech_nm: int = 28, batch: int = DEFAULT_BATCH, epochs: int = 10,
                       min_accuracy: float | None = None,
                       latency_limit_ms: float | None = None, energy_limit_uj: float | None = None,
                       area_limit_mm2: float | None = None) -> Problem:
    """``quant-digits``: one fixed network (16-32-64 channels); search per-layer bits and the accelerator."""
    return _make(FIXED_NETWORK, form, "trained", quantization, seeds, cache_dir, tech_nm, batch, epochs, min_accuracy,
                 {"latency_limit_ms": latency_limit_ms, "energy_limit_uj": energy_limit_uj,
                  "area_limit_mm2": area_limit_mm2})
