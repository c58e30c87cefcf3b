"""The physical model against published silicon (independent truth): area within 2x, throughput on the
published workload within 2x, on-chip power within 3x. Chips and sources: dsegym.envs.accelerator.silicon,
docs/references.md and docs/validation.md (Accelerator)."""
from __future__ import annotations

import pytest

from dsegym.envs.accelerator.silicon import CHIPS, compare


@pytest.mark.parametrize("name", sorted(CHIPS))
def test_model_agrees_with_published_silicon(name):
    r = compare(name)
    assert 0.5 <= r["area_ratio"] <= 2.0, r
    assert 0.5 <= r["speed_ratio"] <= 2.0, r
    assert 1 / 3 <= r["power_ratio"] <= 3.0, r


def test_eyeriss_dataflow_choice_is_the_closest_not_the_best_fitting():
    """The anchor uses weight-stationary because it is the closest to row-stationary; output-stationary
    (psums in the PEs, weights refetched through a 4 KB staging buffer) is far slower on the same chip."""
    from dsegym.envs.accelerator import simulate
    chip = CHIPS["eyeriss_v1"]
    ws = simulate(chip.design, chip.layers)["cycles"].sum()
    os_ = simulate({**chip.design, "dataflow": "os"}, chip.layers)["cycles"].sum()
    assert os_ > 1.5 * ws
