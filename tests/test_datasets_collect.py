"""Datasets: samplers honour constraints and cover the space, files carry provenance, bad files fail clearly."""
import json

import numpy as np
import pytest

import dsegym
from dsegym.cli import main
from dsegym.datasets import collect, read_dataset, sample_designs
from dsegym.datasets.layers import collect_layer_frame
from dsegym.errors import ConfigError, DatasetError


@pytest.fixture(scope="module")
def toy_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ds") / "toy.parquet"
    collect("toy-accel", 64, sampler="sobol", seed=3, path=path, progress=False)
    return path


@pytest.mark.parametrize("sampler", ["random", "sobol", "lhs"])
def test_samplers_honour_constraints_and_are_seeded(sampler):
    space = dsegym.make("accel-resnet18").space
    a = sample_designs(space, 300, sampler, seed=1)
    b = sample_designs(space, 300, sampler, seed=1)
    assert all(len(v) == 300 for v in a.values())
    assert space.constraint_mask(a).all()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["rows"], sample_designs(space, 300, sampler, seed=2)["rows"])


def test_sobol_covers_the_unit_cube_more_evenly_than_random():
    # Discrepancy (scipy) of the unit encoding: a low-discrepancy sampler must beat plain random draws.
    from scipy.stats import qmc
    space = dsegym.make("toy-rastrigin").space  # unconstrained, so the kept points are the sequence itself
    disc = {s: qmc.discrepancy(space.to_unit_batch(space.to_frame([dict(zip(space.names, r)) for r in
                               zip(*sample_designs(space, 256, s, seed=0).values())])))
            for s in ("random", "sobol", "lhs")}
    assert disc["sobol"] < disc["random"] and disc["lhs"] < disc["random"]


def test_collect_writes_provenance_units_and_card(toy_file):
    frame, meta = read_dataset(toy_file, problem="toy-accel")
    assert len(frame) == 64 and meta["sampler"] == "sobol" and meta["seed"] == 3
    entry = meta["problems"]["toy-accel"]
    assert entry["units"] == {"latency_cycles": "cycles", "energy_uj": "uJ", "area_mm2": "mm^2"}
    assert entry["space_fingerprint"] == dsegym.make("toy-accel").space.fingerprint()
    assert meta["dsegym_version"] == dsegym.__version__
    # rows are what the simulator says
    p = dsegym.make("toy-accel")
    designs = frame[[f"design.{k}" for k in p.space.names]].set_axis(p.space.names, axis=1)
    np.testing.assert_allclose(p.evaluate(designs)["energy_uj"], frame["energy_uj"])
    card = toy_file.with_suffix(".md").read_text()
    assert "sobol" in card and "| energy_uj | uJ |" in card and "dsegym collect toy-accel -n 64" in card


def test_collect_with_workers_matches_serial(tmp_path):
    a = collect("toy-rastrigin", 5000, seed=0, path=tmp_path / "a.parquet", progress=False, workers=2)
    b = collect("toy-rastrigin", 5000, seed=0, path=tmp_path / "b.parquet", progress=False)
    fa, fb = read_dataset(a["path"])[0], read_dataset(b["path"])[0]
    assert fa.drop(columns="wall_time_s").equals(fb.drop(columns="wall_time_s"))


def test_bad_files_name_the_file_and_the_problem(toy_file, tmp_path):
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(toy_file.read_bytes()[: toy_file.stat().st_size // 2])
    with pytest.raises(DatasetError, match="cut.parquet.*truncated"):
        read_dataset(cut)
    import pandas as pd
    foreign = tmp_path / "foreign.parquet"
    pd.DataFrame({"x": [1, 2]}).to_parquet(foreign)
    with pytest.raises(DatasetError, match="foreign.parquet.*no dsegym provenance"):
        read_dataset(foreign)
    with pytest.raises(DatasetError, match="toy.parquet.*not 'accel-resnet18'"):
        read_dataset(toy_file, problem="accel-resnet18")


def test_bad_collect_input():
    with pytest.raises(ConfigError, match="sampler"):
        sample_designs(dsegym.make("toy-accel").space, 4, "halton")
    with pytest.raises(ConfigError, match=">= 1"):
        sample_designs(dsegym.make("toy-accel").space, 0, "random")


def test_per_layer_form_sums_to_the_problem():
    frame, prov = collect_layer_frame(["resnet18", "gpt2_decode"], 4, seed=0, progress=False)
    assert prov["form"] == "layer" and prov["workloads"] == ["resnet18", "gpt2_decode"]
    names = dsegym.make("accel-resnet18").space.names
    for w, pid in (("resnet18", "accel-resnet18"), ("gpt2_decode", "accel-gpt2-decode")):
        rows = frame[frame["workload"] == w]
        total = rows.groupby("design_id")[["latency_cycles", "energy_uj"]].sum()
        designs = rows.groupby("design_id").first()[[f"design.{k}" for k in names]].set_axis(names, axis=1)
        truth = dsegym.make(pid).evaluate(designs)
        np.testing.assert_allclose(total["latency_cycles"], truth["latency_cycles"])
        np.testing.assert_allclose(total["energy_uj"], truth["energy_uj"], rtol=1e-5)


def test_cli_collect(tmp_path, capsys):
    out = tmp_path / "l.parquet"
    assert main(["collect", "accel-layers", "-n", "3", "--arg", "workloads=resnet18", "-o", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rows"] == 63
    assert main(["collect", "no-such-problem", "-n", "3", "-o", str(tmp_path / "x.parquet")]) == 2
    assert "no-such-problem" in capsys.readouterr().err
    assert main(["collect", "toy-accel", "-n", "3", "-o", str(tmp_path / "x.csv")]) == 2
