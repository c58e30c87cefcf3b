"""``dsegym collect`` on Ray gives the rows a single process gives (designs are drawn before any task)."""
import pandas as pd
import pytest

from dsegym.cli import main
from dsegym.datasets import read_dataset
from dsegym.datasets.collect import collect_frame


@pytest.fixture(scope="module")
def ray_local():
    from dsegym.runner import init_ray
    ray = init_ray("local", num_cpus=2)
    yield ray
    ray.shutdown()


def test_ray_rows_equal_in_process_rows(ray_local, monkeypatch, tmp_path):
    import sys
    monkeypatch.setattr(sys.modules["dsegym.datasets.collect"], "_CHUNK", 64)  # several tasks for 300 designs
    here, _ = collect_frame("dram-stream", 300, sampler="sobol", seed=3, progress=False)
    there, _ = collect_frame("dram-stream", 300, sampler="sobol", seed=3, progress=False, ray="local")
    metrics = ["energy_uj", "avg_latency_ns"]
    pd.testing.assert_frame_equal(here.drop(columns="wall_time_s"), there.drop(columns="wall_time_s"))
    assert there[metrics].notna().all().all()
    out = tmp_path / "d.parquet"
    assert main(["collect", "toy-accel", "-n", "50", "--ray", "local", "-o", str(out)]) == 0
    frame, meta = read_dataset(out, problem="toy-accel")
    assert len(frame) == 50 and meta["sampler"] == "random"


def test_per_layer_form_refuses_workers_and_ray(capsys, tmp_path):
    assert main(["collect", "accel-layers", "-n", "5", "--ray", "local", "-o", str(tmp_path / "l.parquet")]) == 2
    assert "accel-layers" in capsys.readouterr().err
