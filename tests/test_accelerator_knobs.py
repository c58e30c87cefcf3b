"""Every knob has a cost: no value of any searched parameter makes random designs at least as good on
every objective (latency, energy, area) in 98% or more of cases, on every accelerator problem."""
from __future__ import annotations

import pytest
from knob_shares import free_knobs

import dsegym

ACCEL_IDS = [pid for pid in dsegym.list_problems() if pid.startswith("accel-")]
LIMIT = 0.98


@pytest.mark.parametrize("pid", ACCEL_IDS)
def test_no_value_of_any_knob_is_free(pid):
    bad = [(name, v, round(share, 3)) for name, v, share in free_knobs(dsegym.make(pid)) if share >= LIMIT]
    assert not bad, f"{pid}: free knob values {bad}"
