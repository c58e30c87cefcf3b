"""The runner: exact resume after kill -9, local pool == Ray rows, concurrent writers, config validation."""
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dsegym.errors import ConfigError
from dsegym.experiment import expand, load_config, validate
from dsegym.results import ResultsStore, RunSpec, load
from dsegym.runner import ReplayMismatch, run_experiment

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "OMP_NUM_THREADS": "1"}
VOLATILE = ["wall_time_s"]


def rows(directory):
    """The stored rows without wall time, in a stable order, for equality checks."""
    df = load(directory).drop(columns=VOLATILE)
    return df.sort_values(["run_id", "trial_index"]).reset_index(drop=True)


def dsegym_cmd(*args):
    return [sys.executable, "-m", "dsegym.cli", *map(str, args)]


def wait_for_rows(directory, at_least, proc, timeout=60):
    db = Path(directory) / "results.sqlite"
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"process ended early ({proc.returncode}): {proc.stderr.read()}")
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=5) as c:
                    n = c.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
                if n >= at_least:
                    return n
            except sqlite3.OperationalError:
                pass
        time.sleep(0.02)
    raise AssertionError("no rows appeared in time")


SPECS = [RunSpec("toy-rastrigin", "ga", seed=s, budget=40, batch_size=4) for s in (0, 1)] + \
        [RunSpec("toy-accel", "sa", seed=0, budget=30, batch_size=3, hparams={"cooling": 0.9})]


def test_kill_9_then_rerun_equals_uninterrupted(tmp_path):
    budget = 1500
    out = tmp_path / "killed"
    args = ["run", "--problem", "toy-rastrigin", "--agent", "ga", "--budget", budget, "--batch-size", 5,
            "--seeds", "3", "--out", out, "--json"]
    proc = subprocess.Popen(dsegym_cmd(*args), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_rows(out, 50, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = len(load(out))
    assert 0 < before < budget and before % 5 == 0  # whole batches only
    done = subprocess.run(dsegym_cmd(*args), env=ENV, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    ref = tmp_path / "ref"
    run_experiment([RunSpec("toy-rastrigin", "ga", seed=3, budget=budget, batch_size=5, experiment="cli")], ref,
                   workers=1, progress=False)
    resumed, straight = rows(out), rows(ref)
    assert len(resumed) == budget and resumed["trial_index"].is_unique
    assert resumed.drop(columns=["experiment"]).equals(straight.drop(columns=["experiment"]))


def test_resume_answers_from_store_without_simulating(tmp_path, monkeypatch):
    run_experiment(SPECS, tmp_path, workers=1, progress=False)
    from dsegym.problem import Problem
    calls = []
    orig = Problem.evaluate
    monkeypatch.setattr(Problem, "evaluate", lambda self, d: calls.append(len(d)) or orig(self, d))
    longer = [RunSpec("toy-accel", "sa", seed=0, budget=30, batch_size=3, hparams={"cooling": 0.9})]
    summary = run_experiment(longer, tmp_path, workers=1, progress=False)
    assert summary["trials_new"] == 0 and calls == []


def test_replay_that_diverges_is_refused(tmp_path):
    spec = RunSpec("toy-accel", "random", seed=0, budget=6, batch_size=3)
    run_experiment([spec], tmp_path, workers=1, progress=False)
    db = tmp_path / "results.sqlite"
    with sqlite3.connect(db) as c:  # forge the record of trial 0, and drop the last batch so the run resumes
        c.execute("UPDATE trials SET design = '{\"pes\":1,\"dataflow\":\"ws\",\"buffer_kb\":1,\"bits\":4}' "
                  "WHERE trial_index = 0")
        c.execute("DELETE FROM trials WHERE trial_index >= 3")
    with pytest.raises(ReplayMismatch, match="not reproducible"):
        run_experiment([spec], tmp_path, workers=1, progress=False)


@pytest.fixture(scope="module")
def ray_local():
    from dsegym.runner import init_ray
    ray = init_ray("local", num_cpus=2)
    yield ray
    ray.shutdown()


def test_local_pool_and_ray_give_identical_rows(tmp_path, ray_local):
    run_experiment(SPECS, tmp_path / "pool", workers=2, progress=False)
    s = run_experiment(SPECS, tmp_path / "ray", ray="local", progress=False)
    assert "ray" in s["mode"] and "as tasks" in s["mode"]
    b = run_experiment(SPECS, tmp_path / "batches", ray="local", granularity="batches", progress=False)
    assert "batch tasks" in b["mode"]
    pool = rows(tmp_path / "pool")
    assert len(pool) == sum(x.budget for x in SPECS)
    assert pool.equals(rows(tmp_path / "ray"))
    assert pool.equals(rows(tmp_path / "batches"))


def test_two_experiments_write_one_directory_at_once(tmp_path):
    out = tmp_path / "shared"
    a = ["run", "--problem", "toy-rastrigin", "--agent", "random", "ga", "--budget", 200, "--batch-size", 2,
         "--seeds", "0-1", "--out", out, "--workers", 1, "--json"]
    b = ["run", "--problem", "toy-rastrigin", "--agent", "ga", "sa", "--budget", 200, "--batch-size", 2,
         "--seeds", "0-1", "--out", out, "--workers", 1, "--json"]
    procs = [subprocess.Popen(dsegym_cmd(*x), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for x in (a, b)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    with sqlite3.connect(out / "results.sqlite") as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    df = load(out)
    assert len(df) == 6 * 200 and not df.duplicated(["run_id", "trial_index"]).any()
    ref = tmp_path / "ref"
    specs = [RunSpec("toy-rastrigin", ag, seed=s, budget=200, batch_size=2) for ag in ("random", "ga", "sa")
             for s in (0, 1)]
    run_experiment(specs, ref, workers=1, progress=False)
    assert rows(out).drop(columns=["experiment"]).equals(rows(ref).drop(columns=["experiment"]))


def test_config_file_validation_names_file_key_and_allowed(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("budget: 10\nproblems: [toy-accel]\nagents: [{name: randm}]\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: agents.0.*unknown agent 'randm'.*allowed: .*random"):
        load_config(bad)
    bad.write_text("budget: 10\nproblems: [toy-accel]\nagents: [random]\nseed: 3\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: seed: unknown key; allowed keys: name, budget"):
        load_config(bad)
    bad.write_text("budget: 10\nproblems: [toy-accel]\nagents: [{name: sa, hparams: {temp: 1}}]\n")
    with pytest.raises(ConfigError, match=r"no hyperparameter \['temp'\]; allowed: .*cooling"):
        load_config(bad)
    bad.write_text("budget: -1\nproblems: [toy-accel]\nagents: [random]\n")
    with pytest.raises(ConfigError, match=r"budget: Input should be greater than 0"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_config_expands_sweeps_seeds_and_exclusions():
    cfg = validate({"budget": 5, "seeds": "0-2", "problems": ["toy-accel", "toy-rastrigin"],
                    "agents": ["random", {"name": "ga", "sweep": {"mutation_rate": [0.1, 0.4]}}],
                    "exclude": [{"problem": "toy-r*", "agent": "ga"}]})
    specs = expand(cfg)
    # toy-accel: random + ga x (default, 2 sweep values) = 4 settings; toy-rastrigin: random only
    assert len(specs) == (4 + 1) * 3
    assert len({s.run_id for s in specs}) == len(specs)
    assert {s.hparams.get("mutation_rate") for s in specs if s.agent == "ga"} == {None, 0.1, 0.4}


def test_every_committed_experiment_config_is_valid():
    configs = sorted((ROOT / "experiments").glob("*.yaml"))
    assert configs
    for path in configs:
        assert expand(load_config(path))


def test_objective_weights_change_the_score(tmp_path):
    spec = RunSpec("toy-accel", "random", seed=0, budget=4, batch_size=4,
                   objective={"weights": {"latency_cycles": 1.0, "energy_uj": 0.0, "area_mm2": 0.0}})
    run_experiment([spec], tmp_path, workers=1, progress=False)
    df = load(tmp_path)
    import numpy as np
    assert np.allclose(df["score"], np.log(df["latency_cycles"]))
    with pytest.raises(ConfigError, match="allowed: area_mm2, energy_uj, latency_cycles"):
        run_experiment([RunSpec("toy-accel", "random", seed=0, budget=4, objective={"weights": {"power_w": 1}})],
                       tmp_path, workers=1, progress=False)


def test_store_keeps_provenance(tmp_path):
    run_experiment([RunSpec("toy-accel", "random", seed=2, budget=3, hparams={})], tmp_path, workers=1,
                   progress=False)
    runs = ResultsStore(tmp_path).runs()
    r = runs.iloc[0]
    assert r["problem"] == "toy-accel" and r["seed"] == 2 and r["units"]["energy_uj"] == "uJ"
    assert r["problem_version"] and r["dsegym_version"] and len(r["config_hash"]) == 16
    df = load(tmp_path)
    assert {"design.pes", "latency_cycles", "score", "wall_time_s", "trial_index"} <= set(df.columns)


def test_ctrl_c_stops_a_pool_run_without_traceback_keeping_its_trials(tmp_path):
    args = ["run", "--problem", "toy-rastrigin", "--agent", "ga", "--budget", 3000, "--batch-size", 5,
            "--seeds", "0-1", "--out", tmp_path, "--workers", 2, "--json"]
    proc = subprocess.Popen(dsegym_cmd(*args), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    wait_for_rows(tmp_path, 20, proc)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    saved = load(tmp_path)
    assert 0 < len(saved) < 6000 and not saved.duplicated(["run_id", "trial_index"]).any()


def test_an_unreachable_ray_address_is_a_clear_error_not_a_hang(tmp_path):
    # Nothing listens on port 1; Ray alone would wait minutes for the head before giving up. A fresh
    # process, as at the CLI (this test process may already hold a local Ray from another test).
    import subprocess
    import sys
    import time
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "dsegym", "run", "--problem", "toy-accel", "--agent", "random",
                           "--budget", "4", "--seeds", "0", "--out", str(tmp_path / "r"), "--ray", "127.0.0.1:1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "cannot reach the Ray cluster at '127.0.0.1:1'" in proc.stderr and "Traceback" not in proc.stderr
    assert time.perf_counter() - t0 < 60
