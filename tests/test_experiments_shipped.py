"""The experiment configs shipped in experiments/ are valid and every run they expand to can start:
each problem builds with its options and each agent accepts its problem and hyperparameters (an agent
that refuses its problem, such as grid search over a space it cannot enumerate, fails here rather than
minutes into `make demo` or the leaderboard suite)."""
from pathlib import Path

import pytest

import dsegym
from dsegym.agents import make
from dsegym.experiment import expand, load_config

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "experiments").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_run_of_a_shipped_config_can_start(path):
    specs = expand(load_config(path))
    assert specs, f"{path.name} expands to no runs"
    problems, seen = {}, set()
    for spec in specs:
        key = (spec.problem, repr(sorted(spec.problem_options.items())))
        if key not in problems:
            problems[key] = dsegym.make(spec.problem, **spec.problem_options)
        run = (key, spec.agent, repr(sorted(spec.hparams.items())))
        if run in seen:
            continue
        seen.add(run)
        agent = make(spec.agent, problems[key], seed=spec.seed, **spec.hparams)
        close = getattr(agent, "close", None)
        if close:
            close()
