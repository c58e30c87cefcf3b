"""Batch simulation: decode a trace once, run the controller kernel per design, cache the results.

The env step and the batch path are the same call: ``DramModel(trace, memory)(designs_frame)``.
Results are cached by (hash of the full device spec, trace hash, clock, configuration), in a
bounded, thread-safe table, so agents revisiting a design cost nothing.

Refresh is charged honestly: refreshes the controller postponed and still owes when the last
response leaves are issued then, so their energy and the time they block the channel count in
``energy_uj`` and ``total_time_us`` (per-request latencies are unaffected: every request is done).
``RefreshPolicy=NoRefresh`` is a what-if (a controller that loses data) and is only in the
ArchGym-comparable space.

>>> from dsegym.envs.dram.space import DEFAULT
>>> out = simulate([DEFAULT], trace="stream", n=1024)
>>> round(float(out["row_hit_rate"][0]), 4), round(float(out["bandwidth_gbps"][0]), 1)
(0.9922, 12.7)
"""
from __future__ import annotations

import hashlib
import math
import numbers
import sys
import threading
import warnings
from collections import OrderedDict

import numpy as np
import pandas as pd

from dsegym.errors import ConfigError, InvalidDesignError

from . import controller as K
from .cost import controller_cost
from .devices import DramDevice, get_device
from .power import energy_uj
from .space import DEFAULT, KNOBS, NAMES
from .traces import REQUEST_BYTES, TraceWarning, as_trace, trace_hash

METRICS = ("total_time_us", "avg_latency_ns", "p99_latency_ns", "bandwidth_gbps", "energy_uj",
           "avg_power_w", "row_hit_rate", "row_conflict_rate", "ctrl_area_mm2", "ctrl_leakage_mw")
DETAILS = ("act_count", "pre_count", "rd_count", "wr_count", "ref_count", "owed_ref_count",
           "active_cycles", "end_cycles")


# --- option checks (every factory option gets one clear error) ---------------------------------------
def check_positive_number(name: str, value, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (or >= 0), else ConfigError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)) \
            or float(value) < 0 or (float(value) == 0 and not allow_zero):
        raise ConfigError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} finite number; "
                          f"got {value!r}")
    return float(value)


def check_count(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int in [minimum, maximum], else ConfigError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum \
            or (maximum is not None and value > maximum):
        hi = "" if maximum is None else f" and at most {maximum}"
        raise ConfigError(f"{name} must be a whole number of at least {minimum}{hi}; got {value!r}")
    return int(value)


# --- results cache ---------------------------------------------------------------------------------
class ResultCache:
    """A bounded LRU map (entries and bytes) guarded by a lock, shared by every DramModel."""

    def __init__(self, max_entries: int = 100_000, max_bytes: int = 64 << 20):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._data: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def _size(key, row) -> int:
        return sys.getsizeof(key) + sys.getsizeof(row) + 24 * (len(row) + len(key))

    def get(self, key):
        with self._lock:
            row = self._data.get(key)
            if row is not None:
                self._data.move_to_end(key)
            return row

    def put(self, key, row) -> None:
        with self._lock:
            if key in self._data:
                return
            self._data[key] = row
            self._bytes += self._size(key, row)
            while len(self._data) > self.max_entries or self._bytes > self.max_bytes:
                k, r = self._data.popitem(last=False)
                self._bytes -= self._size(k, r)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def nbytes(self) -> int:
        return self._bytes


CACHE = ResultCache()


def device_hash(dev: DramDevice) -> str:
    """Hash of every field of a device (timings, currents, geometry), not just its name."""
    return hashlib.blake2b(repr(dev).encode(), digest_size=8).hexdigest()


# --- first-use compile notice ------------------------------------------------------------------------
_compile_lock = threading.Lock()
_kernel_ready = False


def _run_kernel(*args):
    """K.run, saying on stderr what happens if the first call stalls (numba compiling, ~20 s once)."""
    global _kernel_ready
    if _kernel_ready:
        return K.run(*args)
    with _compile_lock:
        # loading from numba's disk cache takes ~3 s; only a real compile (~20 s) passes 5 s
        timer = threading.Timer(5.0, lambda: print(
            "dsegym: compiling the DRAM controller kernel with numba (once, about 20 s; "
            "numba caches it on disk for later runs)", file=sys.stderr, flush=True))
        timer.daemon = True
        timer.start()
        try:
            out = K.run(*args)
        finally:
            timer.cancel()
        _kernel_ready = True
        return out


# --- decoding ----------------------------------------------------------------------------------------
def decode(address: np.ndarray, dev: DramDevice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bank, row, column) of byte addresses under the device's row-bank-column map, vectorised.

    Bits above the capacity are dropped, as DRAMSys' address decoder does (the model warns).
    """
    a = (np.asarray(address).astype(np.uint64) % np.uint64(dev.capacity_bytes)).astype(np.int64)
    f = dev.address_bits
    field = lambda name: (a >> f[name][0]) & ((1 << f[name][1]) - 1)
    return field("bank"), field("row"), field("column")


def config_matrix(designs, fixed: dict | None = None) -> np.ndarray:
    """(n, 10) int64 kernel configurations: choice indices for categorical knobs, sizes for numbers.

    Knobs missing from ``designs`` take their value from ``fixed`` (a problem's fixed knobs).
    """
    frame = designs if isinstance(designs, pd.DataFrame) else pd.DataFrame(list(designs))
    fixed = fixed or {}
    out = np.empty((len(frame), len(KNOBS)), dtype=np.int64)
    for k, (name, choices, _, _) in enumerate(KNOBS):
        if name in frame.columns:
            col = frame[name].to_numpy()
        elif name in fixed:
            col = np.full(len(frame), fixed[name], dtype=object)
        else:
            raise InvalidDesignError(f"design is missing '{name}'; parameters: {', '.join(NAMES)}")
        if isinstance(choices[0], int):
            bad = [v for v in col if v not in choices]
            if bad:
                raise InvalidDesignError(f"{name} must be one of {', '.join(map(str, choices))}; got {bad[0]!r}")
            out[:, k] = col.astype(np.int64)
        else:
            lookup = {c: i for i, c in enumerate(choices)}
            try:
                out[:, k] = [lookup[v] for v in col]
            except KeyError as exc:
                raise InvalidDesignError(f"{name} must be one of {', '.join(choices)}; got {exc.args[0]!r}") from None
    return out


class DramModel:
    """A trace decoded for one device; calling it with designs returns one metrics row per design.

    ``trace`` is a DataFrame, a file path or a generator name; ``trace_clk_mhz`` is the clock the
    trace's cycles count (ArchGym: 800 MHz). ``fixed`` gives the knobs a problem does not search.
    Requests whose timestamp is earlier than a previous one's issue in file order as soon as
    possible (DRAMSys' player does the same) and addresses beyond the device's capacity lose their
    high bits; both raise a :class:`~dsegym.envs.dram.traces.TraceWarning`.
    """

    def __init__(self, trace="stream", memory: str | DramDevice = "DDR3-1600", trace_clk_mhz: float = 800.0,
                 n: int = 10_000, seed: int | None = None, details: bool = False, fixed: dict | None = None):
        self.device = dev = get_device(memory)
        n = check_count("n", n, 1, 10_000_000)
        if seed is not None:
            seed = check_count("seed", seed, 0)
        self.trace_clk_mhz = check_positive_number("trace_clk_mhz", trace_clk_mhz)
        self.trace = as_trace(trace, n=n, seed=seed)
        self.details = bool(details)
        self.fixed = dict(DEFAULT if fixed is None else fixed)
        self.key = (device_hash(dev), trace_hash(self.trace), self.trace_clk_mhz)
        cycles = self.trace["cycle"].to_numpy()
        # issue times in DRAM cycles (ceil: a request cannot be seen before it is issued)
        ratio = dev.clk_mhz / self.trace_clk_mhz
        dram_cycles = np.ceil(cycles.astype(np.float64) * ratio - 1e-9)
        if dram_cycles.max() > float(K.MAX_CYCLE):
            i = int(np.argmax(dram_cycles > float(K.MAX_CYCLE)))
            raise ConfigError(f"request {i} issues at trace cycle {int(cycles[i])}, beyond the 2**62 {dev.name} "
                              f"cycles the model covers at trace_clk_mhz={self.trace_clk_mhz:g}")
        arr = dram_cycles.astype(np.int64)
        late = np.flatnonzero(np.diff(arr) < 0)
        if late.size:
            warnings.warn(f"{late.size} trace requests are timestamped before an earlier request (first: "
                          f"request {late[0] + 1}); they issue in trace order as soon as possible, as "
                          f"DRAMSys' trace player does", TraceWarning, stacklevel=2)
        self.arr = np.maximum.accumulate(arr)
        beyond = self.trace["address"].to_numpy() >= np.uint64(dev.capacity_bytes)
        if beyond.any():
            warnings.warn(f"{int(beyond.sum())} trace addresses lie beyond the {dev.capacity_bytes >> 20} MiB "
                          f"of {dev.name} (first: request {int(np.argmax(beyond))}); their high bits are dropped, "
                          f"as DRAMSys' address decoder does", TraceWarning, stacklevel=2)
        self.isw = self.trace["is_write"].to_numpy().astype(np.bool_)
        self.bank, self.row, self.col = decode(self.trace["address"].to_numpy(), dev)
        self.tim = K.timing_vector(dev.t, dev.banks, dev.bank_groups)

    @property
    def n_requests(self) -> int:
        return len(self.arr)

    def run_one(self, cfg: np.ndarray) -> dict:
        """Kernel outputs for one configuration vector (no caching)."""
        deliver, stats, acted = _run_kernel(self.arr, self.isw, self.bank, self.row, self.col,
                                            np.ascontiguousarray(cfg, dtype=np.int64), self.tim)
        if stats[K.S_STATUS] != 0:
            raise RuntimeError(f"DRAM controller deadlocked on configuration {cfg.tolist()}")
        return {"deliver": deliver, "stats": stats, "acted": acted}

    def _metrics(self, cfg: np.ndarray) -> tuple:
        key = self.key + (tuple(cfg.tolist()),)
        hit = CACHE.get(key)
        if hit is not None:
            return hit
        out = self.run_one(cfg)
        s = out["stats"]
        dev, n = self.device, self.n_requests
        tck = dev.tck_ns
        lat = (out["deliver"] - self.arr) * tck
        owed = int(s[K.S_OWED])
        # refreshes still owed at the end are issued then: their energy and the time they block count
        end = int(s[K.S_END]) + owed * dev.t["RFC"]
        counts = np.array([[s[K.S_ACT], s[K.S_PRE], s[K.S_RD], s[K.S_WR], s[K.S_REF] + owed]])
        e_uj = float(energy_uj(dev, counts, [s[K.S_ACTIVE]], [end])[0])
        time_us = end * tck / 1000.0
        area, leak = controller_cost(cfg[None, :], dev)
        row = (time_us, float(lat.mean()), float(np.percentile(lat, 99)),
               n * REQUEST_BYTES / (end * tck), e_uj, e_uj / time_us,
               1.0 - float(out["acted"].sum()) / n, float(s[K.S_CONFLICT]) / n, float(area[0]), float(leak[0]),
               *counts[0].tolist(), owed, int(s[K.S_ACTIVE]), end)
        CACHE.put(key, row)
        return row

    def __call__(self, designs) -> pd.DataFrame:
        cfgs = config_matrix(designs, self.fixed)
        rows = [self._metrics(c) for c in cfgs]
        cols = METRICS + DETAILS if self.details else METRICS
        data = np.array(rows, dtype=np.float64).reshape(len(rows), len(METRICS) + len(DETAILS))
        return pd.DataFrame(data[:, :len(cols)], columns=list(cols))


def simulate(designs, trace="stream", memory: str | DramDevice = "DDR3-1600", trace_clk_mhz: float = 800.0,
             n: int = 10_000, seed: int | None = None, details: bool = False) -> pd.DataFrame:
    """Metrics of many controller designs (list of dicts or DataFrame, all ten knobs; missing ones take
    DRAMSys' example values) on one trace and device."""
    from .space import make_space
    frame = make_space().to_frame(designs)  # fills defaults, rejects unknown values
    return DramModel(trace, memory, trace_clk_mhz, n=n, seed=seed, details=details)(frame)


def clear_cache() -> None:
    CACHE.clear()
