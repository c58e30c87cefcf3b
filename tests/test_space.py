"""DesignSpace: sizes against brute force, encodings as round-trips, sampling against its constraints."""
import itertools
import math
import subprocess
import sys

import numpy as np
import pytest

import dsegym
from dsegym.errors import ConfigError, ConstraintViolation, InvalidDesignError
from dsegym.space import Categorical, Constraint, DesignSpace, Float, Integer, Ordinal, PowerOfTwo


def small_space():
    return DesignSpace([
        Integer("rows", 4, 64, log=True, default=16, group="compute"),
        Categorical("dataflow", ["ws", "os", "is"], group="compute"),
        PowerOfTwo("sram_kb", 8, 256, default=32, group="memory"),
        Ordinal("bits", [4, 8, 16], default=8, group="precision"),
        Integer("banks", 1, 9, step=2, group="memory"),
    ], constraints=[Constraint("budget", lambda d: d["rows"] * d["bits"] <= 512, "rows * bits <= 512")])


def brute_force_valid(space):
    grids = [p.value_at(np.arange(p.cardinality)).tolist() for p in space.params]
    count = 0
    for combo in itertools.product(*grids):
        d = dict(zip(space.names, combo))
        count += d["rows"] * d["bits"] <= 512
    return count


def test_size_is_product_of_cardinalities_and_count_matches_brute_force():
    space = small_space()
    assert list(space.nvec) == [61, 3, 6, 3, 5]
    assert space.size == 61 * 3 * 6 * 3 * 5
    assert space.count_valid() == brute_force_valid(space)
    assert len(list(space.enumerate())) == space.count_valid()


def test_groups_and_defaults():
    space = small_space()
    assert space.groups == {"compute": ["rows", "dataflow"], "memory": ["sram_kb", "banks"], "precision": ["bits"]}
    assert space.default() == {"rows": 16, "dataflow": "ws", "sram_kb": 32, "bits": 8, "banks": 5}


def test_float_space_is_infinite_but_indexable():
    space = DesignSpace([Float("clock_ghz", 0.5, 2.0, log=True, bins=8), Integer("x", 0, 3)])
    assert space.size == math.inf
    d = space.sample(1, seed=3)[0]
    idx = space.to_index(d)
    snapped = space.from_index(idx)
    grid = np.geomspace(0.5, 2.0, 8)
    assert snapped["clock_ghz"] == pytest.approx(grid[np.argmin(np.abs(np.log(grid) - np.log(d["clock_ghz"])))])


@pytest.mark.parametrize("seed", range(5))
def test_index_and_unit_encodings_round_trip(seed):
    space = small_space()
    designs = space.sample(200, seed=seed)
    idx = space.to_index_batch(designs)
    assert ((idx >= 0) & (idx < space.nvec)).all()
    assert space.from_index_batch(idx) == designs
    u = space.to_unit_batch(designs)
    assert ((u >= 0) & (u <= 1)).all()
    assert space.from_unit_batch(u) == designs


def test_random_unit_vectors_decode_inside_the_space():
    space = small_space()
    u = np.random.default_rng(0).random((1000, len(space)))
    designs = space.from_unit_batch(u, check_constraints=False)
    for p in space.params:
        vals = np.array([d[p.name] for d in designs], dtype=object)
        assert p.valid_mask(p.coerce(vals)).all()


def test_sampling_honours_constraints_is_seeded_and_covers_the_space():
    space = small_space()
    a = space.sample(5000, seed=1)
    assert a == space.sample(5000, seed=1)
    assert a != space.sample(5000, seed=2)
    assert all(d["rows"] * d["bits"] <= 512 for d in a)
    # every categorical choice and every bits value shows up with roughly its share
    for name, choices in (("dataflow", ["ws", "os", "is"]), ("sram_kb", [8, 16, 32, 64, 128, 256])):
        counts = np.array([sum(d[name] == c for d in a) for c in choices])
        assert counts.min() > 0.6 * len(a) / len(choices)
    # log-scale integers are sampled log-uniformly: as many designs below 16 as above
    below = sum(d["rows"] < 16 for d in a)
    above = sum(d["rows"] >= 16 for d in a)
    assert below > 0.25 * len(a) and above > 0.25 * len(a)


def test_validation_errors_name_the_parameter_and_what_is_allowed():
    space = small_space()
    with pytest.raises(InvalidDesignError, match=r"'rows'.*integers 4\.\.64"):
        space.validate({"rows": 65})
    with pytest.raises(InvalidDesignError, match=r"'rows'"):
        space.validate({"rows": 5.5})
    with pytest.raises(InvalidDesignError, match=r"'rows'"):
        space.validate({"rows": float("nan")})
    with pytest.raises(InvalidDesignError, match=r"'dataflow'.*one of ws, os, is"):
        space.validate({"dataflow": "rs"})
    with pytest.raises(InvalidDesignError, match=r"'sram_kb'.*powers of two 8\.\.256"):
        space.validate({"sram_kb": 48})
    with pytest.raises(InvalidDesignError, match=r"'banks'.*steps of 2"):
        space.validate({"banks": 2})
    with pytest.raises(InvalidDesignError, match=r"unknown parameter 'colz'.*rows, dataflow"):
        space.validate({"colz": 3})
    with pytest.raises(ConstraintViolation, match=r"'budget'.*rows=64, bits=16"):
        space.validate({"rows": 64, "bits": 16})
    with pytest.raises(ConstraintViolation, match=r"design 1 violates"):
        space.to_frame([{"rows": 4}, {"rows": 64, "bits": 16}])


def test_validation_fills_defaults_and_types_values():
    space = small_space()
    d = space.validate({"rows": 32.0, "bits": np.int64(4)})
    assert d == {"rows": 32, "dataflow": "ws", "sram_kb": 32, "bits": 4, "banks": 5}
    assert type(d["rows"]) is int and type(d["bits"]) is int
    frame = space.to_frame([{"rows": 8}, {"dataflow": "os"}])
    assert str(frame["rows"].dtype) == "int64" and frame["dataflow"].tolist() == ["ws", "os"]


def test_valid_mask_never_raises():
    space = small_space()
    mask = space.valid_mask([{"rows": 4}, {"rows": 1000}, {"dataflow": "zz"}, {"rows": 64, "bits": 16}])
    assert mask.tolist() == [True, False, False, False]


def test_bad_declarations_are_rejected():
    with pytest.raises(ConfigError):
        PowerOfTwo("x", 3, 16)
    with pytest.raises(ConfigError):
        Ordinal("x", [8, 4])
    with pytest.raises(ConfigError):
        Categorical("x", ["a", "a"])
    with pytest.raises(ConfigError):
        DesignSpace([Integer("x", 0, 3), Integer("x", 0, 3)])
    with pytest.raises(ConfigError):
        Integer("x", 0, 10, default=11)


def test_constraint_parameters_are_found_by_reading():
    space = small_space()
    assert space.constraints[0].params == ("rows", "bits")


def test_neighbors_differ_in_exactly_one_parameter():
    space = small_space()
    d = space.validate({"rows": 16, "dataflow": "os", "sram_kb": 8, "bits": 8})
    nbrs = space.neighbors(d)
    assert nbrs
    for n in nbrs:
        assert sum(n[k] != d[k] for k in space.names) == 1
        assert space.valid_mask([n])[0]
    assert {n["dataflow"] for n in nbrs if n["dataflow"] != "os"} == {"ws", "is"}
    assert {n["rows"] for n in nbrs if n["rows"] != 16} == {15, 17}


def test_hash_is_stable_across_processes_and_sensitive_to_values():
    space = small_space()
    d = space.default()
    code = ("from tests.test_space import small_space; s = small_space(); print(s.hash(s.default()))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": ""}, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert other.stdout.strip() == space.hash(d)
    assert space.hash(d) == space.hash({**d, "rows": 16.0})
    assert space.hash(d) != space.hash({**d, "rows": 17})


def test_optuna_distributions_drive_a_real_study():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = small_space()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    dists = space.optuna_distributions()
    seen = []
    for _ in range(30):
        trial = study.ask(dists)
        d = space.from_optuna(trial.params) if space.valid_mask(
            [{p.name: p.from_optuna(trial.params[p.name]) for p in space.params}])[0] else None
        if d is None:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            continue
        seen.append(d)
        assert space.to_optuna(d) == trial.params
        study.tell(trial, d["rows"])
    assert len(seen) > 10


def test_valid_index_mask_matches_the_constraint_on_every_grid_row():
    space = small_space()
    idx = np.random.default_rng(5).integers(0, space.nvec, size=(2000, len(space)))
    designs = space.from_index_batch(idx, check_constraints=False)
    expected = [d["rows"] * d["bits"] <= 512 for d in designs]
    assert space.valid_index_mask(idx).tolist() == expected
    assert 0 < sum(expected) < len(expected)


def test_print_space_shows_types_groups_and_constraints():
    text = str(dsegym.make("toy-accel").space)
    for part in ("4 parameters", "[compute] pes: power_of_two, powers of two 1..64 (default 8)",
                 "[compute] dataflow: categorical, one of ws, os, is", "[precision] bits: ordinal",
                 "constraints:", "area_budget: pes * bits must be at most 512"):
        assert part in text, part
