"""Bad accelerator inputs get one clear error naming what is wrong and what is allowed."""
from __future__ import annotations

import numpy as np
import pytest

import dsegym
from dsegym.cli import main
from dsegym.envs.accelerator import Conv, Gemm, load_topology_csv, simulate
from dsegym.errors import ConfigError, TopologyFormatError


@pytest.mark.parametrize("kwargs, words", [
    ({"workload": 123}, "allowed: bert_base"),
    ({"workload": ["resnet18", 5]}, "allowed: bert_base"),
    ({"tech_nm": 5}, "7, 12, 16, 22, 28, 32, 40, 45, 65"),
    ({"tech_nm": "28"}, "tech_nm must be one of"),
    ({"weight_bits": 3}, "4, 8, 16"),
    ({"act_bits": True}, "act_bits must be one of"),
    ({"fidelity": 1}, "allowed: physical, scalesim"),
    ({"topology": 7}, "path to a SCALE-Sim topology CSV"),
])
def test_every_factory_option_is_checked(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        dsegym.make("accel-resnet18", **kwargs)


def test_cli_describe_names_the_allowed_workloads(capsys):
    assert main(["describe", "accel-resnet18", "-a", "workload=123"]) == 2
    err = capsys.readouterr().err
    assert "workload" in err and "resnet18" in err and "Traceback" not in err


def test_problem_options_change_the_physics():
    d = dsegym.make("accel-resnet18").space.sample(8, seed=0)
    old, new = dsegym.make("accel-resnet18", tech_nm=65), dsegym.make("accel-resnet18", tech_nm=7)
    a, b = old.evaluate(d), new.evaluate(d)
    assert (b["area_pe_mm2"] < a["area_pe_mm2"]).all() and (b["energy_mac_uj"] < a["energy_mac_uj"]).all()
    assert "tech_nm" not in old.space.names and old.info["tech_nm"] == 65


def test_topology_not_utf8_names_file_and_line(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes(b"Layer, M, N, K,\nfc, 1, 10, 10,\nf\xe9\xff, 1, 10, 10,\n")
    with pytest.raises(TopologyFormatError, match=r"t\.csv:3: not UTF-8"):
        load_topology_csv(p)


@pytest.mark.parametrize("row", ["fc, 99999999999999999999, 10, 10,", "huge, 1000000000, 1000000000, 1000000000,"])
def test_topology_numbers_too_large_name_file_and_line(tmp_path, row):
    p = tmp_path / "t.csv"
    p.write_text(f"Layer, M, N, K,\nok, 1, 2, 3,\n{row}\n")
    with pytest.raises(TopologyFormatError, match=r"t\.csv:3: .*too large"):
        load_topology_csv(p)


def test_largest_allowed_layer_gives_exact_positive_counts():
    r = simulate({"rows": 4, "cols": 4}, [Gemm(2**16, 2**17, 2**17)], fidelity="scalesim").iloc[0]
    assert r["compute_cycles"] > 0 and r["cycles"] > 0 and r["energy_pj"] > 0
    with pytest.raises(TopologyFormatError, match="too large"):
        Conv(10, 10, 3, 3, 2**30, 2**30, 1)


def test_text_after_the_final_comma_is_dropped_as_scalesim_does(tmp_path):
    p = tmp_path / "mobilenet_paper.csv"
    p.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                 "Strides,\nConv2_dw, 112, 112, 3, 3, 1, 1, 1,#dw\n")
    assert load_topology_csv(p) == [Conv(112, 112, 3, 3, 1, 1, 1, name="Conv2_dw")]


def test_multi_with_a_workload_twice_runs_it_twice():
    d = dsegym.make("accel-resnet18").space.sample(4, seed=1)
    one = dsegym.make("accel-resnet18").evaluate(d)
    two = dsegym.make("accel-multi", workload=["resnet18", "resnet18"])
    r = two.evaluate(d)
    np.testing.assert_allclose(r["latency_cycles"], 2 * one["latency_cycles"])
    np.testing.assert_allclose(r["energy_uj"], 2 * one["energy_uj"], rtol=1e-6)
    assert "resnet18#2_latency_cycles" in r.columns and two.info["workloads"] == ["resnet18", "resnet18#2"]
