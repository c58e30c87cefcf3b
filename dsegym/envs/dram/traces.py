"""Memory traces: seeded generators and loaders for DRAMSys ``.stl`` and Ramulator files.

A trace is a DataFrame with columns ``cycle`` (int64, issue cycle of the initiator's clock),
``is_write`` (bool) and ``address`` (uint64 byte address); every row is one 64-byte request. The
ArchGym traces issue one request per cycle at 800 MHz, so ``cycle`` counts 1.25 ns steps there.

>>> tr = make_trace("stream", n=4)
>>> tr["address"].tolist(), tr["cycle"].tolist()
([0, 64, 128, 192], [0, 1, 2, 3])
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "t.stl")
>>> save_stl(tr, path)
>>> load_trace(path).equals(tr)
True

File formats (read as the defining tool reads them; see docs/references.md, "DRAM trace formats")
------------
DRAMSys ``.stl``: ``CYCLE: [(LENGTH)] read|write ADDRESS [DATA]``; ``#`` starts a comment. The address
is hexadecimal with or without ``0x``; a LENGTH in bytes becomes ceil(LENGTH / 64) burst requests at
consecutive addresses. ``.rstl`` files hold cycles relative to the previous line; they are summed.

Ramulator traces, detected per file from the first data line:
- DRAM trace ("memory" mode): ``ADDRESS R|W``, address hexadecimal (``0x`` optional), one per cycle;
- CPU trace: ``BUBBLES ADDRESS [WRITEBACK_ADDRESS]``; BUBBLES non-memory instructions come before
  the read of ADDRESS, so the read issues BUBBLES + 1 cycles after the previous request, and an
  optional write-back of WRITEBACK_ADDRESS follows one cycle after the read; addresses as C reads
  base 0 (``0x`` hex, leading ``0`` octal, else decimal);
- Ramulator 2 LoadStoreTrace: ``LD|ST ADDRESS`` (``0x`` hex, else decimal), one per cycle.
Ramulator 2's address-vector form (``R 0,1,2,...``) is rejected by name. Addresses are unsigned
64-bit (column ``address`` is uint64); the model drops bits above the device's capacity, as DRAMSys'
address decoder does, and warns (:class:`TraceWarning`). ``save_ramulator`` writes the DRAM-trace form.
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
                         "address": np.asarray(address).astype(np.uint64)})


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
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n (requests) must be a whole number of at least 1; got {n!r}")
    seed = kw.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ConfigError(f"seed must be a non-negative whole number; got {seed!r}")
    try:
        return GENERATORS[name](n=int(n), **kw)
    except TypeError as exc:
        raise ConfigError(f"trace generator {name!r}: {exc}") from None


# --- loaders ----------------------------------------------------------------------------------------
# Each numeric field is read the way the tool that defines the format reads it (docs/references.md,
# "DRAM trace formats"): DRAMSys' StlPlayer parses the address with base 16 whether or not it has
# "0x", the timestamp and the "(LENGTH)" in decimal; Ramulator 1's DRAM trace parses the address in
# base 16; its CPU trace parses bubbles in decimal and addresses with C's base 0 (0x hex, a leading 0
# octal, else decimal); Ramulator 2's LoadStoreTrace parses "0x" as hex, else decimal. Addresses are
# unsigned 64-bit as in those tools; a value of 2**64 or more is an error naming file and line.
U64 = 1 << 64
I64 = 1 << 63
_HEX = r"(?:0[xX])?[0-9a-fA-F]+"
_C_INT = r"0[xX][0-9a-fA-F]+|\d+"
_STL = re.compile(r"^(\d+)\s*:\s*(?:\(\s*(\d+)\s*\)\s*)?(read|write)\s+(" + _HEX + r")"
                  r"(?:\s+(?:0[xX])?[0-9a-fA-F]+)?$", re.IGNORECASE)
_RAM_DRAM = re.compile(r"^(" + _HEX + r")\s+([RrWw])$")
_RAM_CPU = re.compile(r"^(\d+)\s+(" + _C_INT + r")(?:\s+(" + _C_INT + r"))?$")
_RAM_LDST = re.compile(r"^(LD|ST)\s+(" + _C_INT + r")$")
_RAM_VECTOR = re.compile(r"^[RW]\s+-?\d+(?:\s*,\s*-?\d+)+$")

# format name -> (what a line looks like, an example line)
FORMATS = {
    "stl": ("CYCLE: [(LENGTH)] read|write ADDRESS_HEX [DATA]", "31: read 0x400140"),
    "ramulator-dram": ("ADDRESS_HEX R|W (Ramulator DRAM trace)", "0x12340 R"),
    "ramulator-cpu": ("BUBBLES ADDRESS [WRITEBACK_ADDRESS] (Ramulator CPU trace)", "3 0x12340 0x56780"),
    "ramulator-loadstore": ("LD|ST ADDRESS (Ramulator 2 LoadStoreTrace)", "LD 0x12340"),
}
UNSUPPORTED = {
    "ramulator-addrvec": "Ramulator 2's ReadWriteTrace ('R 0,1,2,3,...': decoded DRAM coordinates, "
                         "tied to one device's organisation); write it as byte addresses, e.g. 'LD 0x12340'",
}


class TraceWarning(UserWarning):
    """A trace entry the model reads differently from how it is written (reordered, out of range)."""


def _c_int(text: str) -> int:
    """C ``strtoul(text, base=0)``: 0x hex, leading 0 octal, else decimal (Ramulator CPU traces)."""
    if text[:2].lower() == "0x":
        return int(text, 16)
    if len(text) > 1 and text[0] == "0":
        if any(c in "89" for c in text):
            raise ValueError(f"{text!r} is octal (leading 0) and has a digit 8 or 9")
        return int(text, 8)
    return int(text)


def _dec_or_hex(text: str) -> int:
    """Ramulator 2 LoadStoreTrace: "0x" prefix is hex, anything else decimal."""
    return int(text, 16) if text[:2].lower() == "0x" else int(text)


def _check(value: int, what: str, where: str, limit: int = U64) -> int:
    if value >= limit:
        raise TraceFormatError(f"{where}: {what} {value:#x} does not fit in {limit.bit_length() - 1} bits "
                               f"(the trace tools read it as an unsigned {limit.bit_length() - 1}-bit number)")
    return value


def _data_lines(path: str):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for lineno, raw in enumerate(fh, start=1):
                line = raw.split("#", 1)[0].strip()
                if line:
                    yield lineno, line
    except FileNotFoundError:
        raise TraceFormatError(f"{path}: no such trace file") from None
    except IsADirectoryError:
        raise TraceFormatError(f"{path}: is a directory, not a trace file") from None


def detect_format(line: str) -> str:
    """The trace format a data line belongs to (a key of FORMATS), or raise naming what it looks like.

    >>> detect_format("31: read 400140"), detect_format("LD 4096"), detect_format("0x40 W")
    ('stl', 'ramulator-loadstore', 'ramulator-dram')
    """
    if re.match(r"^\d+\s*:", line):
        return "stl"
    if _RAM_LDST.match(line) or re.match(r"^(LD|ST)\b", line):
        return "ramulator-loadstore"
    if _RAM_VECTOR.match(line):
        return "ramulator-addrvec"
    if _RAM_DRAM.match(line):
        return "ramulator-dram"
    if re.match(r"^\d+\s+\S", line):
        return "ramulator-cpu"
    return ""


def _unknown_line(path, lineno, line) -> TraceFormatError:
    known = "; ".join(f"{name}: '{ex}'" for name, (_, ex) in FORMATS.items())
    return TraceFormatError(f"{path}:{lineno}: {line[:80]!r} matches no trace format dsegym reads "
                            f"(supported, with an example line each: {known}; not supported: "
                            f"{UNSUPPORTED['ramulator-addrvec']})")


def _mismatch(path, lineno, line, fmt) -> TraceFormatError:
    shape, example = FORMATS[fmt]
    return TraceFormatError(f"{path}:{lineno}: expected '{shape}' (the file's format, {fmt}, detected from its "
                            f"first data line; e.g. '{example}'), got {line[:80]!r}")


def load_stl(path: str, relative: bool | None = None, burst_bytes: int = REQUEST_BYTES) -> pd.DataFrame:
    """Read a DRAMSys ``.stl`` (absolute cycles) or ``.rstl`` (relative cycles) trace.

    The address is hexadecimal with or without ``0x`` (DRAMSys' StlPlayer reads it with base 16). A
    ``(LENGTH)`` in bytes is split into ``ceil(LENGTH / burst_bytes)`` requests at consecutive
    addresses issued at the same cycle, as DRAMSys' controller splits a long transaction into child
    bursts.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.stl")
    >>> _ = open(p, "w").write("0: read 400140\\n2: (128) write 0x0\\n")
    >>> load_stl(p).values.tolist()
    [[0, False, 4194624], [2, True, 0], [2, True, 64]]
    """
    if relative is None:
        relative = str(path).lower().endswith(".rstl")
    cyc, wr, addr = [], [], []
    for lineno, line in _data_lines(path):
        m = _STL.match(line)
        if m is None:
            fmt = detect_format(line)
            if fmt in ("", "stl"):
                raise _mismatch(path, lineno, line, "stl")
            raise TraceFormatError(f"{path}:{lineno}: expected '{FORMATS['stl'][0]}' (DRAMSys .stl, e.g. "
                                   f"'{FORMATS['stl'][1]}'), got {line[:80]!r}, which looks like {fmt}")
        where = f"{path}:{lineno}"
        cycle = _check(int(m.group(1)), "cycle", where, I64)
        length = REQUEST_BYTES if m.group(2) is None else int(m.group(2))
        if length <= 0:
            raise TraceFormatError(f"{where}: a request length of {length} bytes; it must be positive")
        a = _check(int(m.group(4), 16), "address", where)
        is_write = m.group(3).lower() == "write"
        for k in range(-(-length // burst_bytes)):
            cyc.append(cycle), wr.append(is_write), addr.append((a + k * burst_bytes) % U64)
    if not cyc:
        raise TraceFormatError(f"{path}: the trace holds no requests")
    cycles = np.cumsum(np.asarray(cyc, dtype=object)) if relative else cyc
    if relative and cycles[-1] >= I64:
        raise TraceFormatError(f"{path}: relative cycles add up to {cycles[-1]}, beyond 2**63 - 1")
    return _frame(list(cycles), wr, addr)


def load_ramulator(path: str) -> pd.DataFrame:
    """Read a Ramulator trace: DRAM (``ADDR R|W``), CPU (``BUBBLES ADDR [WB]``) or LoadStore (``LD|ST ADDR``).

    The form is detected from the first data line. DRAM and LoadStore traces issue one request per
    cycle; a CPU trace's read issues BUBBLES + 1 cycles after the previous request, and its optional
    write-back one cycle after the read.
    """
    cyc, wr, addr = [], [], []
    form = None
    now = -1
    for lineno, line in _data_lines(path):
        where = f"{path}:{lineno}"
        if form is None:
            form = detect_format(line)
            if form == "ramulator-addrvec":
                raise TraceFormatError(f"{where}: {line[:80]!r} is {UNSUPPORTED[form]}; not supported")
            if form not in ("ramulator-dram", "ramulator-cpu", "ramulator-loadstore"):
                raise _unknown_line(path, lineno, line)
        if form == "ramulator-dram":
            m = _RAM_DRAM.match(line)
            if m is None:
                raise _mismatch(path, lineno, line, form)
            now += 1
            cyc.append(now), wr.append(m.group(2) in "Ww"), addr.append(_check(int(m.group(1), 16), "address", where))
        elif form == "ramulator-loadstore":
            m = _RAM_LDST.match(line)
            if m is None:
                raise _mismatch(path, lineno, line, form)
            now += 1
            cyc.append(now), wr.append(m.group(1) == "ST")
            addr.append(_check(_dec_or_hex(m.group(2)), "address", where))
        else:
            m = _RAM_CPU.match(line)
            if m is None:
                raise _mismatch(path, lineno, line, form)
            try:
                read_addr = _c_int(m.group(2))
                wb_addr = None if m.group(3) is None else _c_int(m.group(3))
            except ValueError as exc:
                raise TraceFormatError(f"{where}: {exc}") from None
            now += _check(int(m.group(1)), "bubble count", where, I64) + 1
            cyc.append(now), wr.append(False), addr.append(_check(read_addr, "address", where))
            if wb_addr is not None:
                now += 1
                cyc.append(now), wr.append(True), addr.append(_check(wb_addr, "address", where))
        if now >= I64:
            raise TraceFormatError(f"{where}: the issue cycle passes 2**63 - 1")
    if not cyc:
        raise TraceFormatError(f"{path}: the trace holds no requests")
    return _frame(cyc, wr, addr)


def load_trace(path: str, format: str | None = None) -> pd.DataFrame:
    """Load a trace file; ``format`` is "stl" or "ramulator", else detected from the extension and content.

    Every format's reading is described in the module docstring and docs/references.md.
    """
    path = os.fspath(path)
    if format is None:
        ext = os.path.splitext(path)[1].lower()
        if ext in (".stl", ".rstl"):
            format = "stl"
        else:
            lineno, first = next(iter(_data_lines(path)), (0, ""))
            detected = detect_format(first) if first else "stl"
            if detected == "":
                raise _unknown_line(path, lineno, first)
            format = "stl" if detected == "stl" else "ramulator"
    if format == "stl":
        return load_stl(path)
    if format == "ramulator":
        return load_ramulator(path)
    raise ConfigError(f"trace format must be 'stl' or 'ramulator', got {format!r}")


def save_stl(trace: pd.DataFrame, path: str) -> None:
    """Write a trace as a DRAMSys ``.stl`` file (absolute cycles)."""
    trace = as_trace(trace)
    kind = np.where(trace["is_write"].to_numpy(), "write", "read")
    lines = [f"{c}:\t{k}\t0x{a:x}\n" for c, k, a in zip(trace["cycle"].tolist(), kind.tolist(),
                                                       trace["address"].tolist())]
    _write_atomic(path, ["# dsegym trace: cycle: read|write 0xADDRESS\n"] + lines)


def save_ramulator(trace: pd.DataFrame, path: str) -> None:
    """Write a trace in Ramulator's DRAM-trace form (``0xADDR R|W``; issue cycles are not kept)."""
    trace = as_trace(trace)
    kind = np.where(trace["is_write"].to_numpy(), "W", "R")
    _write_atomic(path, [f"0x{a:x} {k}\n" for a, k in zip(trace["address"].tolist(), kind.tolist())])


def _write_atomic(path, lines) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w") as fh:
            fh.writelines(lines)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# --- normalising and hashing ------------------------------------------------------------------------
def as_trace(obj, n: int = 10_000, seed: int | None = None) -> pd.DataFrame:
    """A trace from a DataFrame, a file path or a generator name (then ``n`` and ``seed`` apply)."""
    if isinstance(obj, pd.DataFrame):
        missing = [c for c in COLUMNS if c not in obj.columns]
        if missing:
            raise ConfigError(f"a trace DataFrame needs columns {list(COLUMNS)}; missing {missing}")
        if len(obj) == 0:
            raise ConfigError("the trace holds no requests")
        cols = {}
        for c in ("cycle", "address"):
            v = obj[c].to_numpy()
            if v.dtype.kind not in "iu":
                if v.dtype.kind == "f" and np.isfinite(v).all() and (v == np.round(v)).all():
                    v = v.astype(np.float64)
                else:
                    raise ConfigError(f"trace column '{c}' must hold whole numbers; got dtype {v.dtype}")
            if (v < 0).any():
                raise ConfigError(f"trace cycles and addresses must be non-negative; '{c}' has "
                                  f"{int((v < 0).sum())} negative values")
            cols[c] = v
        if cols["cycle"].dtype.kind == "u" and (cols["cycle"] >= I64).any():
            raise ConfigError("trace cycles must be below 2**63")
        w = obj["is_write"].to_numpy()
        if w.dtype != bool and not np.isin(w, (0, 1)).all():
            raise ConfigError("trace column 'is_write' must be boolean (or 0/1)")
        return _frame(cols["cycle"], w.astype(bool), cols["address"])
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
