"""The DRAM controller model: DRAMSys anchor, analytic bounds, metamorphic laws, knob semantics.

Configurations are given as kernel vectors where sweeps are large (choice indices in the order of
``space.KNOBS``; sizes as numbers), through ``DramModel._metrics`` which shares the cached path of
``problem.evaluate``.
"""
import itertools

import numpy as np
import pandas as pd
import pytest

from dsegym.envs.dram import traces as T
from dsegym.envs.dram.devices import DEVICES, get_device
from dsegym.envs.dram.model import (
    DETAILS,
    METRICS,
    DramModel,
    config_matrix,
    decode,
    simulate,
)
from dsegym.envs.dram.power import background_power_w, command_energies_nj
from dsegym.envs.dram.space import DEFAULT, make_space

DDR3 = get_device("DDR3-1600")
N = 10_000
# DEFAULT as a kernel vector: Open, Fifo, ReadWrite, 8, Fifo, AllBank, 8, 8, Fifo arbiter, 128
BASE = config_matrix([DEFAULT])[0]


@pytest.fixture(scope="module")
def models():
    traces = {name: name for name in ("stream", "random", "cloud1", "cloud2", "mixed")}
    return {name: DramModel(tr) for name, tr in traces.items()}


def metrics(model, **knobs):
    cfg = BASE.copy()
    index = {name: k for k, name in enumerate(("page", "sched", "sbuf", "buf", "respq", "refresh",
                                                "maxpost", "maxpull", "arb", "maxact"))}
    for key, value in knobs.items():
        cfg[index[key]] = value
    # performance and DRAM energy only: the controller's own cost (ctrl_*) is checked in test_dram_cost
    return {k: v for k, v in zip(METRICS + DETAILS, model._metrics(cfg)) if not k.startswith("ctrl_")}


OPEN, OPEN_ADAPTIVE, CLOSED, CLOSED_ADAPTIVE = range(4)
FIFO, FRFCFS, FRFCFS_GRP = range(3)
BANKWISE, READWRITE, SHARED = range(3)


# --- validation against DRAMSys (ArchGym's published stream/Open-page data point) --------------------
def test_stream_open_page_matches_dramsys_anchor():
    out = simulate([{"PagePolicy": "Open"}], trace="stream").iloc[0]
    assert out["total_time_us"] == pytest.approx(51.0, rel=0.03)     # DRAMSys: 50-52 us
    assert out["energy_uj"] == pytest.approx(86.0, rel=0.03)         # DRAMSys: 85-87 uJ
    assert out["avg_power_w"] == pytest.approx(1.7, rel=0.03)        # DRAMSys: ~1.7 W
    assert out["row_hit_rate"] == pytest.approx(127 / 128, abs=1e-3)


def test_per_command_energy_from_idd_currents():
    e = command_energies_nj(DDR3)
    # (IDD0 - IDD3N) tRAS + (IDD0 - IDD2N)(tRC - tRAS) = 25*28 + 25*10 mA*cycles, 1.25 ns, 1.5 V, 8 dies
    assert e["act"] + e["pre"] == pytest.approx(950 * 1.25 * 1.5 * 8 / 1000)
    assert e["rd"] == pytest.approx((140 - 45) * 4 * 1.25 * 1.5 * 8 / 1000)
    assert e["ref"] == pytest.approx((170 - 45) * 88 * 1.25 * 1.5 * 8 / 1000)
    assert background_power_w(DDR3)["active"] == pytest.approx(0.045 * 1.5 * 8)
    for dev in DEVICES.values():  # every command costs energy on every device
        assert min(command_energies_nj(dev).values()) >= 0


def test_address_map_row_bank_column():
    bank, row, col = decode(np.array([0, 64, 8191, 8192, 65536, (1 << 30) + 8192]), DDR3)
    assert bank.tolist() == [0, 0, 0, 1, 0, 1] and row.tolist() == [0, 0, 0, 0, 1, 0]
    assert col.tolist() == [0, 8, 1023, 0, 0, 0]


# --- analytic bounds ---------------------------------------------------------------------------------
def test_stream_meets_the_bandwidth_bound(models):
    m = metrics(models["stream"])
    bound_us = N * DDR3.t["BURST"] * DDR3.tck_ns / 1000  # 10,000 x 4 x 1.25 ns = 50 us
    assert bound_us == 50.0
    # the run ends when the refreshes still owed are done: tRFC each after the last response
    owed_us = m["owed_ref_count"] * DDR3.t["RFC"] * DDR3.tck_ns / 1000
    assert bound_us + owed_us <= m["total_time_us"] <= 1.01 * bound_us + owed_us
    assert m["bandwidth_gbps"] == pytest.approx(64 / (4 * 1.25), rel=0.02)  # 12.8 GB/s peak


def test_random_respects_bank_parallelism_bound(models):
    t = DDR3.t
    per_act = max(t["FAW"] / 4, t["RRD_S"], t["RC"] / DDR3.banks, t["BURST"])  # tFAW/4 = 6 cycles
    bound_us = N * per_act * DDR3.tck_ns / 1000  # 75 us: every random read needs its own ACT
    for knobs in ({}, {"page": CLOSED}, {"sched": FRFCFS, "buf": 128, "sbuf": BANKWISE}):
        m = metrics(models["random"], **knobs)
        assert m["total_time_us"] >= bound_us
        assert m["row_hit_rate"] < 0.01


def test_row_hit_rates(models):
    assert metrics(models["stream"])["row_hit_rate"] == pytest.approx(127 / 128, abs=1e-3)
    assert metrics(models["stream"], page=CLOSED)["row_hit_rate"] == 0.0
    assert metrics(models["random"])["row_hit_rate"] < 0.01
    assert 0.3 < metrics(models["cloud1"])["row_hit_rate"] < 0.7


# --- metamorphic laws --------------------------------------------------------------------------------
SWEEP = list(itertools.product(range(4), range(3), range(3), (1, 8, 64), (0, 1), (1, 8), (1, 8), range(3),
                               (4, 128)))


def _cfg(page, sched, sbuf, buf, respq, maxpost, maxpull, arb, maxact, refresh=1):
    return np.array([page, sched, sbuf, buf, respq, refresh, maxpost, maxpull, arb, maxact], np.int64)


def test_norefresh_never_uses_more_energy(models):  # the what-if kept in the ArchGym space
    rng = np.random.default_rng(0)
    for name in ("stream", "random", "cloud1"):
        for k in rng.choice(len(SWEEP), 60, replace=False):
            knobs = SWEEP[k]
            e_ref = models[name]._metrics(_cfg(*knobs, refresh=1))[METRICS.index("energy_uj")]
            e_none = models[name]._metrics(_cfg(*knobs, refresh=0))[METRICS.index("energy_uj")]
            assert e_none <= e_ref + 1e-9, (name, knobs)


def test_closed_page_never_faster_than_open_on_stream(models):
    rng = np.random.default_rng(1)
    for k in rng.choice(len(SWEEP), 120, replace=False):
        _, *rest = SWEEP[k]
        t_open = models["stream"]._metrics(_cfg(OPEN, *rest))[0]
        t_closed = models["stream"]._metrics(_cfg(CLOSED, *rest))[0]
        assert t_closed >= t_open, rest


@pytest.mark.parametrize("page,sbuf", list(itertools.product(range(4), range(3))))
def test_frfcfs_never_slower_than_fifo_on_mixed_trace(models, page, sbuf):
    # Deep buffers (>= 16) and responses in completion order. With in-order responses (RespQueue or
    # Arbiter Reorder) FR-FCFS can starve an old row miss that then holds back every later response,
    # as in DRAMSys, which has no starvation cap.
    for buf, refresh, arb in itertools.product((16, 64, 128), (0, 1), (0, 1)):
        fifo = models["mixed"]._metrics(_cfg(page, FIFO, sbuf, buf, 0, 8, 8, arb, 128, refresh))
        frfcfs = models["mixed"]._metrics(_cfg(page, FRFCFS, sbuf, buf, 0, 8, 8, arb, 128, refresh))
        assert frfcfs[0] <= fifo[0] and frfcfs[1] <= fifo[1]


def test_frfcfs_on_phase_traces_is_within_end_effects(models):
    # cloud traces alternate whole phases, so a bank rarely holds a row hit behind a miss: FR-FCFS
    # finds almost nothing to reorder, and total time differs by end effects of a few cycles.
    for name in ("cloud1", "cloud2"):
        for page, sbuf, buf in itertools.product(range(4), range(3), (16, 128)):
            fifo = models[name]._metrics(_cfg(page, FIFO, sbuf, buf, 0, 8, 8, 1, 128))
            frfcfs = models[name]._metrics(_cfg(page, FRFCFS, sbuf, buf, 0, 8, 8, 1, 128))
            assert frfcfs[0] <= fifo[0] * 1.005


@pytest.mark.parametrize("page,sbuf", list(itertools.product(range(4), range(3))))
def test_deeper_buffer_never_slower_with_fifo_on_random(models, page, sbuf):
    # The Reorder arbiter is left out: with in-order responses a deeper buffer lets younger requests
    # overtake the oldest, whose late response then gates the transaction window (a real effect).
    for respq, refresh, arb, maxact in ((0, 1, 0, 128), (0, 0, 1, 32), (0, 1, 1, 128), (1, 1, 0, 128)):
        times = [models["random"]._metrics(_cfg(page, FIFO, sbuf, buf, respq, 8, 8, arb, maxact, refresh))[0]
                 for buf in (1, 2, 4, 8, 16, 32, 64, 128)]
        assert all(b <= a for a, b in zip(times, times[1:])), times


# --- each knob does what DRAMSys documents ------------------------------------------------------------
def test_page_policies(models):
    s, r = models["stream"], models["random"]
    # stream: OpenAdaptive never precharges (the next queued request of the bank is a hit)
    assert metrics(s, page=OPEN_ADAPTIVE)["total_time_us"] == metrics(s)["total_time_us"]
    # Closed re-activates every row: no hits, 9x slower and 5x the energy on stream
    assert metrics(s, page=CLOSED)["total_time_us"] > 5 * metrics(s)["total_time_us"]
    # ClosedAdaptive keeps the row while hits are queued, so stream still streams
    assert metrics(s, page=CLOSED_ADAPTIVE)["total_time_us"] < 1.01 * metrics(s)["total_time_us"]
    # random: closing early hides tRP, so Closed beats Open; OpenAdaptive sits in between
    t = {p: metrics(r, page=p)["total_time_us"] for p in range(4)}
    assert t[CLOSED] < t[OPEN_ADAPTIVE] <= t[OPEN] and t[CLOSED_ADAPTIVE] == t[CLOSED]


def test_power_alone_picks_closed_page(models):
    # ArchGym's pitfall: Closed draws less average power but costs far more energy and time.
    o, c = metrics(models["stream"]), metrics(models["stream"], page=CLOSED)
    assert c["avg_power_w"] < o["avg_power_w"]
    assert c["energy_uj"] > 4 * o["energy_uj"] and c["total_time_us"] > 5 * o["total_time_us"]


def test_frfcfs_grp_groups_reads_and_writes():
    m = DramModel(T.rw_mix(N, 0.5, "stream"))
    t = {s: metrics(m, sched=s, sbuf=SHARED, buf=32)["total_time_us"] for s in range(3)}
    # Fifo and FrFcfs turn the bus around for every read/write switch; grouping removes most
    assert t[FIFO] == t[FRFCFS] and t[FRFCFS_GRP] < 0.6 * t[FRFCFS]


def test_scheduler_buffers(models):
    r = models["random"]
    # Bankwise holds RequestBufferSize per bank (8x Shared): more banks work in parallel
    assert metrics(r, sbuf=BANKWISE, buf=4)["total_time_us"] < metrics(r, sbuf=SHARED, buf=4)["total_time_us"]
    # ReadWrite on a read-only trace has exactly Shared's read capacity: no effect, by construction
    for buf in (1, 8, 64):
        assert metrics(r, sbuf=READWRITE, buf=buf) == metrics(r, sbuf=SHARED, buf=buf)


def test_resp_queue_reorder_only_matters_when_order_changes(models):
    # in-order single-bank stream: completion order is request order, so Reorder changes nothing
    one_bank = DramModel(pd.DataFrame({"cycle": np.arange(2000), "is_write": False,
                                       "address": (np.arange(2000) * 64) % 8192}))
    for sched in range(3):
        assert metrics(one_bank, respq=1, sched=sched) == metrics(one_bank, respq=0, sched=sched)
    # FR-FCFS on the mixed trace completes out of order: restoring order raises the latency
    fifo = metrics(models["mixed"], sched=FRFCFS, buf=64, sbuf=BANKWISE, arb=0)
    reorder = metrics(models["mixed"], sched=FRFCFS, buf=64, sbuf=BANKWISE, arb=0, respq=1)
    assert reorder["avg_latency_ns"] > fifo["avg_latency_ns"]


def test_arbiters_and_max_active_transactions(models):
    for name in ("stream", "random"):
        m = models[name]
        # Simple has no transaction limit (DRAMSys: MaxActiveTransactions applies to Fifo/Reorder)
        assert len({metrics(m, arb=0, maxact=a)["total_time_us"] for a in (1, 4, 128)}) == 1
        # Fifo: more outstanding transactions are never slower; one at a time is latency-bound
        times = [metrics(m, arb=1, maxact=a)["total_time_us"] for a in (1, 2, 4, 8, 16, 32, 64, 128)]
        assert all(b <= a for a, b in zip(times, times[1:]))
        assert times[0] > 3 * times[-1]
        # Reorder arbiter == Fifo arbiter with RespQueue Reorder: one initiator, one channel
        assert metrics(m, arb=2, maxact=16) == metrics(m, arb=1, maxact=16, respq=1)


def test_refresh_postponing_and_pulling_in(models):
    s = models["stream"]
    # stream lasts ~6.5 tREFI and keeps a bank busy: with 8 allowed, every refresh is postponed, and
    # the 6 still owed when the last response leaves are charged then (energy and tRFC each)
    post8 = metrics(s, maxpost=8)
    assert post8["owed_ref_count"] == post8["ref_count"] == 6
    assert post8["energy_uj"] > metrics(s, refresh=0)["energy_uj"] + 6 * command_energies_nj(DDR3)["ref"] / 1000
    due = [metrics(s, maxpost=p) for p in (1, 2, 4, 8)]
    assert all(m["ref_count"] >= 6 for m in due)  # floor(50.7 us / 7.8 us) refreshes fall due
    lat = [m["avg_latency_ns"] for m in due]
    assert lat == sorted(lat, reverse=True) and lat[-1] < lat[0]  # postponing keeps them off the stream
    # bursts of random reads with long idle gaps: pulled-in refreshes during idle spare the bursts
    parts = [T.random(4000, seed=k).assign(cycle=lambda d, k=k: d["cycle"] + k * 104_000) for k in range(3)]
    bursty = DramModel(pd.concat(parts, ignore_index=True))
    lat = [metrics(bursty, maxpost=1, maxpull=p)["avg_latency_ns"] for p in (1, 2, 4, 8)]
    cnt = [metrics(bursty, maxpost=1, maxpull=p)["ref_count"] for p in (1, 2, 4, 8)]
    assert lat == sorted(lat, reverse=True) and lat[-1] < lat[0]
    assert cnt == sorted(cnt) and cnt[-1] > cnt[0]


# --- plumbing -----------------------------------------------------------------------------------------
def test_batch_equals_single_and_cache():
    space = make_space()
    designs = space.sample(12, seed=4)
    model = DramModel("cloud2", n=3000)
    batch = model(space.to_frame(designs))
    for i, d in enumerate(designs):
        single = model(space.to_frame([d]))
        pd.testing.assert_frame_equal(single, batch.iloc[[i]].reset_index(drop=True))
    assert list(batch.columns) == list(METRICS)
    assert (batch["total_time_us"] > 0).all() and batch.notna().all().all()


@pytest.mark.parametrize("memory", sorted(DEVICES))
def test_every_device_runs_and_is_plausible(memory):
    dev = get_device(memory)
    out = simulate([DEFAULT, {"PagePolicy": "Closed"}], trace="stream", memory=memory, n=4000, details=True).iloc[0]
    # bandwidth while serving, without the refreshes still owed at the end (charged after it)
    out["bandwidth_gbps"] = 4000 * 64 / ((out["end_cycles"] - out["owed_ref_count"] * dev.t["RFC"]) * dev.tck_ns)
    peak = dev.burst_bytes / (dev.t["BURST"] * dev.tck_ns)  # GB/s
    # a stream stays 128 requests in one bank: same-group reads are tCCD_L apart on DDR4
    in_bank = dev.burst_bytes / (max(dev.t["BURST"], dev.t["CCD_L"]) * dev.tck_ns)
    assert 0.95 * in_bank < out["bandwidth_gbps"] <= peak
    assert out["row_hit_rate"] > 0.95 and out["energy_uj"] > 0


def test_ddr4_bank_groups_slow_same_group_reads():
    dev = get_device("DDR4-2400")
    # 64 B reads to one row of one bank: tCCD_L (6) apart; alternating groups: tCCD_S (4) apart
    same = pd.DataFrame({"cycle": np.arange(4000), "is_write": False, "address": (np.arange(4000) % 128) * 64})
    alt = pd.DataFrame({"cycle": np.arange(4000), "is_write": False,
                        "address": (np.arange(4000) % 2) * 8192 + (np.arange(4000) // 2 % 128) * 64})
    def serve_us(m):  # time to the last response, without the refreshes owed after it
        return (m["end_cycles"] - m["owed_ref_count"] * dev.t["RFC"]) * dev.tck_ns / 1000
    t_same = serve_us(metrics(DramModel(same, dev), sbuf=SHARED, buf=16))
    t_alt = serve_us(metrics(DramModel(alt, dev), sbuf=SHARED, buf=16))
    assert t_same == pytest.approx(4000 * 6 * dev.tck_ns / 1000, rel=0.02)
    assert t_alt == pytest.approx(4000 * 4 * dev.tck_ns / 1000, rel=0.02)


# --- refresh charged honestly, idle time, traces at the edges (issue 9) -------------------------------
def test_owed_refreshes_make_postponing_cost_what_refreshing_costs(models):
    # energy: postponing all refreshes past the end no longer saves their energy (within 1%)
    for name in ("stream", "random"):
        e = [metrics(models[name], maxpost=p)["energy_uj"] for p in (1, 8)]
        assert e[1] == pytest.approx(e[0], rel=0.01)
        assert metrics(models[name], refresh=0)["energy_uj"] < min(e)


def test_huge_idle_gap_is_skipped_with_refreshes_counted():
    gap = 4611686018427387904  # 2**62 trace cycles: ~183 years at 800 MHz
    tr = pd.DataFrame({"cycle": [0, gap], "is_write": False, "address": [0, 64]})
    m = metrics(DramModel(tr))
    # one REF per tREFI while idle, charged in closed form (the loop would never finish otherwise)
    assert m["ref_count"] == pytest.approx(gap / DDR3.t["REFI"], rel=1e-6)
    assert m["avg_latency_ns"] < 100 and np.isfinite(m["energy_uj"])
    with pytest.raises(Exception, match="2\\*\\*62"):
        DramModel(tr.assign(cycle=[0, 1 << 62]), "DDR4-2400")  # 1.5x the clock: beyond the range


def test_addresses_beyond_capacity_drop_high_bits_with_a_warning(tmp_path):
    path = tmp_path / "hi.stl"
    path.write_text("0:\tread\t0x8000000000000000\n1:\tread\t0x40\n")
    with pytest.warns(T.TraceWarning, match="high bits are dropped"):
        model = DramModel(str(path))
    assert model.bank.tolist() == [0, 0] and model.row.tolist() == [0, 0] and model.col.tolist() == [0, 8]


def test_out_of_order_timestamps_warn_and_issue_in_trace_order():
    tr = pd.DataFrame({"cycle": [10, 5, 20], "is_write": False, "address": [0, 64, 128]})
    with pytest.warns(T.TraceWarning, match="timestamped before"):
        model = DramModel(tr)
    assert model.arr.tolist() == [10, 10, 20]


@pytest.mark.parametrize("kwargs,match", [
    ({"trace_clk_mhz": 0}, "trace_clk_mhz must be a positive finite number"),
    ({"trace_clk_mhz": float("nan")}, "trace_clk_mhz"),
    ({"trace_clk_mhz": "NaN"}, "trace_clk_mhz"),
    ({"n": -5}, "n must be a whole number of at least 1"),
    ({"n": 2.5}, "n must be"),
    ({"seed": -1}, "seed must be"),
])
def test_model_options_are_checked(kwargs, match):
    from dsegym.errors import ConfigError
    with pytest.raises(ConfigError, match=match):
        DramModel("stream", **kwargs)


def test_cache_is_keyed_by_device_spec_and_bounded():
    import dataclasses

    from dsegym.envs.dram.model import ResultCache
    tr = T.make_trace("random", n=500)
    slow = dataclasses.replace(DDR3, t={**DDR3.t, "RCD": 20})  # same name, different timings
    a, b = metrics(DramModel(tr, DDR3)), metrics(DramModel(tr, slow))
    assert b["avg_latency_ns"] > a["avg_latency_ns"]
    cache = ResultCache(max_entries=3, max_bytes=1 << 20)
    for k in range(10):
        cache.put(("k", k), (1.0, 2.0))
    assert len(cache) == 3 and cache.get(("k", 9)) == (1.0, 2.0) and cache.get(("k", 0)) is None
    small = ResultCache(max_entries=100, max_bytes=2000)
    for k in range(100):
        small.put(("k", k), tuple(range(20)))
    assert small.nbytes <= 2000 and len(small) < 100


def test_ddr4_charges_the_vpp_rail():
    dev = get_device("DDR4-2400")
    e = command_energies_nj(dev)
    # DRAMSys memspec / DRAMPower: IPP0 4.05 mA at VPP 2.5 V over tRC, 8 dies, on top of VDD
    vpp_nj = 4.05 * dev.t["RC"] * dev.tck_ns * 2.5 * 8 / 1000
    vdd_nj = ((60.75 - 44.0) * dev.t["RAS"] + (60.75 - 38.25) * (dev.t["RC"] - dev.t["RAS"])) * dev.tck_ns * 1.2 * 8 / 1000
    assert e["act"] + e["pre"] == pytest.approx(vdd_nj + vpp_nj)
