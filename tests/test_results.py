"""The results store and the exported Parquet dataset (schema, provenance, clear errors on bad files)."""
import json

import pandas as pd
import pytest

from dsegym.cli import main
from dsegym.datasets import read_dataset, write_dataset
from dsegym.errors import ConfigError, DatasetError
from dsegym.results import ResultsStore, RunSpec, load
from dsegym.runner import run_experiment


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("results")
    specs = [RunSpec("toy-accel", "random", seed=s, budget=8, batch_size=4) for s in (0, 1)]
    specs.append(RunSpec("toy-rastrigin", "sa", seed=0, budget=6, batch_size=3, hparams={"cooling": 0.9}))
    run_experiment(specs, d, workers=1, progress=False)
    return d


def test_trials_are_stored_exactly_once(tmp_path):
    store = ResultsStore(tmp_path)
    import dsegym
    run_id = store.register_run(RunSpec("toy-accel", "random", seed=0, budget=2), dsegym.make("toy-accel"))
    trial = {"trial_index": 0, "design": {"pes": 8}, "metrics": {"latency_cycles": 5.0, "energy_uj": float("inf")},
             "score": 1.0, "wall_time_s": 0.1}
    assert store.add_trials(run_id, [trial, trial]) == 1
    assert store.add_trials(run_id, [trial]) == 0
    assert store.trials(run_id)[0]["metrics"]["energy_uj"] == float("inf")  # JSON has no inf: kept readable
    assert len(load(tmp_path)) == 1


def test_load_refuses_a_directory_without_results(tmp_path):
    with pytest.raises(ConfigError, match="holds no results"):
        load(tmp_path)


def test_export_writes_provenance_and_units(results_dir, tmp_path, capsys):
    out = tmp_path / "trials.parquet"
    assert main(["results", "export", str(results_dir), "-o", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rows"] == 22 and info["problems"] == ["toy-accel", "toy-rastrigin"]
    frame, meta = read_dataset(out)
    assert len(frame) == 22 and meta["format"] == "dsegym-trials" and meta["dsegym_version"]
    accel = meta["problems"]["toy-accel"]
    assert accel["units"] == {"latency_cycles": "cycles", "energy_uj": "uJ", "area_mm2": "mm^2"}
    assert accel["seeds"] == [0, 1] and accel["samplers"] == ["random {}"] and accel["version"]
    assert meta["problems"]["toy-rastrigin"]["samplers"] == ['sa {"cooling": 0.9}']
    only, _ = read_dataset(out, problem="toy-rastrigin")
    assert len(only) == 6 and set(only["problem"]) == {"toy-rastrigin"}


def test_bad_dataset_files_name_the_file(results_dir, tmp_path):
    good = tmp_path / "good.parquet"
    main(["results", "export", str(results_dir), "-o", str(good)])
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(DatasetError, match="truncated.parquet.*not a readable Parquet"):
        read_dataset(truncated)
    foreign = tmp_path / "foreign.parquet"
    pd.DataFrame({"x": [1, 2]}).to_parquet(foreign)
    with pytest.raises(DatasetError, match="foreign.parquet.*no dsegym provenance"):
        read_dataset(foreign)
    with pytest.raises(DatasetError, match="good.parquet.*holds problems.*not 'dram-stream'"):
        read_dataset(good, problem="dram-stream")
    wrong = tmp_path / "wrong.parquet"
    frame, meta = read_dataset(good)
    write_dataset(frame, wrong, {k: v for k, v in meta.items() if k not in ("format", "format_version")})
    import pyarrow.parquet as pq
    t = pq.read_table(wrong).drop(["score"])
    pq.write_table(t, wrong)
    with pytest.raises(DatasetError, match="wrong.parquet' lacks columns \\['score'\\]"):
        read_dataset(wrong)


def test_export_cli_errors_exit_2(tmp_path, capsys):
    assert main(["results", "export", str(tmp_path / "nothing"), "-o", str(tmp_path / "x.parquet")]) == 2
    assert "holds no results" in capsys.readouterr().err
