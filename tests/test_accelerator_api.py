"""The accelerator family's public surface: simulate's inputs and outputs, errors, the workload zoo,
topology CSVs, the space and the registered problems."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dsegym
from dsegym.errors import ConfigError, InvalidDesignError, TopologyFormatError, UnknownIdError
from dsegym.envs.accelerator import SPACE, WORKLOADS, Conv, Gemm, load_topology_csv, simulate

REQUIRED = ["design", "layer", "compute_cycles", "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes",
            "cycles", "dram_bytes", "energy_pj", "area_mm2", "utilization"]
ZOO_IDS = ["accel-resnet18", "accel-resnet50", "accel-mobilenetv2", "accel-vgg16", "accel-vit-b16",
           "accel-bert-base", "accel-gpt2-prefill", "accel-gpt2-decode", "accel-llama7b-prefill",
           "accel-llama7b-decode"]


# --- simulate -------------------------------------------------------------------------------------------
def test_simulate_columns_rows_and_order():
    designs = [{"rows": 8, "cols": 16, "dataflow": "os"}, {"rows": 64, "cols": 4}]
    layers = [Conv(10, 10, 3, 3, 4, 6, 2), Gemm(1, 40, 24, name="fc")]
    r = simulate(designs, layers)
    assert all(c in r.columns for c in REQUIRED)
    assert len(r) == 4
    assert r["design"].tolist() == [0, 0, 1, 1] and r["layer"].tolist() == [0, 1, 0, 1]
    assert list(r["layer_name"].astype(str)) == ["layer0", "fc", "layer0", "fc"]
    for col in ("compute_cycles", "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes", "cycles",
                "dram_bytes"):
        assert r[col].dtype == np.int64


def test_missing_columns_take_defaults_and_frame_equals_dicts():
    default = SPACE.default()
    a = simulate([{}], WORKLOADS["gpt2_decode"])
    b = simulate(pd.DataFrame([default]), WORKLOADS["gpt2_decode"])
    c = simulate(default, WORKLOADS["gpt2_decode"])
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_layers_as_frame_and_workload_name():
    conv = pd.DataFrame([{"name": "c", "h": 10, "w": 10, "fh": 3, "fw": 3, "c": 4, "k": 6, "stride": 2}])
    gemm = pd.DataFrame([{"m": 1, "n": 40, "k": 24, "repeat": 3}])
    ref = simulate({}, [Conv(10, 10, 3, 3, 4, 6, 2, name="c"), Gemm(1, 40, 24, repeat=3)], chained=False)
    got = pd.concat([simulate({}, conv), simulate({}, gemm)], ignore_index=True)
    cols = ["compute_cycles", "cycles", "dram_bytes", "energy_pj"]
    pd.testing.assert_frame_equal(ref[cols], got[cols])
    mixed = pd.DataFrame([{"kind": "conv", "h": 10, "w": 10, "fh": 3, "fw": 3, "c": 4, "k": 6, "stride": 2},
                          {"kind": "gemm", "m": 1, "n": 40, "k": 24}])
    assert len(simulate({}, mixed)) == 2
    assert len(simulate({}, "resnet18")) == len(WORKLOADS["resnet18"])


def test_off_grid_values_are_fine_for_the_simulator():
    r = simulate({"rows": 13, "cols": 7, "ifmap_sram_kb": 100, "clock_mhz": 733, "dram_bw_gbps": 12.5,
                  "tech_nm": 28}, [Gemm(16, 16, 16)])
    assert r["cycles"].iloc[0] > 0 and np.isfinite(r["energy_pj"].iloc[0])


@pytest.mark.parametrize("design, words", [
    ({"dataflow": "xs"}, ["dataflow", "ws", "os", "is"]),
    ({"rows": 300}, ["rows", "4..256"]),
    ({"cols": 2}, ["cols", "4..256"]),
    ({"rows": 12.5}, ["rows"]),
    ({"ifmap_sram_kb": float("nan")}, ["ifmap_sram_kb"]),
    ({"dram_bw_gbps": -1}, ["dram_bw_gbps", "> 0"]),
    ({"dram_type": "DDR9"}, ["dram_type", "HBM2"]),
    ({"tech_nm": 3}, ["tech_nm"]),
    ({"weight_bits": "eight"}, ["weight_bits"]),
    ({"rowz": 8}, ["rowz", "rows"]),
])
def test_invalid_designs_raise_naming_the_column(design, words):
    with pytest.raises(InvalidDesignError) as err:
        simulate([{}, design], [Gemm(4, 4, 4)])
    msg = str(err.value)
    assert all(w in msg for w in words), msg
    assert isinstance(err.value, ValueError)


def test_invalid_designs_in_a_frame_name_the_design():
    frame = pd.DataFrame({"rows": [8, 8, 999], "dataflow": ["ws", "os", "is"]})
    with pytest.raises(InvalidDesignError, match=r"'rows' in design 2"):
        simulate(frame, [Gemm(4, 4, 4)])
    frame = pd.DataFrame({"dataflow": ["ws", None]})
    with pytest.raises(InvalidDesignError, match="dataflow"):
        simulate(frame, [Gemm(4, 4, 4)])


@pytest.mark.parametrize("make_layers, words", [
    (lambda: [Conv(3, 3, 5, 5, 1, 1, 1)], ["larger than the input"]),
    (lambda: [Gemm(0, 4, 4)], ["'m'", ">= 1"]),
    (lambda: [Gemm(4, 4.5, 4)], ["'n'"]),
    (lambda: [Conv(8, 8, 3, 3, 2, 2, float("nan"))], ["stride"]),
    (lambda: [(4, 4, 4)], ["layer 0", "Gemm(m, n, k)"]),
    (lambda: [], ["no layers"]),
    (lambda: pd.DataFrame([{"m": 4, "n": 4}]), ["missing", "'k'"]),
    (lambda: pd.DataFrame([{"kind": "pool", "m": 4}]), ["kind"]),
])
def test_malformed_layers_raise(make_layers, words):
    with pytest.raises(TopologyFormatError) as err:
        simulate({}, make_layers())
    assert all(w in str(err.value) for w in words), str(err.value)


def test_unknown_fidelity():
    with pytest.raises(ConfigError, match="scalesim"):
        simulate({}, [Gemm(4, 4, 4)], fidelity="cycle-accurate")


def test_empty_batch():
    r = simulate([], [Gemm(4, 4, 4)])
    assert len(r) == 0 and all(c in r.columns for c in REQUIRED)


# --- topology CSV ----------------------------------------------------------------------------------------
def test_load_scalesim_topologies(tmp_path):
    conv = tmp_path / "net.csv"
    conv.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                    "Strides,\nConv1, 230, 230, 7, 7, 3, 64, 2,\nDP_conv2, 58, 58, 3, 3, 32, 1, 1,\n\n"
                    "conv3, 56, 56, 1, 1, 64, 128, 1, 1:1,\n")
    layers = load_topology_csv(conv)
    assert layers[0] == Conv(230, 230, 7, 7, 3, 64, 2, name="Conv1")
    assert layers[1] == Conv(58, 58, 3, 3, 1, 1, 1, name="DP_conv2", repeat=32)  # depthwise as SCALE-Sim
    assert layers[2].mnk == (56 * 56, 128, 64)
    gemm = tmp_path / "gemm.csv"
    gemm.write_text("Layer, M, N, K,\nqkv, 128, 2304, 768,\ndecode, 1, 768, 768,\n")
    assert [lay.mnk for lay in load_topology_csv(gemm)] == [(128, 2304, 768), (1, 768, 768)]
    assert len(simulate({}, str(gemm))) == 2


@pytest.mark.parametrize("text, words", [
    ("", ["empty"]),
    ("Name, A, B,\nx, 1, 2,\n", [":1", "unrecognised header"]),
    ("Layer, M, N, K,\nfc, 1, 10,\n", [":2", "expected 4 fields", "got 3"]),
    ("Layer, M, N, K,\nfc, 1, 10, 20,\nbad, 1, ten, 20,\n", [":3", "'n'", "'ten'"]),
    ("Layer, M, N, K,\nfc, 0, 10, 20,\n", [":2", "'m'"]),
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
     "c1, 5, 5, 7, 7, 3, 8, 1,\n", [":2", "larger than the input"]),
    ("Layer, M, N, K,\n", ["no layers"]),
])
def test_malformed_topology_names_line_and_problem(tmp_path, text, words):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(TopologyFormatError) as err:
        load_topology_csv(path)
    assert all(w in str(err.value) for w in words), str(err.value)
    with pytest.raises(TopologyFormatError, match="cannot read"):
        load_topology_csv(tmp_path / "missing.csv")


# --- workload zoo ----------------------------------------------------------------------------------------
def _gmacs(name):
    return sum(layer.macs * layer.repeat for layer in WORKLOADS[name]) / 1e9


@pytest.mark.parametrize("name, gmacs", [("resnet18", 1.814), ("resnet50", 4.089), ("mobilenetv2", 0.301),
                                         ("vgg16", 15.470), ("vit_b16", 17.564), ("bert_base", 11.174)])
def test_zoo_mac_counts_match_the_published_models(name, gmacs):
    assert _gmacs(name) == pytest.approx(gmacs, abs=0.002)


def test_zoo_shapes():
    r18 = WORKLOADS["resnet18"]
    assert len(r18) == 21 and r18[0].out_hw == (112, 112) and r18[-1].mnk == (1, 1000, 512)
    assert sum(1 for lay in WORKLOADS["resnet50"] if "downsample" in lay.name) == 4
    dw = [lay for lay in WORKLOADS["mobilenetv2"] if lay.name.endswith(".dw")]
    assert len(dw) == 17 and all(lay.c == 1 and lay.k == 1 for lay in dw) and dw[0].repeat == 32
    for name in ("gpt2_decode", "llama7b_decode"):
        assert all(lay.mnk[0] == 1 for lay in WORKLOADS[name])  # one token per step
    assert all(lay.mnk[0] in (512, 1) for lay in WORKLOADS["llama7b_prefill"])
    # LLaMA-7B: about 6.7e9 parameters, all read once per decode step
    weights = sum(lay.k * lay.n * lay.repeat for lay in WORKLOADS["llama7b_decode"]
                  if lay.name.split(".")[-1] not in ("scores", "context"))
    assert 6.4e9 < weights < 6.8e9


# --- space and problems -----------------------------------------------------------------------------------
def test_space_groups_and_constraint():
    assert set(SPACE.groups) == {"compute", "memory", "dram"}
    assert set(SPACE.names) == {"rows", "cols", "dataflow", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb",
                                "dram_type", "dram_channels", "clock_mhz"}
    assert SPACE["rows"].low == 4 and SPACE["rows"].high == 256 and SPACE["rows"].log
    assert 0 < SPACE.count_valid() < SPACE.size
    with pytest.raises(dsegym.ConstraintViolation, match="total_sram"):
        SPACE.validate({"ifmap_sram_kb": 2048, "filter_sram_kb": 2048})


def test_every_zoo_problem_is_registered_and_evaluates():
    ids = dsegym.list_problems()
    for pid in ZOO_IDS + ["accel-multi"]:
        assert pid in ids
    for pid in ZOO_IDS + ["accel-multi"]:
        p = dsegym.make(pid)
        assert p.id == pid and [o.metric for o in p.objectives] == ["latency_ms", "energy_uj", "area_mm2"]
        assert all(o.direction == "min" for o in p.objectives)
        r = p.evaluate(p.space.sample(5, seed=0))
        for col in ("latency_cycles", "energy_uj", "area_mm2", "latency_ms", "edp_uj_ms", "avg_power_w",
                    "utilization", "dram_bytes"):
            assert col in r.columns and np.isfinite(r[col]).all() and (r[col] > 0).all(), (pid, col)


def test_fidelity_and_custom_topology(tmp_path):
    phys = dsegym.make("accel-resnet18")
    ideal = dsegym.make("accel-resnet18", fidelity="scalesim")
    d = phys.space.sample(10, seed=1)
    # physical overlaps each fold's tile load with the previous fold, SCALE-Sim charges it: neither bounds
    # the other, but both are at least MACs / PEs
    bound = phys.info["macs"] / (d_pes := np.array([x["rows"] * x["cols"] for x in d]))
    assert (ideal.evaluate(d)["latency_cycles"] >= bound).all() and (phys.evaluate(d)["latency_cycles"] >= bound).all()
    assert d_pes.size == 10
    topo = tmp_path / "tiny.csv"
    topo.write_text("Layer, M, N, K,\nfc1, 1, 256, 512,\nfc2, 1, 10, 256,\n")
    p = dsegym.make("accel-resnet18", topology=str(topo))
    assert p.workload == "tiny" and p.info["layers"] == 2 and len(p.evaluate(d)) == 10
    from dsegym.envs.accelerator import make_accel_problem
    assert make_accel_problem(topology=topo).id == "accel-tiny"
    q = dsegym.make("accel-resnet18", layers=[Gemm(1, 256, 512), Gemm(1, 10, 256)])
    np.testing.assert_allclose(q.evaluate(d)["latency_cycles"], p.evaluate(d)["latency_cycles"])
    with pytest.raises(UnknownIdError, match="resnet18"):
        dsegym.make("accel-resnet18", workload="resnet81")
    with pytest.raises(ConfigError):
        dsegym.make("accel-resnet18", fidelity="rtl")


def test_multi_sums_its_workloads():
    d = SPACE.sample(6, seed=2)
    multi = dsegym.make("accel-multi").evaluate(d)
    parts = [dsegym.make(pid).evaluate(d) for pid in ("accel-resnet18", "accel-bert-base", "accel-gpt2-decode")]
    np.testing.assert_allclose(multi["latency_cycles"], sum(p["latency_cycles"] for p in parts))
    np.testing.assert_allclose(multi["energy_uj"], sum(p["energy_uj"] for p in parts))
    np.testing.assert_allclose(multi["resnet18_latency_cycles"], parts[0]["latency_cycles"])


def test_problem_rejects_designs_outside_the_space():
    p = dsegym.make("accel-resnet18")
    with pytest.raises(InvalidDesignError):
        p.evaluate([{"ifmap_sram_kb": 100}])  # simulate allows it, the search space does not


def test_latency_objective_never_rewards_a_slower_clock():
    """In cycles a slower clock makes DRAM look faster; the objective is wall time, so it must not."""
    p = dsegym.make("accel-resnet18")
    clocks = p.space["clock_mhz"].values
    designs = [dict(d, clock_mhz=c) for d in p.space.sample(20, seed=4) for c in clocks]
    r = p.evaluate(designs)
    lat = r["latency_ms"].to_numpy().reshape(20, len(clocks))
    assert (np.diff(lat, axis=1) <= 1e-5 * lat[:, 1:]).all()  # float32 estimates
