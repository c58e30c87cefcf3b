"""Batch simulation: decode a trace once, run the controller kernel per design, cache the results.

The env step and the batch path are the same call: ``DramModel(trace, memory)(designs_frame)``.
Results are cached by (device, trace hash, clock, configuration), so agents revisiting a design
cost nothing.

>>> from dsegym.envs.dram.space import DEFAULT
>>> out = simulate([DEFAULT], trace="stream", n=1024)
>>> round(float(out["row_hit_rate"][0]), 4), round(float(out["bandwidth_gbps"][0]), 1)
(0.9922, 12.7)
"""
from __future__ import annotations

from collections import OrderedDict
import numpy as np
import pandas as pd

from dsegym.errors import InvalidDesignError

from . import controller as K
from .devices import DramDevice, get_device
from .power import energy_uj
from .space import KNOBS, NAMES
from .traces import REQUEST_BYTES, as_trace, trace_hash

METRICS = ("total_time_us", "avg_latency_ns", "p99_latency_ns", "bandwidth_gbps", "energy_uj",
           "avg_power_w", "row_hit_rate", "row_conflict_rate")
DETAILS = ("act_count", "pre_count", "rd_count", "wr_count", "ref_count", "active_cycles", "end_cycles")
_CACHE_SIZE = 200_000
_CACHE: OrderedDict = OrderedDict()


def decode(address: np.ndarray, dev: DramDevice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bank, row, column) of byte addresses under the device's row-bank-column map, vectorised.

    Addresses beyond the capacity wrap around (DRAMSys warns and ignores the high bits too).
    """
    a = np.asarray(address, dtype=np.int64) % dev.capacity_bytes
    f = dev.address_bits
    field = lambda name: (a >> f[name][0]) & ((1 << f[name][1]) - 1)  # noqa: E731
    return field("bank"), field("row"), field("column")


def config_matrix(designs) -> np.ndarray:
    """(n, 10) int64 kernel configurations: choice indices for categorical knobs, sizes for numbers."""
    frame = designs if isinstance(designs, pd.DataFrame) else pd.DataFrame(list(designs))
    out = np.empty((len(frame), len(KNOBS)), dtype=np.int64)
    for k, (name, choices, _, _) in enumerate(KNOBS):
        if name not in frame.columns:
            raise InvalidDesignError(f"design is missing '{name}'; parameters: {', '.join(NAMES)}")
        col = frame[name].to_numpy()
        if isinstance(choices[0], int):
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
    trace's cycles count (ArchGym: 800 MHz).
    """

    def __init__(self, trace="stream", memory: str | DramDevice = "DDR3-1600", trace_clk_mhz: float = 800.0,
                 n: int = 10_000, seed: int | None = None, details: bool = False):
        self.device = get_device(memory)
        self.trace = as_trace(trace, n=n, seed=seed)
        self.trace_clk_mhz = float(trace_clk_mhz)
        self.details = details
        self.key = (self.device.name, trace_hash(self.trace), self.trace_clk_mhz)
        dev = self.device
        cycles = self.trace["cycle"].to_numpy()
        # issue times in DRAM cycles (ceil: a request cannot be seen before it is issued)
        ratio = dev.clk_mhz / self.trace_clk_mhz
        self.arr = np.ceil(cycles * ratio - 1e-9).astype(np.int64)
        self.arr = np.maximum.accumulate(self.arr)  # the player issues in file order
        self.isw = self.trace["is_write"].to_numpy().astype(np.bool_)
        self.bank, self.row, self.col = decode(self.trace["address"].to_numpy(), dev)
        self.tim = K.timing_vector(dev.t, dev.banks, dev.bank_groups)

    @property
    def n_requests(self) -> int:
        return len(self.arr)

    def run_one(self, cfg: np.ndarray) -> dict:
        """Kernel outputs for one configuration vector (no caching)."""
        deliver, stats, acted = K.run(self.arr, self.isw, self.bank, self.row, self.col,
                                      np.ascontiguousarray(cfg, dtype=np.int64), self.tim)
        if stats[K.S_STATUS] != 0:
            raise RuntimeError(f"DRAM controller deadlocked on configuration {cfg.tolist()}")
        return {"deliver": deliver, "stats": stats, "acted": acted}

    def _metrics(self, cfg: np.ndarray) -> tuple:
        key = self.key + (tuple(cfg.tolist()),)
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
        out = self.run_one(cfg)
        s = out["stats"]
        dev, n = self.device, self.n_requests
        tck = dev.tck_ns
        lat = (out["deliver"] - self.arr) * tck
        end = int(s[K.S_END])
        counts = np.array([[s[K.S_ACT], s[K.S_PRE], s[K.S_RD], s[K.S_WR], s[K.S_REF]]])
        e_uj = float(energy_uj(dev, counts, [s[K.S_ACTIVE]], [end])[0])
        time_us = end * tck / 1000.0
        row = (time_us, float(lat.mean()), float(np.percentile(lat, 99)),
               n * REQUEST_BYTES / (end * tck), e_uj, e_uj / time_us,
               1.0 - float(out["acted"].sum()) / n, float(s[K.S_CONFLICT]) / n,
               *counts[0].tolist(), int(s[K.S_ACTIVE]), end)
        _CACHE[key] = row
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return row

    def __call__(self, designs) -> pd.DataFrame:
        cfgs = config_matrix(designs)
        rows = [self._metrics(c) for c in cfgs]
        cols = METRICS + DETAILS if self.details else METRICS
        data = np.array(rows, dtype=np.float64).reshape(len(rows), len(METRICS) + len(DETAILS))
        return pd.DataFrame(data[:, :len(cols)], columns=list(cols))


def simulate(designs, trace="stream", memory: str | DramDevice = "DDR3-1600", trace_clk_mhz: float = 800.0,
             n: int = 10_000, seed: int | None = None, details: bool = False) -> pd.DataFrame:
    """Metrics of many controller designs (list of dicts or DataFrame) on one trace and device."""
    from .space import make_space
    frame = make_space().to_frame(designs)  # fills defaults, rejects unknown values
    return DramModel(trace, memory, trace_clk_mhz, n=n, seed=seed, details=details)(frame)


def clear_cache() -> None:
    _CACHE.clear()
