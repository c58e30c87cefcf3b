"""Knob costs: the controller-cost model, the ArchGym-comparable family's DRAMSys anchor, and the
"no free knob" check on every default DRAM problem."""
import numpy as np
import pytest

import dsegym
from dsegym.envs.dram.cost import controller_bits, controller_cost
from dsegym.envs.dram.devices import get_device
from dsegym.envs.dram.model import config_matrix
from dsegym.envs.dram.space import DEFAULT

DDR3 = get_device("DDR3-1600")


def _cfg(**knobs):
    return config_matrix([{**DEFAULT, **knobs}])


def test_controller_cost_counts_bits_from_the_configuration():
    base = controller_bits(_cfg(), DDR3)
    # ReadWrite, 8 deep: 16 entries of 24-bit line address + r/w + valid + 7-bit tag; the 8 write
    # entries also hold 64 bytes of data (docs/references.md, "DRAM controller cost")
    assert base["buffer"][0] == 16 * (24 + 2 + 7) + 8 * 512
    assert controller_bits(_cfg(SchedulerBuffer="Bankwise"), DDR3)["buffer"][0] == 64 * (24 + 2 + 7) + 64 * 512
    assert controller_bits(_cfg(PagePolicy="Closed"), DDR3)["open_rows"][0] == 0
    area = lambda **k: controller_cost(_cfg(**k), DDR3)[0][0]
    sizes = [area(RequestBufferSize=s) for s in (1, 2, 4, 8, 16, 32, 64, 128)]
    assert sizes == sorted(sizes) and sizes[-1] > 10 * sizes[0]
    assert area(Scheduler="Fifo") < area(Scheduler="FrFcfs") < area(Scheduler="FrFcfsGrp")
    assert area(PagePolicy="Closed") < area(PagePolicy="Open") < area(PagePolicy="OpenAdaptive")
    assert area(MaxActiveTransactions=1) < area(MaxActiveTransactions=128)
    assert area(RefreshMaxPostponed=1) < area(RefreshMaxPostponed=8)
    # leakage follows the same bits: 74 nW per register bit against 6 um^2 (Aladdin, 40 nm)
    a, leak = controller_cost(_cfg(), DDR3)
    assert leak[0] / (a[0] * 1e6) == pytest.approx(74e-6 / 6.0)


def test_archgym_family_passes_the_dramsys_stream_open_anchor():
    p = dsegym.make("archgym-dram-stream")
    out = p.evaluate([{**DEFAULT, "PagePolicy": "Open"}]).iloc[0]
    assert out["total_time_us"] == pytest.approx(51.0, rel=0.03)     # DRAMSys: 50-52 us
    assert out["energy_uj"] == pytest.approx(86.0, rel=0.03)         # DRAMSys: 85-87 uJ
    assert out["avg_power_w"] == pytest.approx(1.7, rel=0.03)        # DRAMSys: ~1.7 W
    assert out["row_hit_rate"] == pytest.approx(127 / 128, abs=1e-3)


def test_archgym_family_matches_dramsys_logged_by_archgym():
    # Open-adaptive and Closed page, refresh on and off, three schedulers: DRAMSys via ArchGym's log
    from pathlib import Path

    import pandas as pd
    ref = pd.read_csv(Path(__file__).parent / "fixtures" / "dram_archgym_dramsys.csv", comment="#")
    p = dsegym.make("archgym-dram-stream")
    out = p.evaluate(ref[p.space.names])
    for metric in ("energy_uj", "avg_power_w", "total_time_us"):
        err = (out[metric] / ref[metric] - 1).abs()
        assert err.max() < 0.01, (metric, err.round(4).tolist())


def _at_least_as_good_share(problem, designs=60, seed=0):
    """{(knob, value): share of random designs that setting leaves at least as good on every objective}."""
    space = problem.space
    base = space.to_frame(space.sample(designs, seed=seed))
    ref = problem.evaluate(base)
    shares = {}
    for p in space.params:
        for v in p.values:
            frame = base.copy()
            frame[p.name] = v
            new = problem.evaluate(frame)
            ok = np.ones(designs, bool)
            for o in problem.objectives:
                a, b = new[o.metric].to_numpy(), ref[o.metric].to_numpy()
                ok &= (a <= b + 1e-9 * abs(b)) if o.direction == "min" else (a >= b - 1e-9 * abs(b))
            shares[(p.name, v)] = ok.mean()
    return shares


# On ArchGym's stream trace (one sequential read stream) a bank never holds a row hit behind a miss,
# so FR-FCFS has nothing to reorder: the scheduler changes no energy or latency there, and the Fifo
# setting is at least as good in 95-98% of designs, losing only on area where an FR-FCFS buffer has
# fewer entries than there are banks. A property of that workload, reported in docs/validation.md.
STREAM_EXCEPTION = {("dram-stream", "Scheduler", "Fifo")}


@pytest.mark.parametrize("pid", ["dram-stream", "dram-random", "dram-cloud1", "dram-cloud2"])
def test_no_knob_setting_is_free(pid):
    shares = _at_least_as_good_share(dsegym.make(pid))
    free = {k: s for k, s in shares.items() if s >= 0.98 and (pid, *k) not in STREAM_EXCEPTION}
    assert not free, f"{pid}: settings at least as good on every objective in >= 98% of designs: {free}"
    for _, knob, value in (e for e in STREAM_EXCEPTION if e[0] == pid):
        assert shares[(knob, value)] < 1.0
