"""`dsegym search --out`: writes as it goes, resumes, refuses to mix runs, and handles signals cleanly."""
import json
import signal
import subprocess

import pandas as pd
import pytest
from test_runner import ENV, dsegym_cmd, wait_for_rows

from dsegym.cli import main
from dsegym.results import load


def cli(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_out_naming_a_file_is_refused_before_any_work(tmp_path, capsys):
    f = tmp_path / "taken.txt"
    f.write_text("keep me")
    code, _, err = cli(["search", "toy-accel", "--budget", 5, "--out", f], capsys)
    assert code == 2 and err.count("\n") == 1 and "existing file" in err and str(f) in err
    assert f.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["taken.txt"]
    for verb in (["run", "--problem", "toy-accel", "--agent", "random", "--out", f],
                 ["leaderboard", tmp_path, "--out", f]):
        code, _, err = cli(verb, capsys)
        assert code == 2 and "existing file" in err


def test_search_text_shows_best_score_and_history_has_index_agent_seed(tmp_path, capsys):
    code, out, _ = cli(["search", "toy-rastrigin", "--agent", "sa", "--budget", 20, "--batch-size", 4, "--seed", 3,
                        "--out", tmp_path], capsys)
    assert code == 0 and "best score:" in out
    h = pd.read_parquet(tmp_path / "history.parquet")
    assert list(h["evaluation"]) == list(range(20)) and set(h["agent"]) == {"sa"} and set(h["seed"]) == {3}
    best = float(out.split("best score:")[1].split()[0])
    assert best == pytest.approx(h["score"].min(), rel=1e-5)
    assert not list(tmp_path.glob(".*tmp*"))  # temp files were renamed into place


def test_pareto_agent_writes_and_prints_its_pareto_set(tmp_path, capsys):
    code, out, _ = cli(["search", "toy-accel", "--agent", "nsga2", "--budget", 20, "--batch-size", 10,
                        "--out", tmp_path], capsys)
    assert code == 0 and "Pareto set (" in out
    front = pd.read_csv(tmp_path / "pareto.csv")
    h = pd.read_parquet(tmp_path / "history.parquet")
    import dsegym
    p = dsegym.make("toy-accel")
    # independent check: no evaluated design dominates a listed one
    costs = h[["latency_cycles", "energy_uj", "area_mm2"]].to_numpy()
    for row in front[["latency_cycles", "energy_uj", "area_mm2"]].to_numpy():
        assert not ((costs <= row).all(axis=1) & (costs < row).any(axis=1)).any()
    assert len(front) == p.pareto_mask(h).sum()
    code, out, _ = cli(["search", "toy-accel", "--agent", "nsga2", "--budget", 20, "--batch-size", 10,
                        "--out", tmp_path, "--json"], capsys)
    assert len(json.loads(out)["pareto"]) == len(front)


def test_second_search_resumes_and_a_different_one_is_refused(tmp_path, capsys):
    args = ["search", "toy-accel", "--agent", "ga", "--budget", 30, "--batch-size", 5, "--seed", 1, "--out", tmp_path,
            "--json"]
    code, out, _ = cli(args, capsys)
    first = json.loads(out)
    code2, out2, _ = cli(args, capsys)  # same run: resumed from the store, same answer, no new rows
    assert code == code2 == 0 and json.loads(out2)["best_score"] == first["best_score"]
    assert len(load(tmp_path)) == 30
    code3, _, err = cli(["search", "toy-accel", "--agent", "ga", "--budget", 30, "--seed", 2, "--out", tmp_path],
                        capsys)
    assert code3 == 2 and "already holds a different run" in err and err.count("\n") == 1
    assert len(load(tmp_path)) == 30


def test_two_different_searches_into_one_out_at_once(tmp_path):
    procs = [subprocess.Popen(dsegym_cmd("search", "toy-rastrigin", "--agent", "random", "--budget", 300,
                                         "--batch-size", 3, "--seed", s, "--out", tmp_path, "--json"),
                              env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in (0, 1)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    codes = sorted(r[2] for r in results)
    assert codes == [0, 2], results
    refused = next(r for r in results if r[2] == 2)
    assert "already holds a different run" in refused[1] and "Traceback" not in refused[1]
    df = load(tmp_path)
    assert len(df) == 300 and df["run_id"].nunique() == 1 and df["trial_index"].is_unique
    assert len(pd.read_parquet(tmp_path / "history.parquet")) == 300


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_save_work_exit_cleanly_and_rerun_resumes(tmp_path, sig, code):
    args = dsegym_cmd("search", "toy-rastrigin", "--agent", "ga", "--budget", 3000, "--batch-size", 5,
                      "--out", tmp_path, "--json")
    proc = subprocess.Popen(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_rows(tmp_path, 20, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "run the same command again to resume" in err
    saved = len(load(tmp_path))
    assert 0 < saved < 3000
    assert len(pd.read_parquet(tmp_path / "history.parquet")) == saved  # history of what is done
    short = dsegym_cmd("search", "toy-rastrigin", "--agent", "ga", "--budget", 3000, "--batch-size", 5,
                       "--out", tmp_path, "--json")
    # Rerunning resumes the same run (same id) rather than starting over; stop it again quickly.
    proc = subprocess.Popen(short, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_rows(tmp_path, saved + 5, proc)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    df = load(tmp_path)
    assert df["run_id"].nunique() == 1 and df["trial_index"].is_unique and len(df) > saved
