"""One-shot class recommendation (recommend_layers with the regret ranker): the truth is the simulator
run on every class and every layer (an exhaustive optimum), never a copy of the recommender's code."""
import numpy as np
import pandas as pd
import pytest

from dsegym.datasets import collect_frame
from dsegym.datasets.layers import layer_rows, workload_layers
from dsegym.envs.accelerator import Gemm, simulate
from dsegym.envs.accelerator.layers import layer_table
from dsegym.envs.accelerator.space import make_space
from dsegym.errors import ConfigError
from dsegym.predictors import load, train
from dsegym.predictors.recommender import (
    add_regret,
    merge_mlps,
    recommend_layers,
    train_class_ranker,
    train_class_rankers,
)

CLASSES = pd.DataFrame([{"rows": r, "cols": c, "dataflow": d} for r in (16, 64, 256) for c in (16, 64, 256)
                        for d in ("ws", "os")])
# GEMMs no CNN layer of the training set has (M=1 decode projections, LLaMA-sized prefill, attention)
UNSEEN = [Gemm(1, 4096, 4096), Gemm(512, 11008, 4096), Gemm(512, 4096, 11008), Gemm(128, 128, 64, repeat=144),
          Gemm(1, 50257, 768), Gemm(197, 2304, 768), Gemm(2048, 2048, 512)]
META = {"form": "layer", "problems": {"accel-layers": {"units": {"latency_ms": "ms"},
                                                      "space_fingerprint": make_space().fingerprint()}}}


def _class_frame(n_random=20, seed=0, workloads=("resnet18", "vgg16", "vgg16@b4")):
    """Per-layer rows of random designs plus every class, each layer simulated alone."""
    space = make_space()
    designs = pd.concat([space.sample_frame(n_random, seed=seed), space.to_frame(CLASSES.to_dict("records"))],
                        ignore_index=True)
    frame = pd.concat([layer_rows(designs, w, layer_table(workload_layers(w)), chained=False) for w in workloads],
                      ignore_index=True)
    frame.insert(0, "problem", "accel-layers")
    return frame


@pytest.fixture(scope="module")
def ranker():
    frame = _class_frame()
    return frame, train_class_ranker((frame, META), CLASSES, seed=0, models=2, epochs=15, batch_size=256,
                                     progress=False)


def _truth(layers):
    """(classes, layers) simulated latency of every class on every layer alone: the exhaustive answer."""
    full = make_space().to_frame(CLASSES.to_dict("records"))
    return simulate(full, layers, chained=False)["cycles"].to_numpy(dtype=np.float64).reshape(len(full), len(layers))


def test_regret_is_latency_over_the_best_class_on_the_same_shape():
    frame = _class_frame(n_random=3, workloads=("resnet18",))
    out = add_regret(frame, CLASSES)
    is_class = out["design_id"].to_numpy() >= 3
    per_shape = out[is_class].groupby(["layer_m", "layer_n", "layer_k", "layer_ifmap_elems", "layer_repeat"])
    assert (per_shape["latency_ms_regret"].min() == 1.0).all()  # the best class on each shape
    # within a shape, regrets keep the latencies' ratios (and the random designs are measured the same way)
    for _, g in out.groupby("layer"):
        lat, reg = g["latency_ms"].to_numpy(), g["latency_ms_regret"].to_numpy()
        np.testing.assert_allclose(reg / reg[0], lat / lat[0], rtol=1e-12)
        assert reg[g["design_id"].to_numpy() >= 3].min() == 1.0
    with pytest.raises(ConfigError, match="no reference class"):
        add_regret(frame[~is_class | (frame["layer"] > 0)], CLASSES)  # layer 0 lost its classes
    with pytest.raises(ConfigError, match="energy"):
        add_regret(frame.drop(columns=["energy_uj"]), CLASSES, metric="energy_uj")


def test_ranker_recommends_near_the_exhaustive_optimum_on_unseen_gemms(ranker):
    _, model = ranker
    rec = recommend_layers(model, CLASSES, UNSEEN)
    assert list(rec.columns) == ["choice", "predicted_latency_ms_regret"]
    assert rec.attrs["predicted"].shape == (len(CLASSES), len(UNSEEN))
    sim = _truth(UNSEEN)
    choice = rec["choice"].to_numpy()
    ratio = sim[choice, np.arange(len(UNSEEN))] / sim.min(axis=0)
    assert (ratio <= 1.05).all(), ratio
    # where one class is clearly the fastest (>= 20% ahead of every other), the ranker names exactly it
    ordered = np.sort(sim, axis=0)
    clear = ordered[1] >= 1.2 * ordered[0]
    assert clear.any()
    assert (choice[clear] == sim.argmin(axis=0)[clear]).all()


def test_ranker_is_deterministic_for_a_seed(ranker):
    frame, model = ranker
    kw = dict(models=2, epochs=15, batch_size=256, progress=False)
    again = train_class_ranker((frame, META), CLASSES, seed=0, **kw)
    a, b = (recommend_layers(m, CLASSES, UNSEEN) for m in (model, again))
    np.testing.assert_array_equal(a.attrs["predicted"], b.attrs["predicted"])
    other = train_class_ranker((frame, META), CLASSES, seed=1, **kw)
    assert not np.array_equal(recommend_layers(other, CLASSES, UNSEEN).attrs["predicted"], a.attrs["predicted"])


def test_a_merged_ensemble_predicts_the_mean_of_its_models_and_persists(ranker, tmp_path):
    frame, merged = ranker
    parts = train_class_rankers((frame, META), CLASSES, seed=0, models=2, epochs=15, batch_size=256, progress=False)
    assert merged.meta["hp"]["members"] == sum(p.meta["hp"]["members"] for p in parts) == 10
    assert merged.meta["merged_seeds"] == [p.meta["seed"] for p in parts]
    assert merged.meta["ranker"] == {"seed": 0, "models": 2, "metric": "latency_ms", "reference": "classes"}
    rows = recommend_layers(merged, CLASSES, UNSEEN).attrs["predicted"]
    mean_of_parts = np.mean([recommend_layers(p, CLASSES, UNSEEN).attrs["predicted"] for p in parts], axis=0)
    np.testing.assert_allclose(rows, mean_of_parts, rtol=1e-6)
    back = load(merged.save(tmp_path / "ranker.pt"))
    np.testing.assert_array_equal(recommend_layers(back, CLASSES, UNSEEN).attrs["predicted"], rows)
    with pytest.raises(ConfigError, match="same data"):
        merge_mlps([parts[0], train(_class_frame(n_random=2, workloads=("resnet18",)).pipe(add_regret).pipe(
            lambda f: (f, META)), targets=["latency_ms_regret"], features="roofline", epochs=1, progress=False)])
    with pytest.raises(ConfigError, match="models must be"):
        train_class_ranker((frame, META), CLASSES, models=0)


def test_recommend_layers_rejects_what_it_cannot_rank(ranker):
    _, model = ranker
    with pytest.raises(ConfigError, match="at least one candidate"):
        recommend_layers(model, [], UNSEEN)
    with pytest.raises(ConfigError, match="does not predict"):
        recommend_layers(model, CLASSES, UNSEEN, metric="latency_ms")
    design_model = train(collect_frame("toy-accel", 30, seed=0, progress=False), targets=["latency_cycles"],
                         epochs=1, progress=False)
    with pytest.raises(ConfigError, match="per-layer model"):
        recommend_layers(design_model, CLASSES, UNSEEN)
