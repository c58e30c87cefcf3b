"""Per-layer cost models outside their training shapes: roofline inputs, batch variants, one-shot
recommendation. Truth is the simulator (or an exhaustive search over it), never a copy of the code."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

import dsegym
from dsegym.datasets import collect_frame
from dsegym.datasets.layers import collect_layer_frame, roofline_features, workload_layers
from dsegym.envs.accelerator import Gemm, simulate
from dsegym.envs.accelerator.layers import layer_table
from dsegym.envs.accelerator.space import make_space
from dsegym.errors import ConfigError, UnknownIdError
from dsegym.predictors import load, train
from dsegym.predictors.proxy import proxy_metrics
from dsegym.predictors.recommender import recommend_layers

LLM_GEMMS = [Gemm(1, 4096, 4096), Gemm(512, 11008, 4096), Gemm(512, 4096, 11008), Gemm(128, 128, 64, repeat=144),
             Gemm(1, 50257, 768), Gemm(197, 2304, 768)]


def _per_layer(designs, layers):
    lt = layer_table(layers)
    rep = designs.loc[designs.index.repeat(len(lt))].reset_index(drop=True)
    for c, v in (("layer_m", lt.M), ("layer_n", lt.N), ("layer_k", lt.K), ("layer_ifmap_elems", lt.ifmap_elems),
                 ("layer_repeat", lt.repeat)):
        rep[c] = np.tile(v, len(designs))
    return rep


@pytest.fixture(scope="module")
def cnn_models():
    """Per-layer MLPs trained on two CNNs only (with batch variants), on log shapes and on roofline inputs."""
    data = collect_layer_frame(["resnet18", "vgg16"], 40, seed=0, progress=False, batches=(1, 4))
    kw = dict(model="mlp", targets=["latency_cycles"], seed=0, epochs=25, batch_size=256, progress=False)
    return data, train(data, features="shape", **kw), train(data, features="roofline", **kw)


def test_roofline_is_a_lower_bound_of_the_simulated_latency():
    # analytic bound: no layer run alone is faster than its stall-free compute or its compulsory traffic
    designs = make_space().sample_frame(60, seed=3)
    layers = LLM_GEMMS + list(workload_layers("mobilenetv2"))[:6]
    rows = _per_layer(designs, layers)
    _, roof = roofline_features(rows)
    sim = simulate(designs, layers, chained=False)["cycles"].to_numpy() / rows["layer_repeat"].to_numpy()
    assert (roof <= sim + 1).all()
    assert np.median(sim / roof) < 1.5  # and a useful one: most layers run close to it


def test_batch_variants_scale_the_work_and_reject_bad_names():
    base, b4 = (layer_table(workload_layers(w)) for w in ("resnet18", "resnet18@b4"))
    assert (b4.macs == 4 * base.macs).all() and (b4.M == 4 * base.M).all() and (b4.K == base.K).all()
    frame, prov = collect_layer_frame(["resnet18"], 3, seed=0, progress=False, batches=(1, 2))
    assert sorted(set(frame["workload"])) == ["resnet18", "resnet18@b2"] and prov["batches"] == [1, 2]
    assert frame.groupby("workload")["design_id"].nunique().tolist() == [3, 3]
    assert frame["design_id"].nunique() == 6  # each batch size gets its own designs
    named, _ = collect_layer_frame(["resnet18", "resnet18@b2"], 3, seed=0, progress=False)
    assert named["design_id"].nunique() == 3 and len(named) == len(frame)  # variants named: shared designs
    with pytest.raises(ConfigError, match="@b"):
        workload_layers("resnet18@bx")
    with pytest.raises(UnknownIdError):
        workload_layers("resnet19@b2")
    with pytest.raises(ConfigError, match="batches"):
        collect_layer_frame(["resnet18"], 3, progress=False, batches=(0,))


def test_roofline_inputs_rank_designs_on_an_unseen_transformer(cnn_models):
    _, shape_model, roof_model = cnn_models
    problem = dsegym.make("accel-gpt2-decode")  # M=1 GEMMs with K, N up to 50,257: no CNN layer is like them
    designs = problem.space.sample_frame(80, seed=11)
    truth = problem.evaluate(designs)["latency_cycles"].to_numpy()
    tau = {name: kendalltau(truth, proxy_metrics(m, problem, designs)["latency_cycles"])[0]
           for name, m in (("shape", shape_model), ("roofline", roof_model))}
    assert tau["roofline"] > 0.85 and tau["roofline"] > tau["shape"] + 0.1, tau


def test_roofline_models_persist_and_the_gnn_reads_them(cnn_models, tmp_path):
    data, _, roof_model = cnn_models
    back = load(roof_model.save(tmp_path / "m.pt"))
    assert back.meta["hp"]["features"] == "roofline"
    rows = _per_layer(make_space().sample_frame(5, seed=1), LLM_GEMMS)
    pd.testing.assert_frame_equal(back.predict(rows), roof_model.predict(rows))
    gnn = train(data, model="gnn", targets=["latency_cycles"], seed=0, epochs=2, batch_size=32, progress=False,
                features="roofline", node_loss=1.0)
    problem = dsegym.make("accel-bert-base")
    designs = problem.space.sample_frame(4, seed=2)
    pred = load(gnn.save(tmp_path / "g.pt")).predict(designs, workload="bert_base")["latency_cycles"].to_numpy()
    truth = problem.evaluate(designs)["latency_cycles"].to_numpy()
    assert np.isfinite(pred).all() and (np.abs(np.log(pred / truth)) < np.log(20)).all()


def test_recommended_class_is_near_the_exhaustive_optimum_on_unseen_gemms(cnn_models):
    _, _, model = cnn_models
    classes = pd.DataFrame([{"rows": r, "cols": c, "dataflow": d} for r in (16, 64, 256) for c in (16, 64, 256)
                            for d in ("ws", "os")])
    rec = recommend_layers(model, classes, LLM_GEMMS)
    full = make_space().to_frame(classes.to_dict("records"))
    sim = simulate(full, LLM_GEMMS, chained=False)["cycles"].to_numpy().reshape(len(classes), len(LLM_GEMMS))
    ratio = sim[rec["choice"].to_numpy(), np.arange(len(LLM_GEMMS))] / sim.min(axis=0)
    assert np.mean(ratio <= 1.05) >= 4 / 6 and ratio.max() < 2, ratio
    with pytest.raises(ConfigError, match="does not predict"):
        recommend_layers(model, classes, LLM_GEMMS, metric="energy_uj")


def test_roofline_inputs_need_a_per_layer_dataset():
    toy = collect_frame("toy-accel", 30, seed=0, progress=False)
    with pytest.raises(ConfigError, match="per-layer"):
        train(toy, features="roofline", epochs=1, progress=False)
    with pytest.raises(ConfigError, match="allowed: shape, roofline"):
        train(toy, features="exact", epochs=1, progress=False)
