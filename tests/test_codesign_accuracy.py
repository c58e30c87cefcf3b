"""Measured accuracy of the co-design networks: real training on digits, PTQ/QAT, determinism, cache."""
import numpy as np
import pytest

from dsegym.envs.codesign import cache as cache_mod
from dsegym.envs.codesign.accuracy import COLLAPSE_DROP, AccuracyOracle
from dsegym.envs.codesign.network import ARCHITECTURES, MAC_BUDGET, NetArch
from dsegym.errors import ConfigError

# The fixed network of quant-digits: 16-32-64 channels, 3x3, pooled.
FIXED = NetArch(3, 16, 2, 3, True)


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    return AccuracyOracle(tmp_path_factory.mktemp("acc"), seeds=(0, 1, 2))


def test_float_network_reaches_95_percent(oracle):
    accs = [oracle.float_network(FIXED, s)[1] for s in oracle.seeds]
    assert np.mean(accs) >= 0.95, accs
    # the seeds differ (they are real, independent trainings) but by less than a few points
    assert len(set(accs)) > 1 and np.ptp(accs) < 0.04


def test_8bit_within_one_point_of_float(oracle):
    r = oracle.measure(FIXED, (8,) * 3, (8,) * 3)
    assert r["quant_method"] == "ptq"
    assert abs(r["accuracy"] - r["float_accuracy"]) <= 0.01


def test_2bit_ptq_collapses_and_qat_recovers(oracle):
    from dsegym.envs.codesign.training import ptq_accuracy

    float_acc = np.mean([oracle.float_network(FIXED, s)[1] for s in oracle.seeds])
    ptq = np.mean([ptq_accuracy(FIXED, oracle.float_network(FIXED, s)[0], (2,) * 3, (4,) * 3) for s in oracle.seeds])
    assert ptq < float_acc - 0.05, (ptq, float_acc)
    r = oracle.measure(FIXED, (2,) * 3, (4,) * 3)
    assert r["quant_method"] == "qat"
    assert r["accuracy"] > ptq + COLLAPSE_DROP
    # and 2 bits is still never free: it does not beat 8 bits
    assert r["accuracy"] <= oracle.measure(FIXED, (8,) * 3, (8,) * 3)["accuracy"] + 0.01


def test_same_seed_same_accuracy_in_a_fresh_cache(oracle, tmp_path):
    again = AccuracyOracle(tmp_path, seeds=(1,))
    state, acc = again.float_network(FIXED, 1)
    ref_state, ref_acc = oracle.float_network(FIXED, 1)
    assert acc == ref_acc
    assert all(np.array_equal(state[k].numpy(), ref_state[k].numpy()) for k in state)


def test_cache_is_reused_and_keyed_by_library_versions(tmp_path, monkeypatch):
    arch = NetArch(2, 4, 1, 3, True)
    calls = []
    import dsegym.envs.codesign.accuracy as acc_mod

    real = acc_mod.train_float
    monkeypatch.setattr(acc_mod, "train_float", lambda a, s, e: calls.append(a.key) or real(a, s, e))
    AccuracyOracle(tmp_path, seeds=(0,)).float_network(arch, 0)
    AccuracyOracle(tmp_path, seeds=(0,)).float_network(arch, 0)
    assert len(calls) == 1  # the second oracle read the disk cache
    versions = dict(cache_mod.library_versions())
    monkeypatch.setattr(cache_mod, "library_versions", lambda: {**versions, "torch": "0.0.0"})
    AccuracyOracle(tmp_path, seeds=(0,)).float_network(arch, 0)
    assert len(calls) == 2  # another torch: retrained, not served stale
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporaries


def test_corrupt_cache_entry_is_recomputed(tmp_path):
    arch = NetArch(2, 4, 1, 3, True)
    acc = AccuracyOracle(tmp_path, seeds=(0,)).float_network(arch, 0)[1]
    for f in tmp_path.rglob("*.pt"):
        f.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="unreadable cache entry"):
        assert AccuracyOracle(tmp_path, seeds=(0,)).float_network(arch, 0)[1] == acc


def test_bad_bits_and_keys_are_clear_errors(oracle):
    with pytest.raises(ConfigError, match="weights take"):
        oracle.measure(FIXED, (8, 8, 5), (8, 8, 8))
    with pytest.raises(ConfigError, match="3 convolutions"):
        oracle.measure(FIXED, (8, 8), (8, 8))
    with pytest.raises(ConfigError, match="must look like"):
        NetArch.from_key("resnet")
    with pytest.raises(ConfigError, match="width must be one of"):
        NetArch(2, 7, 1, 3, True)


def test_space_of_networks_respects_the_mac_budget_and_covers_4_to_64_channels():
    assert all(a.macs <= MAC_BUDGET for a in ARCHITECTURES)
    chans = {c for a in ARCHITECTURES for c in a.channels}
    assert min(chans) == 4 and max(chans) == 64
    assert {a.depth for a in ARCHITECTURES} == {2, 3, 4} and {a.kernel for a in ARCHITECTURES} == {3, 5}
    # MAC counts agree with the accelerator's own view of the same network
    for a in ARCHITECTURES[::7]:
        assert sum(l.macs for l in a.accelerator_layers()) == a.macs
