"""The accelerator's per-layer dataset form: design parameters + layer shape -> per-layer metrics.

One row per (design, workload, layer). A layer is described by the GEMM the array runs
(``layer_m``, ``layer_n``, ``layer_k``), its unique input elements (``layer_ifmap_elems``) and its
``layer_repeat``; the metrics are that layer's ``latency_cycles``, ``latency_ms``, ``energy_uj`` and
``dram_bytes`` inside its network (layers run chained, as the problems run them, so a workload's
per-layer latencies sum to the problem's ``latency_cycles``). Predictors that learn from this form see
layer shapes, not workload names, so they can be asked about networks never seen in training.

The file is a trial dataset whose problem is ``accel-layers``; its provenance records ``form: layer``,
the workloads, and the problem options (node, number format, fidelity).

>>> frame, prov = collect_layer_frame(["resnet18"], 3, seed=0, progress=False)
>>> len(frame), prov["form"], int(frame["layer_m"].iloc[0]) > 0
(63, 'layer', True)
>>> import dsegym
>>> p = dsegym.make("accel-resnet18")
>>> d = frame[frame["design_id"] == 0][[c for c in frame if c.startswith("design.")]].iloc[:1]
>>> d.columns = [c[len("design."):] for c in d.columns]
>>> float(frame[frame["design_id"] == 0]["latency_cycles"].sum()) == float(p.evaluate(d)["latency_cycles"][0])
True
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..errors import ConfigError, UnknownIdError
from .samplers import sample_designs

LAYER_PROBLEM = "accel-layers"
LAYER_FEATURES = ("layer_m", "layer_n", "layer_k", "layer_ifmap_elems", "layer_repeat")
LAYER_METRICS = {"latency_cycles": "cycles", "latency_ms": "ms", "energy_uj": "uJ", "dram_bytes": "B"}


def workload_layers(name: str) -> list:
    """Layers of a zoo workload, or of its batch variant ``NAME@bB``: B inputs (images, sequences)
    through the same weights at once, so a convolution's batch and a GEMM's M grow B-fold.

    >>> [layer.mnk for layer in workload_layers("vgg16@b4")][-1]
    (4, 1000, 4096)
    """
    import dataclasses

    from ..envs.accelerator.layers import Conv
    from ..envs.accelerator.workloads import WORKLOADS
    base, _, tail = name.partition("@b")
    if base not in WORKLOADS:
        raise UnknownIdError("workload", base, WORKLOADS)
    if not tail:
        if "@" in name:
            raise ConfigError(f"workload variant {name!r}: write NAME@bB with B a batch size >= 1")
        return list(WORKLOADS[base])
    if not tail.isdigit() or int(tail) < 1:
        raise ConfigError(f"workload variant {name!r}: the batch after '@b' must be an integer >= 1")
    b = int(tail)
    return [dataclasses.replace(layer, batch=layer.batch * b) if isinstance(layer, Conv)
            else dataclasses.replace(layer, m=layer.m * b) for layer in WORKLOADS[base]]


def _tables(workloads):
    from ..envs.accelerator.layers import layer_table
    if isinstance(workloads, str):
        workloads = [w for w in workloads.split(",") if w]
    if not workloads:
        raise ConfigError("name at least one workload for the per-layer form")
    return {w: layer_table(workload_layers(w)) for w in workloads}


def layer_rows(designs, workload: str, table, fidelity: str = "physical", options: dict | None = None,
               chained: bool = True):
    """Per-layer rows of ``designs`` (a DataFrame of accelerator parameters) on one layer table.

    ``chained=False`` simulates every layer on its own (inputs from DRAM), as a single GEMM is."""
    import pandas as pd

    from ..envs.accelerator.simulator import simulate_arrays
    frame = designs.assign(**(options or {}))
    out, lt, info = simulate_arrays(frame, table, fidelity, chained)
    n, L = out["cycles"].shape
    cycles = out["cycles"].astype(np.float64)
    data = {f"design.{k}": np.repeat(designs[k].to_numpy(), L) for k in designs.columns}
    data.update({
        "design_id": np.repeat(np.arange(n), L), "workload": workload, "layer": np.tile(np.arange(L), n),
        "layer_m": np.tile(lt.M, n), "layer_n": np.tile(lt.N, n), "layer_k": np.tile(lt.K, n),
        "layer_ifmap_elems": np.tile(lt.ifmap_elems, n), "layer_repeat": np.tile(lt.repeat, n),
        "latency_cycles": cycles.reshape(-1),
        "latency_ms": (cycles / (info["clock_mhz"][:, None] * 1e3)).reshape(-1),
        "energy_uj": (out["energy_pj"].astype(np.float64) * 1e-6).reshape(-1),
        "dram_bytes": out["dram_bytes"].astype(np.float64).reshape(-1),
        "area_mm2": np.repeat(info["area_mm2"], L),
    })
    return pd.DataFrame(data)


def collect_layer_frame(workloads, n: int, sampler: str = "random", seed: int = 0, fidelity: str = "physical",
                        options: dict[str, Any] | None = None, progress: bool = True, batches=(1,)):
    """Sample ``n`` designs and simulate them on every layer of each workload; (frame, provenance).

    ``batches``: batch sizes B of the workloads (see :func:`workload_layers`); each batch size gets
    its own ``n`` designs (one sample of n x len(batches) designs, split in order), so a dataset covers
    more layer shapes and more designs at the cost of one. Workloads are named ``NAME@bB`` for B > 1.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from ..envs.accelerator.space import make_space
    from ..results import dsegym_version
    from ..units import unit_of
    options = dict(options or {})
    allowed = {"tech_nm", "weight_bits", "act_bits"}
    if set(options) - allowed:
        raise ConfigError(f"per-layer options {sorted(set(options) - allowed)} are unknown; allowed: {sorted(allowed)}")
    batches = [int(b) for b in ([batches] if isinstance(batches, (int, np.integer)) else batches)]
    if not batches or min(batches) < 1 or len(set(batches)) != len(batches):
        raise ConfigError(f"batches must be distinct integers >= 1, got {batches!r}")
    if isinstance(workloads, str):
        workloads = [w for w in workloads.split(",") if w]
    names = list(dict.fromkeys((w if b == 1 else f"{w}@b{b}", j) for j, b in enumerate(batches)
                               for w in (workloads or [])))
    tables = _tables([name for name, _ in names])
    space = make_space()
    designs = pd.DataFrame(sample_designs(space, n * len(batches), sampler, seed))
    parts = []
    for (w, j), t in tqdm(zip(names, tables.values()), total=len(names), desc="collect per-layer",
                          disable=not progress):
        part = layer_rows(designs.iloc[j * n:(j + 1) * n].reset_index(drop=True), w, t, fidelity, options)
        part["design_id"] += j * n
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    score = np.log(frame["latency_ms"]) + np.log(frame["energy_uj"]) + np.log(frame["area_mm2"])
    frame.insert(0, "problem", LAYER_PROBLEM)
    frame.insert(1, "run_id", f"collect-layers-{sampler}-{int(seed)}")
    frame.insert(2, "agent", f"sampler:{sampler}")
    frame.insert(3, "hparams", json.dumps({"sampler": sampler}))
    frame.insert(4, "seed", int(seed))
    frame.insert(5, "trial_index", np.arange(len(frame), dtype=np.int64))
    frame["score"] = score.to_numpy()  # log(latency_ms * energy_uj * area_mm2) of the layer alone
    units = {**LAYER_METRICS, "area_mm2": "mm2"}
    units.update({f: "count" for f in LAYER_FEATURES})
    units = {k: v or unit_of(k) for k, v in units.items()}
    entry = {"version": "layers-v1", "versions": ["layers-v1"], "options": [json.dumps(options, sort_keys=True)],
             "fidelity": [fidelity], "units": units, "objectives": [], "samplers": [f"sampler:{sampler}"],
             "seeds": [int(seed)], "space_fingerprint": space.fingerprint(), "parameters": space.describe(),
             "workloads": list(tables), "batches": batches}
    prov = {"dsegym_version": dsegym_version(), "source": "dsegym collect (per-layer form)", "form": "layer",
            "sampler": sampler, "seed": int(seed), "n": int(n), "problem": LAYER_PROBLEM,
            "problems": {LAYER_PROBLEM: entry}, "runs": 1, "units": units, "workloads": list(tables),
            "batches": batches, "options": options, "fidelity": fidelity}
    return frame, prov


# --- design x layer features for per-layer cost models ----------------------------------------------
ROOFLINE_FEATURES = (
    "log_rows", "log_cols", "ws", "os", "is", "log_cycles_per_byte",
    "log_row_folds", "log_col_folds", "log_stream_over_rows", "log_row_fill", "log_col_fill",
    "log_ifmap_over_buf", "log_filter_over_buf", "log_ofmap_over_buf", "log_compute_over_memory",
    "log_roof_over_compute", "log_roof_over_memory", "log_fill_drain_share", "log_psum_tile_over_buf",
    "log_naive_over_roof", "log_naive_ifmap_passes", "log_naive_filter_passes", "log_spill_share",
    "log_blocked_over_roof", "log_ifmap_blocks", "log_filter_blocks", "log_psum_blocks",
    "log_ifmap_blocked_traffic", "log_filter_blocked_traffic", "log_psum_blocked_traffic",
    "log_reduction_chunks", "log_split_traffic", "log_first_tile_share", "log_chained_over_roof",
    "log_buffer_block_over_rows", "log_psum_block_over_rows", "log_buffer_blocks", "log_psum_block_count",
)
"""Names of the columns :func:`roofline_features` returns, in order."""


def _design_part(frame):
    """The accelerator parameters of a per-layer frame (``NAME`` or ``design.NAME`` columns)."""
    import pandas as pd

    from ..envs.accelerator.designs import NAMES
    cols = {}
    for name in NAMES:
        for c in (name, f"design.{name}"):
            if c in frame.columns:
                cols[name] = frame[c]
                break
    return pd.DataFrame(cols, index=frame.index)


def _layer_inputs(frame):
    """The accelerator model's per-design inputs of (design, layer) rows, as its (fields, n) matrix and as
    a dict by field name, and the layers' M, N, K and ifmap elements (float64); bad rows raise
    InvalidDesignError."""
    from ..envs.accelerator.designs import design_columns
    from ..envs.accelerator.model import DESIGN_FIELDS
    from ..envs.accelerator.physics import design_inputs, design_physics
    from ..errors import InvalidDesignError
    missing = [c for c in LAYER_FEATURES if c not in frame.columns]
    if missing:
        raise InvalidDesignError(f"per-layer features need layer columns {list(LAYER_FEATURES)}; missing {missing}")
    cols, _ = design_columns(_design_part(frame))
    d = design_inputs(cols, design_physics(cols))
    dims = tuple(frame[c].to_numpy(dtype=np.float64) for c in LAYER_FEATURES[:4])
    if not all(np.isfinite(v).all() and (v >= 1).all() for v in dims):
        raise InvalidDesignError("layer dimensions must be finite and at least 1")
    return d, {k: d[i] for i, k in enumerate(DESIGN_FIELDS)}, dims


def roofline_features(frame) -> tuple[np.ndarray, np.ndarray]:
    """Features of (design, layer) pairs computed from the design and the layer shape alone, and the
    roofline latency of one repeat of the layer (cycles).

    Why: a cost model that reads raw log dimensions must extrapolate when asked about layer shapes it
    never saw (the CNN zoo has no M=1 GEMM with K=4096, no 50,257-wide N). Ratios of layer dimensions to
    array dimensions (folds, fill), of operand bytes to buffer bytes, and analytic estimates of the
    traffic of simple mappings are close to shape-invariant, so what the model learns on CNN layers
    transfers. The roofline, max(stall-free compute cycles, compulsory DRAM bytes / bytes per cycle),
    is a lower bound of the simulator's latency that a model can learn a ratio over. Compute follows
    SCALE-Sim's closed forms (docs/references.md, Accelerator): folds ceil(Sr/R) x ceil(Sc/C), each
    streaming max(T, R) rows, plus the fill/drain; bytes per cycle come from the design's DRAM interface
    and clock. Nothing here reads a simulator output. Bit widths and the node are the simulator's
    defaults unless the frame has ``weight_bits``/``act_bits``/``tech_nm`` columns.

    Returns ``(X, roofline_cycles)``: X is (n, len(ROOFLINE_FEATURES)) float32 (log2 values / 8).

    >>> import pandas as pd
    >>> f = pd.DataFrame({"rows": [32, 32], "cols": [32, 32], "dataflow": ["ws", "ws"], "layer_m": [1, 512],
    ...                   "layer_n": [4096, 4096], "layer_k": [4096, 4096], "layer_ifmap_elems": [4096, 512 * 4096],
    ...                   "layer_repeat": [1, 1]})
    >>> X, roof = roofline_features(f)
    >>> X.shape, bool(roof[0] < roof[1])
    ((2, 38), True)
    """
    _, f, (M, N, K, I) = _layer_inputs(frame)
    R, C, df = f["R"], f["C"], f["df"]
    ws, os_, is_ = df == 0, df == 1, df == 2
    # spatial rows / columns and temporal extent of each dataflow (SCALE-Sim's GEMM view)
    Sr, Sc, T = np.where(os_, M, K), np.where(is_, M, N), np.where(ws, M, np.where(os_, K, N))
    fill = np.where(os_, R + C - 2, 2 * R + C - 2)
    fr, fc = np.ceil(Sr / R), np.ceil(Sc / C)
    compute = fr * fc * np.maximum(T, R) + fill
    ci, cw, cp = f["cap_i"], f["cap_w"], f["cap_p"]  # bytes of half of each buffer (psum: in 32-bit words)
    Ib, Wb, Ob = I * f["a_b"], K * N * f["w_b"], M * N * f["a_b"]
    need = Ib + Wb + Ob
    memory = need * f["inv_bpc"]
    roof = np.maximum(compute, memory)
    # SCALE-Sim's loop order: an operand reused by the other's folds is refetched when it does not fit
    pi, pw = np.where(is_, 1.0, fc), np.where(ws, 1.0, np.where(os_, fr, fc))
    ti = Ib + (pi - 1) * np.maximum(Ib - ci, 0)
    tw = Wb + (pw - 1) * np.maximum(Wb - cw, 0)
    ptile = np.maximum(np.where(ws, M * np.minimum(N, C), np.where(is_, N * np.minimum(M, C), 1.0)), 1.0)
    spill = np.where((fr > 1) & ~os_, (fr - 1) * fc * np.maximum(ptile - cp, 0) * 8.0, 0.0)
    naive_t = ti + tw + Ob + spill
    naive = np.maximum(compute, naive_t * f["inv_bpc"])
    # blocked orders: one operand in blocks that fit its buffer, the other streamed once per block
    nbi, nbw, nbp = np.ceil(Ib / ci), np.ceil(Wb / cw), np.ceil(ptile / cp)
    t_bi = need + (nbi - 1) * np.maximum(Wb - cw, 0)
    t_bw = need + (nbw - 1) * np.maximum(Ib - ci, 0)
    t_bp = np.where(ws, Ib * np.where(Ib > ci, fc, 1) + Wb + (nbp - 1) * np.maximum(Wb - cw, 0),
                    Wb * np.where(Wb > cw, fc, 1) + Ib + (nbp - 1) * np.maximum(Ib - ci, 0)) + Ob
    t_bp = np.where(os_, naive_t, t_bp)  # os keeps partial sums in the PEs
    blocked = np.maximum(compute, np.minimum(np.minimum(t_bi, t_bw), np.minimum(t_bp, naive_t)) * f["inv_bpc"])
    # a reduction split into chunks whose weight slice fits, partial sums parked in the ofmap buffer
    ncols = np.minimum(N, C)
    chunk = np.minimum(K, np.maximum(1.0, np.floor(cw / (ncols * f["w_b"]))))
    chunks = np.ceil(K / chunk)
    t_split = need + (fc - 1) * np.maximum(Ib - ci, 0) + np.maximum(M * ncols - cp, 0) * fc * (chunks - 1) * 8.0
    # the first stationary tile arrives before compute starts; activations that fit stay on chip in a network
    first = np.where(ws, np.minimum(K, R) * np.minimum(N, C) * f["w_b"],
                     np.where(is_, np.minimum(K, R) * np.minimum(M, C) * f["a_b"], 0.0)) * f["inv_bpc"]
    chained = np.maximum(compute, (Ib * (Ib > ci) + Wb + Ob * (Ob > ci)) * f["inv_bpc"]) + first
    # blocks of the streamed dimension that fit a buffer: smaller than the array rows, they waste cycles
    whole = np.where(ws, M, np.where(is_, N, K))
    blk_b, blk_cap = np.where(is_, Wb, Ib), np.where(is_, cw, ci)
    blk_buf = np.clip(np.floor(blk_cap * whole / blk_b), 1, whole)
    blk_psum = np.clip(np.floor(cp / C), 1, whole)
    l2 = np.log2
    X = np.stack([
        l2(R), l2(C), ws, os_, is_, l2(f["inv_bpc"]),
        l2(fr), l2(fc), l2(T / R), l2(np.minimum(Sr, R) / R), l2(np.minimum(Sc, C) / C),
        l2(Ib / ci), l2(Wb / cw), l2(Ob / ci), l2(compute / memory),
        l2(roof / compute), l2(roof / memory), l2(fill / roof), l2(ptile / cp),
        l2(naive / roof), l2(ti / Ib), l2(tw / Wb), l2(1 + spill / need),
        l2(blocked / roof), l2(nbi), l2(nbw), l2(nbp),
        l2(t_bi / need), l2(t_bw / need), l2(t_bp / need),
        l2(chunks), l2(t_split / need), l2(1 + first / roof), l2(chained / roof),
        l2(blk_buf / R), l2(blk_psum / R), l2(whole / blk_buf), l2(whole / blk_psum),
    ], axis=1) / 8.0
    return X.astype(np.float32), roof


def roofline_prior(frame, roof_cycles: np.ndarray, targets) -> np.ndarray:
    """(n, targets) reference values a model learns its targets as ratios over: the roofline latency of
    a layer for ``latency_cycles`` and ``latency_ms`` (cycles over the design's clock), 1 otherwise."""
    from ..envs.accelerator.designs import DEFAULTS
    part = _design_part(frame)
    clock = (part["clock_mhz"].to_numpy(dtype=np.float64) if "clock_mhz" in part.columns
             else np.full(len(frame), float(DEFAULTS["clock_mhz"])))
    ref = {"latency_cycles": roof_cycles, "latency_ms": roof_cycles / (clock * 1e3)}
    return np.stack([ref.get(t, np.ones(len(frame))) for t in targets], axis=1)


# --- the mapper's candidate mappings in closed form, for per-layer cost models ----------------------
MAPPING_SLOTS = 5
MAPPING_FEATURES = tuple(
    f"log_{q}_{c}" for c in range(MAPPING_SLOTS)
    for q in ("cycles_chained", "cycles_alone", "traffic", "energy", "dram_leak")
) + ("log_prior_over_roof", "log_dram_over_fill_price", "log_leak_over_dram_price", "log_static_over_mac_price")
"""Names of the columns :func:`mapping_features` returns, in order."""


def mapping_candidates(frame) -> dict[str, np.ndarray]:
    """Each (design, layer) pair's candidate mappings, from the design and layer shape.

    The accelerator's mapper (``dsegym.envs.accelerator.model``, docstring) picks one of 4 (ws, is) or
    5 (os) block sizes / loop orders per pair. Its own candidate code gives, for each candidate
    (``model.candidate_costs``, without choosing and without simulating the layer), the stall-free run
    time (``run``, cycles), the DRAM traffic (``traffic``, bytes, the layer's input and output going to
    DRAM) and the latency ``max(run, traffic / bytes per cycle) + first tile``: alone (``cycles_alone``)
    and inside a network whose neighbouring activations that fit half the ifmap buffer stay on chip
    (``cycles_chained``, which assumes a neighbour on both sides, so it is a lower bound of the latency
    of any layer in a network). Slots a pair lacks (ws and is slot 4; the os reduction split when the
    reduction is not split) repeat slot 0, so every column is a real mapping's figure. Which candidate
    the mapper takes is not returned: it weighs energy, and learning that choice is the cost model's job.

    Returns (n, MAPPING_SLOTS) arrays ``run``, ``traffic``, ``cycles_alone``, ``cycles_chained`` and
    the (n,) arrays ``first`` (bytes of the first stationary tile), ``need`` (compulsory bytes: input,
    weights, output), ``saved`` (bytes a network keeps on chip), ``macs`` and ``inputs`` (the design's
    model inputs, ``dsegym.envs.accelerator.model.DESIGN_FIELDS``).

    >>> import pandas as pd
    >>> f = pd.DataFrame({"rows": [32], "cols": [32], "dataflow": ["ws"], "layer_m": [784], "layer_n": [128],
    ...                   "layer_k": [1152], "layer_ifmap_elems": [100352], "layer_repeat": [1]})
    >>> m = mapping_candidates(f)
    >>> m["run"].shape, bool(m["run"][0, 4] == m["run"][0, 0])  # ws has 4 candidates: slot 4 repeats slot 0
    ((1, 5), True)
    """
    from ..envs.accelerator.model import candidate_costs
    d, f, (M, N, K, I) = _layer_inputs(frame)
    c = candidate_costs(M, N, K, I, d)
    valid = c["valid"][:, :MAPPING_SLOTS]
    slots = {key: np.where(valid, c[key][:, :MAPPING_SLOTS], c[key][:, :1])
             for key in ("run", "traffic", "cycles_alone", "cycles_chained")}
    return {**slots, "first": c["first"], "need": c["I_b"] + K * N * f["w_b"] + c["O_b"], "saved": c["saved"],
            "inputs": f, "macs": M * N * K}


def mapping_features(frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features of every candidate mapping (:func:`mapping_candidates`) of (design, layer) pairs, and two
    priors per pair: a latency (cycles) and an energy (pJ) that a model learns its targets as ratios over.

    The latency prior is the fastest candidate in a network (a lower bound of the simulated latency of
    one repeat of the layer; tested against the simulator). The energy prior is the least of the
    candidates' MAC + DRAM + leakage energy (the SRAM accesses, which depend on the mapping, are
    left to the model). Per candidate slot the features are log2 ratios over the priors of its
    latency in a network and alone, its traffic over the compulsory bytes, its energy estimate, and its
    DRAM energy plus leakage with leakage priced at the node's nominal clock (the two terms that
    dominate the mapper's choice; the buffer fills and tile reloads it also weighs are left out),
    the slots sorted by that sum (slot 0: the candidate the mapper most likely takes); then the prior over the roofline and three price ratios the mapper weighs (DRAM vs buffer-fill
    energy per byte, leakage per DRAM byte-time vs DRAM energy, leakage per cycle vs MAC energy).

    Returns ``(X, prior_cycles, prior_energy_pj)``; X is (n, len(MAPPING_FEATURES)) float32 (log2 / 8).

    >>> import pandas as pd
    >>> f = pd.DataFrame({"rows": [32], "cols": [32], "dataflow": ["os"], "layer_m": [784], "layer_n": [128],
    ...                   "layer_k": [1152], "layer_ifmap_elems": [100352], "layer_repeat": [1]})
    >>> X, cycles, energy = mapping_features(f)
    >>> X.shape, bool(cycles[0] >= 784 * 128 * 1152 / (32 * 32))
    ((1, 29), True)
    """
    m = mapping_candidates(frame)
    f = m["inputs"]
    prior = m["cycles_chained"].min(axis=1)
    # MAC + DRAM + leakage of each candidate in a network (the saved activations never reach DRAM)
    energy = (m["macs"] * f["e_mac"])[:, None] + m["cycles_chained"] * f["static_pj"][:, None] \
        + np.maximum(m["traffic"] - m["saved"][:, None], 0.0) * f["e_dram"][:, None]
    e_prior = energy.min(axis=1)
    # DRAM energy and leakage at the node's nominal clock, as the mapper prices them (its docstring)
    choice = m["traffic"] * f["e_dram"][:, None] + np.maximum(m["run"], m["traffic"] * f["inv_bpc_ref"][:, None]) \
        * f["static_ref"][:, None]
    c_min = choice.min(axis=1)
    # slots in the order of those terms: slot 0 holds the mapping the mapper most likely takes, so a
    # model reads its figures in a fixed place instead of learning an argmin over five slots
    order = np.argsort(choice, axis=1, kind="stable")
    pick = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
    chained, alone, traffic, energy, choice = (pick(a) for a in (m["cycles_chained"], m["cycles_alone"],
                                                                   m["traffic"], energy, choice))
    _, roof = roofline_features(frame)
    l2 = np.log2
    cols = []
    for c in range(MAPPING_SLOTS):
        cols += [l2(chained[:, c] / prior), l2(alone[:, c] / prior),
                 l2(traffic[:, c] / m["need"]), l2(energy[:, c] / e_prior), l2(choice[:, c] / c_min)]
    cols += [l2(prior / roof), l2(f["e_dram"] / f["e_fill_i"]), l2(f["static_ref"] * f["inv_bpc_ref"] / f["e_dram"]),
             l2(f["static_pj"] / f["e_mac"])]
    return (np.stack(cols, axis=1) / 8.0).astype(np.float32), prior, e_prior


def mapping_prior(frame, cycles: np.ndarray, energy_pj: np.ndarray, targets) -> np.ndarray:
    """(n, targets) reference values of mapping-input models: :func:`mapping_features`' latency prior
    for ``latency_cycles`` and ``latency_ms`` (cycles over the design's clock), its energy prior for
    ``energy_uj``, 1 otherwise."""
    ref = roofline_prior(frame, cycles, targets)
    for j, t in enumerate(targets):
        if t == "energy_uj":
            ref[:, j] = energy_pj * 1e-6
    return ref
