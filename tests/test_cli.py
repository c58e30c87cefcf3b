"""The dsegym command: results as text and JSON; bad input as one line and exit code 2."""
import json
import subprocess
import sys

import pytest

from dsegym.cli import main


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_and_describe(capsys):
    code, out, _ = run(["list", "--json"], capsys)
    ids = [r["id"] for r in json.loads(out)]
    assert code == 0 and "toy-accel" in ids
    code, out, _ = run(["describe", "toy-accel"], capsys)
    assert code == 0
    for text in ("space size: 441", "valid designs (honouring constraints): 420", "pes", "powers of two 1..64",
                 "minimise energy_uj [uJ]", "area_budget"):
        assert text in out
    code, out, _ = run(["describe", "toy-accel", "--json"], capsys)
    d = json.loads(out)
    assert d["space_size"] == 441 and d["objectives"][0]["unit"] == "cycles"


def test_evaluate_prints_metrics_with_units_and_json(capsys):
    code, out, _ = run(["evaluate", "toy-accel", "--design", "pes=16", "bits=4"], capsys)
    assert code == 0 and "latency_cycles = 67300 [cycles]" in out
    code, out, _ = run(["evaluate", "toy-accel", "-d", "pes=16", "bits=4", "--json"], capsys)
    data = json.loads(out)
    assert data["design"]["pes"] == 16 and data["metrics"]["latency_cycles"] == 67300.0


@pytest.mark.parametrize("args, message", [
    (["evaluate", "toy-acel"], "unknown problem 'toy-acel'; did you mean 'toy-accel'?"),
    (["evaluate", "toy-accel", "-d", "pes=7"], "invalid value 7 for parameter 'pes': allowed powers of two 1..64"),
    (["evaluate", "toy-accel", "-d", "dataflow=rs"], "allowed one of ws, os, is"),
    (["evaluate", "toy-accel", "-d", "pes=64", "bits=16"], "violates constraint 'area_budget'"),
    (["evaluate", "toy-accel", "-d", "size=3"], "unknown parameter 'size'"),
    (["evaluate", "toy-accel", "-d", "pes"], "must look like key=value"),
    (["evaluate", "toy-accel", "-a", "bogus=1"], "problem 'toy-accel'"),
    (["search", "toy-accel", "--agent", "randm"], "unknown agent 'randm'; did you mean 'random'?"),
])
def test_bad_input_is_one_line_and_exit_code_2(args, message, capsys):
    code, out, err = run(args, capsys)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_console_script_exit_code_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "dsegym.cli", "describe", "nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "unknown problem 'nope'" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "dsegym.cli", "frobnicate"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_search_writes_history_and_plot(tmp_path, capsys):
    code, out, _ = run(["search", "toy-accel", "--budget", "30", "--seed", "1", "--out", str(tmp_path), "--json"], capsys)
    res = json.loads(out)
    assert code == 0 and res["budget"] == 30
    assert (tmp_path / "history.parquet").exists() and (tmp_path / "convergence.png").stat().st_size > 1000
    import pandas as pd
    h = pd.read_parquet(tmp_path / "history.parquet")
    assert len(h) == 30 and h["score"].min() == pytest.approx(res["best_score"])
    code2, out2, _ = run(["search", "toy-accel", "--budget", "30", "--seed", "1", "--json"], capsys)
    assert json.loads(out2)["best_design"] == res["best_design"]


def test_malformed_topology_and_trace_files_exit_2_naming_the_line(tmp_path, capsys):
    header = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
    topo = tmp_path / "net.csv"
    topo.write_text(header + "conv1, 224, 224, 7, 7, 3, 64, 2,\nconv2, 56, x, 3, 3, 64, 64, 1,\n")
    code, _, err = run(["evaluate", "accel-resnet18", "-a", f"topology={topo}"], capsys)
    assert code == 2 and "net.csv:3" in err and "'x'" in err
    trace = tmp_path / "t.stl"
    trace.write_text("0: read 0x100\n1: reed 0x200\n")
    code, _, err = run(["evaluate", "dram", "-a", f"trace={trace}"], capsys)
    assert code == 2 and "t.stl:2" in err and "read|write" in err
    code, _, err = run(["evaluate", "dram", "-a", "memory=DDR5"], capsys)
    assert code == 2 and "known: DDR3-1600, DDR4-2400, LPDDR4-3200" in err
    topo.write_text(header + "conv1, 224, 224, 7, 7, 3, 64, 2,\n")
    code, out, _ = run(["evaluate", "accel-resnet18", "-a", f"topology={topo}", "fidelity=scalesim", "--json"], capsys)
    assert code == 0 and json.loads(out)["metrics"]["latency_cycles"] > 0


def test_version_and_python_dash_m():
    import dsegym
    proc = subprocess.run([sys.executable, "-m", "dsegym", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == f"dsegym {dsegym.__version__}"
    proc = subprocess.run([sys.executable, "-m", "dsegym", "list", "--tag", "toy"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.split()[0] == "toy-accel"


def test_ctrl_c_and_os_errors_are_one_line(monkeypatch, capsys):
    from dsegym import cli

    def interrupted(args):
        raise KeyboardInterrupt

    def disk_full(args):
        raise OSError(28, "No space left on device", "/tmp/x")

    monkeypatch.setattr(cli, "cmd_agents", interrupted)
    assert main(["agents"]) == 130
    assert capsys.readouterr().err == "dsegym: interrupted\n"
    monkeypatch.setattr(cli, "cmd_agents", disk_full)
    assert main(["agents"]) == 2
    assert capsys.readouterr().err == "dsegym: error: No space left on device: /tmp/x\n"


def test_duplicate_design_keys_and_unknown_tags_are_errors_not_last_one_wins(capsys):
    code, _, err = run(["evaluate", "toy-accel", "-d", "pes=8", "pes=16"], capsys)
    assert code == 2 and "'pes' twice" in err
    code, _, err = run(["list", "--tag", "bogus"], capsys)
    assert code == 2 and "unknown tag 'bogus'" in err and "toy" in err
