"""Predictors: accuracy against the simulator on held-out designs, determinism, files, CLI, proxies."""
import json

import numpy as np
import pandas as pd
import pytest

import dsegym
from dsegym.cli import main
from dsegym.datasets import collect
from dsegym.datasets.layers import collect_layer_frame
from dsegym.predictors import evaluate, load, train
from dsegym.predictors.model import ModelFileError

TARGETS = ["latency_cycles", "energy_uj", "area_mm2"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    d = tmp_path_factory.mktemp("pred")
    collect("toy-accel", 300, sampler="sobol", seed=0, path=d / "train.parquet", progress=False)
    collect("toy-accel", 150, sampler="random", seed=9, path=d / "test.parquet", progress=False)
    model = train(d / "train.parquet", model="mlp", targets=TARGETS, seed=0, epochs=60, batch_size=32, progress=False)
    model.save(d / "mlp.pt")
    return d, model


@pytest.fixture(scope="module")
def layers():
    train_set = collect_layer_frame(["resnet18", "vgg16", "mobilenetv2"], 60, seed=0, progress=False)
    test_set = collect_layer_frame(["resnet50"], 40, seed=1, progress=False)
    return train_set, test_set


def test_mlp_matches_the_simulator_on_held_out_designs(toy):
    d, model = toy
    m = evaluate(model, d / "test.parquet")
    for t in TARGETS:  # independent truth: the simulator's values for designs never trained on
        assert m[t]["kendall_tau"] > 0.85, (t, m[t])
        assert m[t]["mape_pct"] < 30, (t, m[t])


def test_training_is_deterministic_and_the_seed_matters(toy):
    d, model = toy
    again = train(d / "train.parquet", model="mlp", targets=TARGETS, seed=0, epochs=60, batch_size=32, progress=False)
    other = train(d / "train.parquet", model="mlp", targets=TARGETS, seed=1, epochs=60, batch_size=32, progress=False)
    designs = dsegym.make("toy-accel").space.sample_frame(20, seed=5)
    a, b, c = (m.predict(designs) for m in (model, again, other))
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["latency_cycles"], c["latency_cycles"])


def test_model_file_round_trip_and_provenance(toy):
    d, model = toy
    back = load(d / "mlp.pt", problem="toy-accel")
    designs = dsegym.make("toy-accel").space.sample_frame(10, seed=2)
    pd.testing.assert_frame_equal(back.predict(designs), model.predict(designs))
    meta = back.meta
    assert meta["problem"] == "toy-accel" and meta["targets"] == TARGETS
    assert meta["units"] == {"latency_cycles": "cycles", "energy_uj": "uJ", "area_mm2": "mm^2"}
    assert meta["space_fingerprint"] == dsegym.make("toy-accel").space.fingerprint()
    assert {"dsegym", "torch", "numpy"} <= set(meta["versions"])
    out = back.predict(designs)
    assert list(out.columns) == [c for t in TARGETS for c in (t, f"{t}_std")]
    assert (out[[f"{t}_std" for t in TARGETS]] > 0).all().all()  # an ensemble disagrees a little


def test_bad_model_files(toy, tmp_path):
    d, _ = toy
    with pytest.raises(ModelFileError, match="toy-accel.*toy-rastrigin|differs"):
        load(d / "mlp.pt", problem="toy-rastrigin")
    cut = tmp_path / "cut.pt"
    cut.write_bytes((d / "mlp.pt").read_bytes()[:500])
    with pytest.raises(ModelFileError, match="cut.pt.*corrupt"):
        load(cut)
    with pytest.raises(ModelFileError, match="not found"):
        load(tmp_path / "none.pt")
    with pytest.raises(dsegym.errors.ConfigError, match="allowed targets"):
        train(d / "train.parquet", targets=["power_w"], epochs=1, progress=False)


def test_transformer_unified_head_learns(toy):
    d, _ = toy
    model = train(d / "train.parquet", model="transformer", targets=["latency_cycles"], seed=0, epochs=40,
                  progress=False)
    assert len(model.meta["bin_edges"][0]) == model.meta["hp"]["bins"] - 1
    m = evaluate(model, d / "test.parquet")["latency_cycles"]
    assert m["kendall_tau"] > 0.8, m
    out = model.predict(dsegym.make("toy-accel").space.sample_frame(5, seed=0))
    assert (out["latency_cycles_std"] > 0).all()  # MC dropout


def test_gnn_predicts_a_network_never_seen(layers, tmp_path):
    (tr, tr_meta), (te, te_meta) = layers
    model = train((tr, tr_meta), model="gnn", targets=["latency_cycles"], seed=0, epochs=40, batch_size=16,
                  progress=False)
    m = evaluate(model, (te, te_meta))["latency_cycles"]  # ResNet-50: never seen in training
    assert m["kendall_tau"] > 0.6, m
    path = model.save(tmp_path / "gnn.pt")
    designs = dsegym.make("accel-resnet50").space.sample_frame(8, seed=4)
    a = load(path).predict(designs, workload="resnet50", std=False)
    b = model.predict(designs.assign(workload="resnet50"), std=False)
    np.testing.assert_allclose(a["latency_cycles"], b["latency_cycles"], rtol=1e-5)


def test_per_layer_mlp_and_gnn_needs_layers(layers, toy):
    (tr, tr_meta), (te, te_meta) = layers
    model = train((tr, tr_meta), model="mlp", targets=["latency_cycles"], seed=0, epochs=30, batch_size=128,
                  progress=False)
    assert model.form == "layer"
    assert evaluate(model, (te, te_meta))["latency_cycles"]["spearman"] > 0.5
    with pytest.raises(dsegym.errors.ConfigError, match="per-layer"):
        train(toy[0] / "train.parquet", model="gnn", epochs=1, progress=False)


def test_proxy_problem_runs_agents_and_envs(toy):
    d, model = toy
    proxy = dsegym.make("proxy:toy-accel", model=str(d / "mlp.pt"))
    assert proxy.id == "proxy:toy-accel" and [o.metric for o in proxy.objectives] == TARGETS
    designs = proxy.space.sample_frame(30, seed=1)
    np.testing.assert_allclose(proxy.evaluate(designs)["energy_uj"], model.predict(designs)["energy_uj"])
    from dsegym.agents import make as make_agent
    from dsegym.agents import run_search
    for name in ("random", "ga", "tpe"):
        assert len(run_search(make_agent(name, proxy, seed=0), budget=12, batch_size=4)) == 12
    from dsegym.env import DesignEnv
    env = DesignEnv(proxy, episode_length=3)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    from dsegym.predictors.proxy import rank_fidelity
    assert rank_fidelity(proxy, n=300)["kendall_tau"] > 0.8
    with pytest.raises(ModelFileError, match="toy-accel"):
        dsegym.make("proxy:toy-rastrigin", model=str(d / "mlp.pt"))
    with pytest.raises(dsegym.errors.ConfigError, match="model=PATH"):
        dsegym.make("proxy:toy-accel")


def test_recommend_on_an_enumerable_problem(toy):
    from dsegym.predictors import recommend
    r = recommend(toy[1], "toy-accel")
    assert r["optimum_method"] == "exhaustive" and r["candidates"] == 420
    assert r["ratio"] >= 1.0 and r["rank_of_recommended"] <= 10  # of 420 designs
    truth = dsegym.make("toy-accel").evaluate([r["recommended"]]).iloc[0]
    assert truth["energy_uj"] == pytest.approx(r["recommended_metrics"]["energy_uj"])


def test_cli_train_eval_predict_recommend(toy, tmp_path, capsys):
    d, _ = toy
    m = tmp_path / "t.pt"
    assert main(["predictor", "train", str(d / "train.parquet"), "--model", "mlp", "--target", "latency_cycles",
                 "-o", str(m), "--epochs", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["targets"] == ["latency_cycles"]
    assert main(["predictor", "eval", str(d / "mlp.pt"), str(d / "test.parquet"), "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)["targets"]
    assert set(ev) == set(TARGETS)
    assert {"rmse_pct", "mape_pct", "kendall_tau", "spearman", "top10_recall"} <= set(ev["energy_uj"])
    csv = tmp_path / "d.csv"
    dsegym.make("toy-accel").space.sample_frame(3, seed=0).to_csv(csv, index=False)
    assert main(["predict", str(d / "mlp.pt"), "--input", str(csv), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["predictions"]) == 3
    assert main(["predict", str(d / "mlp.pt"), "--design", "pes=8", "bits=4"]) == 0
    assert "latency_cycles = " in capsys.readouterr().out
    assert main(["predictor", "recommend", str(d / "mlp.pt"), "--problem", "toy-accel", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["optimum_method"] == "exhaustive"
    assert main(["predict", str(d / "mlp.pt"), "--design", "pes=3"]) == 2
    assert "pes" in capsys.readouterr().err
    assert main(["predictor", "eval", str(d / "mlp.pt"), str(tmp_path / "none.parquet")]) == 2
    assert main(["predictor", "recommend", str(d / "mlp.pt"), "--problem", "toy-rastrigin"]) == 2


def test_runner_results_train_a_predictor_and_run_on_its_proxy(toy, tmp_path):
    # 'dsegym run' results export to the dataset format; a predictor trains on them; the runner runs the proxy
    from dsegym.datasets import export_results
    from dsegym.results import RunSpec
    from dsegym.results import load as load_results
    from dsegym.runner import run_experiment
    d, _ = toy
    runs = tmp_path / "runs"
    run_experiment([RunSpec("toy-accel", "random", seed=s, budget=40, batch_size=10) for s in range(3)], runs,
                   progress=False)
    info = export_results(runs, tmp_path / "trials.parquet")
    model = train(info["path"], model="mlp", targets=["energy_uj"], epochs=5, batch_size=16, progress=False)
    assert model.problem == "toy-accel" and model.meta["n_train"] + model.meta["n_val"] == 120
    spec = RunSpec("proxy:toy-accel", "ga", seed=0, budget=10, batch_size=5, problem_options={"model": str(d / "mlp.pt")})
    run_experiment([spec], tmp_path / "proxy_runs", progress=False)
    frame = load_results(tmp_path / "proxy_runs")
    assert len(frame) == 10 and set(frame["problem"]) == {"proxy:toy-accel"}


def test_rich_encoding_reads_every_column_form_alike_and_names_bad_values():
    from dsegym.errors import InvalidDesignError
    from dsegym.predictors.encoding import DesignEncoder
    space = dsegym.make("accel-resnet18").space
    designs = space.sample_frame(50, seed=3)
    enc = DesignEncoder(space, "rich")
    x = enc.flat(designs)
    assert x.shape == (50, enc.width) and np.isfinite(x).all()
    # Arrow strings, Python objects, pandas categories, design.NAME headers and dicts are one input
    for other in (designs.astype(object), designs.astype({"dataflow": "category", "dram_type": "category"}),
                  designs.add_prefix("design."), designs.to_dict("records")):
        np.testing.assert_array_equal(enc.flat(other), x)
    # each numeric knob's scales are monotone in its value (log and reciprocal move opposite ways)
    lo, hi = designs.assign(clock_mhz=200), designs.assign(clock_mhz=2000)
    d = enc.flat(hi) - enc.flat(lo)
    start = sum(enc.token_widths[:space.names.index("clock_mhz")])
    assert (d[:, start:start + 3] > 0).all() and (d[:, start + 3] < 0).all()
    for col, value in (("dataflow", "xs"), ("dram_type", None), ("rows", 3), ("clock_mhz", 300)):
        bad = designs.astype(object)
        bad.loc[7, col] = value
        with pytest.raises(InvalidDesignError, match=f"'{col}'.*allowed"):
            enc.flat(bad)


def test_batched_inference_matches_the_training_path(toy, tmp_path):
    import torch
    d, model = toy
    designs = dsegym.make("toy-accel").space.sample_frame(300, seed=8)
    whole = model.predict(designs)
    pd.testing.assert_frame_equal(model.predict(designs, batch_size=7), whole)  # chunking changes nothing
    x = torch.as_tensor(model._inputs(designs))
    with torch.no_grad():
        fused = model.net(x)  # the in-place, all-members-at-once prediction path
    grad = model.net(x).detach()  # the autograd path training uses
    torch.testing.assert_close(fused, grad, rtol=1e-5, atol=1e-5)
    # files written before the 'rich' encoding (no 'encoding' entry) still load and read designs their way
    old = train(d / "train.parquet", model="mlp", targets=["latency_cycles"], seed=0, epochs=3, progress=False,
                encoding="unit")
    del old.meta["encoding"]
    back = load(old.save(tmp_path / "old.pt"))
    assert back.encoder.encoding == "unit" and back.encoder.width == 7
    pd.testing.assert_frame_equal(back.predict(designs), old.predict(designs))
    with pytest.raises(dsegym.errors.ConfigError, match="encoding.*allowed: unit, rich"):
        train(d / "train.parquet", epochs=1, progress=False, encoding="onehot")


def test_mapping_features_bound_the_simulator_and_name_its_mapping():
    """The mapping features against the simulator (independent truth): the latency prior never exceeds
    a layer's simulated latency inside a network, and with layers simulated alone the mapping the
    simulator chose is one of the candidates (its cycles and its DRAM bytes, together)."""
    from dsegym.datasets.layers import _tables, layer_rows, mapping_candidates, mapping_features
    designs = dsegym.make("accel-resnet18").space.sample_frame(150, seed=11)
    for workload in ("resnet18", "bert_base", "mobilenetv2"):
        table = _tables([workload])[workload]
        rows = layer_rows(designs, workload, table)
        _, prior, energy = mapping_features(rows)
        per_repeat = rows["latency_cycles"].to_numpy() / rows["layer_repeat"].to_numpy()
        assert (prior <= per_repeat + 1e-9).all()
        assert (prior == per_repeat).mean() > 0.5  # and it is often exact
        assert (energy * 1e-6 < rows["energy_uj"].to_numpy() / rows["layer_repeat"].to_numpy()).all()
        alone = layer_rows(designs, workload, table, chained=False)
        cand = mapping_candidates(alone)
        rep = alone["layer_repeat"].to_numpy()[:, None]
        hit = (cand["cycles_alone"] * rep == alone["latency_cycles"].to_numpy()[:, None]) & \
            (np.abs(cand["traffic"] * rep - alone["dram_bytes"].to_numpy()[:, None]) <= rep)  # the kernel rounds up
        assert hit.any(axis=1).all(), workload


def test_mapping_model_is_deterministic_and_beats_the_roofline_model(tmp_path):
    from dsegym.predictors.proxy import proxy_metrics
    tr = collect_layer_frame(["resnet18"], 300, sampler="sobol", seed=0, progress=False)
    problem = dsegym.make("accel-resnet18")
    designs = problem.space.sample_frame(200, seed=3)
    truth = problem.evaluate(designs)["latency_ms"].to_numpy()
    kw = dict(model="mlp", targets=["latency_ms", "energy_uj"], epochs=15, batch_size=128, progress=False,
              hidden=64, members=2)
    mapping = train(tr, seed=0, features="mapping", loss="l1", **kw)
    again = train(tr, seed=0, features="mapping", loss="l1", **kw)
    other = train(tr, seed=1, features="mapping", loss="l1", **kw)
    roofline = train(tr, seed=0, features="roofline", **kw)
    pm, pa, po, pr = (proxy_metrics(m, problem, designs)["latency_ms"].to_numpy()
                      for m in (mapping, again, other, roofline))
    np.testing.assert_array_equal(pm, pa)
    assert not np.allclose(pm, po)
    mape = lambda p: np.mean(np.abs(p / truth - 1))  # noqa: E731
    # from 300 designs: ~1.5% against ~14% (seeds 0-2)
    assert mape(pm) < 0.05 and mape(pm) < 0.3 * mape(pr), (mape(pm), mape(pr))
    back = load(mapping.save(tmp_path / "mapping.pt"))
    np.testing.assert_array_equal(proxy_metrics(back, problem, designs)["latency_ms"].to_numpy(), pm)
    with pytest.raises(dsegym.errors.ConfigError, match="loss.*allowed: mse, l1"):
        train(tr, epochs=1, progress=False, loss="mape")


def test_a_model_file_written_by_an_older_dsegym_still_predicts_the_same():
    """tests/fixtures/predictor_roofline_511497e.pt: a per-layer MLP (roofline inputs, no 'loss' entry)
    written by dsegym at commit 511497e, with that version's predictions for six rows beside it."""
    from pathlib import Path
    fix = Path(__file__).parent / "fixtures"
    old = json.loads((fix / "predictor_roofline_511497e.json").read_text())
    model = load(fix / "predictor_roofline_511497e.pt")
    assert model.meta["hp"]["features"] == "roofline" and "loss" not in model.meta["hp"]
    out = model.predict(pd.DataFrame(old["rows"]), std=True)
    pd.testing.assert_frame_equal(out.reset_index(drop=True), pd.DataFrame(old["pred"]), rtol=1e-5)
