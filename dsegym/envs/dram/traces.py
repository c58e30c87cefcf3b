"""Memory traces: seeded generators and loaders for DRAMSys ``.stl`` and Ramulator files.

A trace is a DataFrame with columns ``cycle`` (int64, issue cycle of the initiator's clock),
``is_write`` (bool) and ``address`` (int64 byte address); every row is one 64-byte request. The
ArchGym traces issue one request per cycle at 800 MHz, so ``cycle`` counts 1.25 ns steps there.

>>> tr = make_trace("stream", n=4)
>>> tr["address"].tolist(), tr["cycle"].tolist()
([0, 64, 128, 192], [0, 1, 2, 3])
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "t.stl")
>>> save_stl(tr, path)
>>> load_trace(path).equals(tr)
True

File formats
------------
DRAMSys ``.stl``: ``CYCLE: [(LENGTH)] read|write 0xADDRESS [0xDATA]``; ``#`` starts a comment. The
optional length is accepted and ignored (each line is one 64-byte request). ``.rstl`` files hold
cycles relative to the previous line; they are summed into absolute cycles.

Ramulator: both of its trace forms are read, detected per file from the first data line:
- DRAM trace ("memory" mode): ``0xADDRESS R|W`` one request per line, issued one per cycle;
- CPU trace: ``BUBBLES ADDRESS [WRITEBACK_ADDRESS]``; BUBBLES non-memory instructions come before
  the read of ADDRESS, so the read issues BUBBLES + 1 cycles after the previous request, and an
  optional write-back of WRITEBACK_ADDRESS follows one cycle after the read.
Addresses may be hex (``0x``) or decimal. ``save_ramulator`` writes the DRAM-trace form.
"""
from __future__ import annotations

import hashlib
import os
import re

import numpy as np
import pandas as pd

from dsegym.errors import ConfigError, TraceFormatError, UnknownIdError

REQUEST_BYTES = 64
GIB = 1 << 30
COLUMNS = ("cycle", "is_write", "address")


def _frame(cycle, is_write, address) -> pd.DataFrame:
    return pd.DataFrame({"cycle": np.asarray(cycle, dtype=np.int64),
                         "is_write": np.asarray(is_write, dtype=bool),
                         "address": np.asarray(address, dtype=np.int64)})


# --- generators -------------------------------------------------------------------------------------
def stream(n: int = 10_000, start: int = 0, stride: int = REQUEST_BYTES, interval: int = 1,
           write_fraction: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Sequential requests from ``start``, ``stride`` bytes apart (ArchGym's stream trace)."""
    addr = start + stride * np.arange(n, dtype=np.int64)
    return _frame(interval * np.arange(n), _writes(n, write_fraction, seed), addr)


def random(n: int = 10_000, span: int = GIB, interval: int = 1, write_fraction: float = 0.0,
           seed: int = 0) -> pd.DataFrame:
    """Uniform 64-byte-aligned requests in ``[0, span)`` (ArchGym's random trace spans 1 GiB)."""
    rng = np.random.default_rng(seed)
    addr = rng.integers(0, span // REQUEST_BYTES, size=n, dtype=np.int64) * REQUEST_BYTES
    return _frame(interval * np.arange(n), _writes(n, write_fraction, seed + 1), addr)


def strided(n: int = 10_000, stride: int = 8192, start: int = 0, span: int = GIB, interval: int = 1,
            write_fraction: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Requests ``stride`` bytes apart, wrapping at ``span``; 8 KiB strides hit a new bank each time."""
    addr = (start + stride * np.arange(n, dtype=np.int64)) % span
    addr -= addr % REQUEST_BYTES
    return _frame(interval * np.arange(n), _writes(n, write_fraction, seed), addr)


def rw_mix(n: int = 10_000, write_fraction: float = 0.3, pattern: str = "random", seed: int = 0,
           **kw) -> pd.DataFrame:
    """A ``pattern`` trace ("stream" or "random") where ``write_fraction`` of requests are writes."""
    base = {"stream": stream, "random": random}.get(pattern)
    if base is None:
        raise ConfigError(f"rw_mix pattern must be 'stream' or 'random', got {pattern!r}")
    return base(n=n, write_fraction=write_fraction, seed=seed, **kw)


def phases(n: int = 10_000, seq_fraction: float = 0.5, mean_phase: int = 64, span: int = GIB,
           interval: int = 1, write_fraction: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Alternating sequential and random phases, like ArchGym's cloud traces.

    Phase lengths are geometric with mean ``mean_phase`` requests; a phase is sequential with
    probability ``seq_fraction`` (so about that share of requests are sequential). A sequential
    phase streams from a random 64-byte-aligned start; a random phase draws uniformly in ``span``.
    """
    rng = np.random.default_rng(seed)
    lines = span // REQUEST_BYTES
    addr = np.empty(n, dtype=np.int64)
    pos = 0
    while pos < n:
        length = min(int(rng.geometric(1.0 / max(mean_phase, 1))), n - pos)
        if rng.random() < seq_fraction:
            first = int(rng.integers(0, lines))
            addr[pos:pos + length] = (first + np.arange(length)) % lines
        else:
            addr[pos:pos + length] = rng.integers(0, lines, size=length)
        pos += length
    return _frame(interval * np.arange(n), _writes(n, write_fraction, seed + 1), addr * REQUEST_BYTES)


def interleaved(n: int = 10_000, seq_fraction: float = 0.5, span: int = GIB, interval: int = 1,
                write_fraction: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """A sequential stream and uniform random requests interleaved request by request.

    Each request continues the stream with probability ``seq_fraction``, else it is random; the
    random ones land between the stream's row hits, which is where row-hit-first scheduling pays.
    """
    rng = np.random.default_rng(seed)
    seq = rng.random(n) < seq_fraction
    lines = span // REQUEST_BYTES
    addr = np.where(seq, np.cumsum(seq) % lines, rng.integers(0, lines, size=n))
    return _frame(interval * np.arange(n), _writes(n, write_fraction, seed + 1), addr * REQUEST_BYTES)


def _writes(n: int, fraction: float, seed: int) -> np.ndarray:
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"write_fraction must be in [0, 1], got {fraction}")
    if fraction == 0.0:
        return np.zeros(n, dtype=bool)
    return np.random.default_rng(seed).random(n) < fraction


# Named traces; cloud1/cloud2 differ in phase length (short vs long phases), both ~50% sequential.
GENERATORS = {
    "stream": stream,
    "random": random,
    "strided": strided,
    "rwmix": rw_mix,
    "mixed": interleaved,
    "cloud1": lambda n=10_000, seed=1, **kw: phases(n=n, seq_fraction=0.5, mean_phase=32, seed=seed, **kw),
    "cloud2": lambda n=10_000, seed=2, **kw: phases(n=n, seq_fraction=0.5, mean_phase=256, seed=seed, **kw),
}


def make_trace(name: str, n: int = 10_000, **kw) -> pd.DataFrame:
    """A generated trace by name: stream, random, strided, rwmix, mixed, cloud1 or cloud2."""
    if name not in GENERATORS:
        raise UnknownIdError("trace", name, GENERATORS)
    return GENERATORS[name](n=n, **kw)


# --- loaders ----------------------------------------------------------------------------------------
_STL = re.compile(r"^\s*(\d+)\s*:\s*(?:\(\s*(\d+)\s*\)\s*)?(read|write)\s+(0[xX][0-9a-fA-F]+|\d+)"
                  r"(?:\s+(?:0[xX])?[0-9a-fA-F]+)?\s*$", re.IGNORECASE)
_RAM_DRAM = re.compile(r"^\s*(0[xX][0-9a-fA-F]+|\d+)\s+([RrWw])\s*$")
_RAM_CPU = re.compile(r"^\s*(\d+)\s+(0[xX][0-9a-fA-F]+|\d+)(?:\s+(0[xX][0-9a-fA-F]+|\d+))?\s*$")


def _int(text: str) -> int:
    return int(text, 16) if text[:2].lower() == "0x" else int(text)


def _data_lines(path: str):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for lineno, raw in enumerate(fh, start=1):
                line = raw.split("#", 1)[0].strip()
                if line:
                    yield lineno, line
    except FileNotFoundError:
        raise TraceFormatError(f"{path}: no such trace file") from None


def load_stl(path: str, relative: bool | None = None) -> pd.DataFrame:
    """Read a DRAMSys ``.stl`` (absolute cycles) or ``.rstl`` (relative cycles) trace."""
    if relative is None:
        relative = str(path).lower().endswith(".rstl")
    cyc, wr, addr = [], [], []
    for lineno, line in _data_lines(path):
        m = _STL.match(line)
        if m is None:
            raise TraceFormatError(f"{path}:{lineno}: expected 'CYCLE: read|write 0xADDRESS' "
                                   f"(DRAMSys .stl), got {line[:80]!r}")
        cyc.append(int(m.group(1)))
        wr.append(m.group(3).lower() == "write")
        addr.append(_int(m.group(4)))
    if not cyc:
        raise TraceFormatError(f"{path}: the trace holds no requests")
    cycles = np.cumsum(cyc) if relative else np.asarray(cyc)
    return _frame(cycles, wr, addr)


def load_ramulator(path: str) -> pd.DataFrame:
    """Read a Ramulator DRAM trace (``0xADDR R|W``) or CPU trace (``BUBBLES ADDR [WB_ADDR]``)."""
    cyc, wr, addr = [], [], []
    form = None
    now = -1
    for lineno, line in _data_lines(path):
        if form is None:
            form = "dram" if _RAM_DRAM.match(line) else "cpu"
        if form == "dram":
            m = _RAM_DRAM.match(line)
            if m is None:
                raise TraceFormatError(f"{path}:{lineno}: expected '0xADDRESS R|W' (Ramulator DRAM trace), "
                                       f"got {line[:80]!r}")
            now += 1
            cyc.append(now), wr.append(m.group(2) in "Ww"), addr.append(_int(m.group(1)))
        else:
            m = _RAM_CPU.match(line)
            if m is None:
                raise TraceFormatError(f"{path}:{lineno}: expected 'BUBBLES ADDRESS [WRITEBACK_ADDRESS]' "
                                       f"(Ramulator CPU trace), got {line[:80]!r}")
            now += int(m.group(1)) + 1
            cyc.append(now), wr.append(False), addr.append(_int(m.group(2)))
            if m.group(3) is not None:
                now += 1
                cyc.append(now), wr.append(True), addr.append(_int(m.group(3)))
    if not cyc:
        raise TraceFormatError(f"{path}: the trace holds no requests")
    return _frame(cyc, wr, addr)


def load_trace(path: str, format: str | None = None) -> pd.DataFrame:
    """Load a trace file; ``format`` is "stl" or "ramulator", else guessed from the extension and content."""
    path = os.fspath(path)
    if format is None:
        ext = os.path.splitext(path)[1].lower()
        if ext in (".stl", ".rstl"):
            format = "stl"
        else:
            first = next(iter(_data_lines(path)), (0, ""))[1]
            format = "stl" if re.match(r"^\s*\d+\s*:", first) else "ramulator"
    if format == "stl":
        return load_stl(path)
    if format == "ramulator":
        return load_ramulator(path)
    raise ConfigError(f"trace format must be 'stl' or 'ramulator', got {format!r}")


def save_stl(trace: pd.DataFrame, path: str) -> None:
    """Write a trace as a DRAMSys ``.stl`` file (absolute cycles)."""
    trace = as_trace(trace)
    kind = np.where(trace["is_write"].to_numpy(), "write", "read")
    lines = [f"{c}: {k} 0x{a:x}\n" for c, k, a in zip(trace["cycle"].tolist(), kind.tolist(),
                                                       trace["address"].tolist())]
    with open(path, "w") as fh:
        fh.write("# dsegym trace: cycle: read|write 0xADDRESS\n")
        fh.writelines(lines)


def save_ramulator(trace: pd.DataFrame, path: str) -> None:
    """Write a trace in Ramulator's DRAM-trace form (``0xADDR R|W``; issue cycles are not kept)."""
    trace = as_trace(trace)
    kind = np.where(trace["is_write"].to_numpy(), "W", "R")
    with open(path, "w") as fh:
        fh.writelines(f"0x{a:x} {k}\n" for a, k in zip(trace["address"].tolist(), kind.tolist()))


# --- normalising and hashing ------------------------------------------------------------------------
def as_trace(obj, n: int = 10_000, seed: int | None = None) -> pd.DataFrame:
    """A trace from a DataFrame, a file path or a generator name (then ``n`` and ``seed`` apply)."""
    if isinstance(obj, pd.DataFrame):
        missing = [c for c in COLUMNS if c not in obj.columns]
        if missing:
            raise ConfigError(f"a trace DataFrame needs columns {list(COLUMNS)}; missing {missing}")
        df = _frame(obj["cycle"].to_numpy(), obj["is_write"].to_numpy(), obj["address"].to_numpy())
        if len(df) == 0:
            raise ConfigError("the trace holds no requests")
        if (df["cycle"] < 0).any() or (df["address"] < 0).any():
            raise ConfigError("trace cycles and addresses must be non-negative")
        return df
    if isinstance(obj, (str, os.PathLike)):
        text = os.fspath(obj)
        if text in GENERATORS:
            return make_trace(text, n=n, **({} if seed is None else {"seed": seed}))
        if os.path.exists(text) or os.sep in text or "." in os.path.basename(text):
            return load_trace(text)
        raise UnknownIdError("trace", text, GENERATORS)
    raise ConfigError(f"a trace is a DataFrame, a file path or one of {sorted(GENERATORS)}; got {type(obj).__name__}")


def trace_hash(trace: pd.DataFrame) -> str:
    """Stable 16-hex-char hash of a trace's contents (the simulation cache key)."""
    h = hashlib.blake2b(digest_size=8)
    for col in COLUMNS:
        h.update(np.ascontiguousarray(trace[col].to_numpy()).tobytes())
    return h.hexdigest()
