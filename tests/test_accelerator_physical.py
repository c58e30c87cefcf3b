"""Properties the physical model must keep, checked on randomly sampled designs (seeded numpy).

Each test perturbs one parameter of many random designs and checks the direction of the effect;
none restates the model's formulas.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dsegym.envs.accelerator import SPACE, WORKLOADS, Conv, Gemm, simulate

SEEDS = [0, 1, 2]
# A mix of layer kinds: big and small convs, strided, 1x1, depthwise (repeat), GEMMs with M=1.
LAYERS = [Conv(58, 58, 3, 3, 64, 64, 1), Conv(229, 229, 7, 7, 3, 64, 2), Conv(15, 15, 1, 1, 256, 512, 2),
          Conv(114, 114, 3, 3, 1, 1, 1, repeat=96), Gemm(1, 4096, 4096), Gemm(128, 3072, 768, repeat=12),
          Gemm(197, 197, 64, repeat=144)]
KEYS = ["design", "layer"]


def _designs(seed: int, n: int = 150) -> pd.DataFrame:
    return SPACE.sample_frame(n, seed)


def _pairs(designs, fidelity="physical", layers=LAYERS):
    return simulate(designs, layers, fidelity=fidelity)


@pytest.mark.parametrize("seed", SEEDS)
def test_more_bandwidth_never_slows(seed):
    d = _designs(seed)
    rng = np.random.default_rng(seed)
    faster = d.copy()
    faster["dram_bw_gbps"] = d["dram_bw_gbps"] * rng.uniform(1.0, 8.0, len(d))
    a, b = _pairs(d), _pairs(faster)
    assert (b["cycles"].to_numpy() <= a["cycles"].to_numpy()).all()
    assert (b["compute_cycles"].to_numpy() == a["compute_cycles"].to_numpy()).all()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("buffer", ["ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb"])
def test_bigger_buffers_never_add_dram_traffic(seed, buffer):
    d = _designs(seed)
    rng = np.random.default_rng(seed)
    bigger = d.copy()
    bigger[buffer] = d[buffer] * rng.choice([1, 2, 4, 64], len(d))
    a, b = _pairs(d), _pairs(bigger)
    assert (b["dram_bytes"].to_numpy() <= a["dram_bytes"].to_numpy()).all()
    # and with every buffer grown at once
    for col in ("ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb"):
        bigger[col] = d[col] * 8
    c = _pairs(bigger)
    assert (c["dram_bytes"].to_numpy() <= a["dram_bytes"].to_numpy()).all()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("bits", ["weight_bits", "act_bits"])
def test_energy_grows_with_precision(seed, bits):
    d = _designs(seed)
    lo, hi = d.copy(), d.copy()
    lo[bits], hi[bits] = 4, 16
    mid = d.copy()
    mid[bits] = 8
    e = [_pairs(x)["energy_pj"].to_numpy() for x in (lo, mid, hi)]
    assert (e[0] < e[1]).all() and (e[1] < e[2]).all()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fidelity", ["physical", "scalesim"])
def test_latency_at_least_macs_over_pes_and_utilization_at_most_one(seed, fidelity):
    d = _designs(seed)
    r = _pairs(d, fidelity)
    macs = np.array([layer.macs * layer.repeat for layer in LAYERS], dtype=float)[r["layer"].to_numpy()]
    pes = (d["rows"] * d["cols"]).to_numpy()[r["design"].to_numpy()]
    assert (r["cycles"].to_numpy() >= macs / pes).all()
    assert (r["compute_cycles"].to_numpy() >= macs / pes).all()
    util = r["utilization"].to_numpy()
    assert ((util > 0) & (util <= 1)).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_physical_is_never_faster_than_stall_free(seed):
    d = _designs(seed)
    phys, ideal = _pairs(d, "physical"), _pairs(d, "scalesim")
    assert (phys["cycles"].to_numpy() >= ideal["cycles"].to_numpy()).all()
    for col in ("compute_cycles", "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes"):
        assert (phys[col].to_numpy() == ideal[col].to_numpy()).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_dram_traffic_at_least_compulsory(seed):
    d = _designs(seed)
    r = _pairs(d)
    layers = [Gemm(1, 4096, 4096), Gemm(128, 3072, 768)]
    r = _pairs(d, layers=layers)
    bits = d[["weight_bits", "act_bits"]].to_numpy()[r["design"].to_numpy()] / 8.0
    m, n, k = np.array([lay.mnk for lay in layers], dtype=float)[r["layer"].to_numpy()].T
    compulsory = k * n * bits[:, 0] + (m * k + m * n) * bits[:, 1]
    assert (r["dram_bytes"].to_numpy() >= np.floor(compulsory)).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_area_grows_with_array_size(seed):
    d = _designs(seed)
    rng = np.random.default_rng(seed)
    grown = d.copy()
    grown["rows"] = np.minimum(d["rows"] + rng.integers(1, 40, len(d)), 256)
    grown["cols"] = np.minimum(d["cols"] + rng.integers(0, 40, len(d)), 256)
    changed = (grown["rows"] * grown["cols"] > d["rows"] * d["cols"]).to_numpy()
    a = _pairs(d).groupby("design")["area_mm2"].first().to_numpy()
    b = _pairs(grown).groupby("design")["area_mm2"].first().to_numpy()
    assert changed.any() and (b[changed] > a[changed]).all()
    assert (b[~changed] == a[~changed]).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_results_independent_of_batch_composition(seed, monkeypatch):
    import dsegym.envs.accelerator.simulator as S
    monkeypatch.setattr(S, "BLOCK_PAIRS", 64)  # many small blocks, so batches straddle block edges
    d = _designs(seed, n=60)
    batch = S.simulate(d, LAYERS)
    perm = np.random.default_rng(seed).permutation(len(d))
    shuffled = S.simulate(d.iloc[perm].reset_index(drop=True), LAYERS)
    shuffled["design"] = perm[shuffled["design"].to_numpy()].astype(batch["design"].dtype)
    shuffled = shuffled.sort_values(KEYS).reset_index(drop=True)
    pd.testing.assert_frame_equal(batch, shuffled)
    for i in np.random.default_rng(seed).choice(len(d), 8, replace=False):
        alone = S.simulate(d.iloc[[i]], LAYERS).drop(columns="design")
        inside = batch[batch["design"] == i].drop(columns="design").reset_index(drop=True)
        pd.testing.assert_frame_equal(alone, inside)


def test_repeated_layers_scale_linearly():
    d = _designs(7, n=40)
    one = simulate(d, [Gemm(64, 96, 80)])
    five = simulate(d, [Gemm(64, 96, 80, repeat=5)])
    for col in ("compute_cycles", "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes", "dram_bytes"):
        np.testing.assert_array_equal(five[col].to_numpy(), 5 * one[col].to_numpy())
    np.testing.assert_allclose(five["energy_pj"], 5 * one["energy_pj"], rtol=1e-6)


def test_workload_problem_aggregates_layers():
    import dsegym
    p = dsegym.make("accel-resnet18")
    d = p.space.sample(20, seed=3)
    res = p.evaluate(d)
    layers = simulate(d, WORKLOADS["resnet18"])
    sums = layers.groupby("design")[["cycles", "energy_pj", "dram_bytes"]].sum()
    np.testing.assert_allclose(res["latency_cycles"], sums["cycles"])
    np.testing.assert_allclose(res["energy_uj"], sums["energy_pj"] * 1e-6, rtol=1e-6)
    np.testing.assert_allclose(res["dram_bytes"], sums["dram_bytes"])
    assert ((res["utilization"] > 0) & (res["utilization"] <= 1)).all()
    np.testing.assert_allclose(res["edp_uj_ms"], res["energy_uj"] * res["latency_ms"])
