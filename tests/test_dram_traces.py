"""DRAM traces: seeded generators, DRAMSys .stl and Ramulator loaders, round trips and errors."""
import numpy as np
import pandas as pd
import pytest

from dsegym.envs.dram import traces as T
from dsegym.errors import ConfigError, TraceFormatError, UnknownIdError


def _sequential_share(tr: pd.DataFrame) -> float:
    """Share of requests that continue the previous one by exactly 64 bytes."""
    return float((np.diff(tr["address"].to_numpy()) == 64).mean())


@pytest.mark.parametrize("name", sorted(T.GENERATORS))
def test_generators_are_seeded_and_typed(name):
    a, b = T.make_trace(name, n=2000), T.make_trace(name, n=2000)
    assert a.equals(b)
    assert list(a.columns) == ["cycle", "is_write", "address"]
    assert a.dtypes.tolist() == [np.int64, np.bool_, np.uint64]
    assert len(a) == 2000 and (a["address"] % 64 == 0).all() and (a["address"] < (1 << 30)).all()
    assert (a["cycle"] == np.arange(2000)).all()  # ArchGym: one request per cycle


def test_archgym_traces():
    s = T.make_trace("stream")
    assert s["address"].tolist()[:3] == [0, 64, 128] and not s["is_write"].any() and len(s) == 10_000
    r = T.make_trace("random")
    assert _sequential_share(r) < 0.01 and r["address"].nunique() > 9_900
    for name in ("cloud1", "cloud2"):  # alternating phases, about half of the requests sequential
        assert 0.35 < _sequential_share(T.make_trace(name)) < 0.65
    assert not T.make_trace("cloud1").equals(T.make_trace("cloud2"))
    assert 0.25 < T.rw_mix(10_000, 0.3)["is_write"].mean() < 0.35


def test_generator_options_are_checked():
    for kw in ({"n": -5}, {"n": 2.5}, {"seed": -1}, {"stride_bytes": 64}):
        with pytest.raises(ConfigError):
            T.make_trace("stream", **kw)


def test_unknown_trace_name_lists_generators():
    with pytest.raises(UnknownIdError, match="stream"):
        T.make_trace("strem")
    with pytest.raises(UnknownIdError):
        T.as_trace("cloud3")


def test_stl_round_trip(tmp_path):
    tr = T.rw_mix(500, 0.4, seed=3)
    tr["cycle"] = np.arange(500) * 3
    path = tmp_path / "mix.stl"
    T.save_stl(tr, path)
    assert T.load_trace(path).equals(tr)
    assert T.as_trace(str(path)).equals(tr)


def test_stl_accepts_dramsys_variants(tmp_path):
    path = tmp_path / "v.stl"
    path.write_text("# comment\n\n31: read 0x400140\n33:  READ 0x400160  # trailing\n"
                    "56: write 0x7fff8000 0x123456789abcdef\n81: (64) read 0x400180\n90: read 4096\n")
    tr = T.load_stl(path)
    assert tr["cycle"].tolist() == [31, 33, 56, 81, 90]
    assert tr["is_write"].tolist() == [False, False, True, False, False]
    # (64) is one burst; "4096" is hexadecimal, as DRAMSys' player reads every address
    assert tr["address"].tolist() == [0x400140, 0x400160, 0x7FFF8000, 0x400180, 0x4096]


def test_relative_stl(tmp_path):
    path = tmp_path / "r.rstl"
    path.write_text("31: read 0x0\n2: read 0x40\n23: write 0x80\n")
    assert T.load_trace(path)["cycle"].tolist() == [31, 33, 56]


def test_ramulator_dram_trace_round_trip(tmp_path):
    tr = T.rw_mix(300, 0.5, seed=1)
    path = tmp_path / "t.trace"
    T.save_ramulator(tr, path)
    back = T.load_trace(path)
    assert back.equals(tr)  # one request per cycle, as the generators issue them


def test_ramulator_cpu_trace(tmp_path):
    path = tmp_path / "cpu.trace"
    path.write_text("3 20734016\n0 0x13c8c40 20846400\n12 0x1000\n")
    tr = T.load_ramulator(path)
    # bubbles+1 cycles after the previous request; a write-back follows its read by one cycle
    assert tr["cycle"].tolist() == [3, 4, 5, 18]
    assert tr["is_write"].tolist() == [False, False, True, False]
    assert tr["address"].tolist() == [20734016, 0x13C8C40, 20846400, 0x1000]


@pytest.mark.parametrize("fmt,text,lineno,expected", [
    ("stl", "1: read 0x0\n2: raed 0x40\n", 2, "CYCLE: [(LENGTH)] read|write ADDRESS_HEX"),
    ("stl", "# header\n1: read 0x0\nread 0x40\n", 3, "CYCLE: [(LENGTH)] read|write ADDRESS_HEX"),
    ("stl", "1: read 0xZZ\n", 1, "CYCLE: [(LENGTH)] read|write ADDRESS_HEX"),
    ("ramulator", "0x40 R\n0x80 X\n", 2, "ADDRESS_HEX R|W"),
    ("ramulator", "3 4096\n4 4096 x\n", 2, "BUBBLES ADDRESS"),
    ("ramulator", "LD 0x40\nLD 0x80 0x1\n", 2, "LD|ST ADDRESS"),
])
def test_malformed_lines_name_file_line_and_expectation(tmp_path, fmt, text, lineno, expected):
    path = tmp_path / ("bad.stl" if fmt == "stl" else "bad.trace")
    path.write_text(text)
    with pytest.raises(TraceFormatError) as err:
        T.load_trace(path)
    msg = str(err.value)
    assert f"{path}:{lineno}:" in msg and expected in msg
    assert isinstance(err.value, ValueError)


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.stl"
    empty.write_text("# nothing\n")
    with pytest.raises(TraceFormatError, match="no requests"):
        T.load_trace(empty)
    with pytest.raises(TraceFormatError, match="no such trace file"):
        T.load_trace(tmp_path / "missing.stl")


def test_dataframe_traces_are_checked():
    with pytest.raises(ConfigError, match="missing"):
        T.as_trace(pd.DataFrame({"cycle": [0], "address": [0]}))
    with pytest.raises(ConfigError, match="non-negative"):
        T.as_trace(pd.DataFrame({"cycle": [0], "is_write": [False], "address": [-64]}))
    assert T.trace_hash(T.make_trace("stream", n=10)) == T.trace_hash(T.make_trace("stream", n=10))
    assert T.trace_hash(T.make_trace("stream", n=10)) != T.trace_hash(T.make_trace("stream", n=11))


# --- issue 9 reproductions: each field read as the reference tool reads it ---------------------------
def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_stl_address_without_0x_is_hexadecimal(tmp_path):
    # DRAMSys' StlPlayer: std::stoull(address, nullptr, 16), with or without "0x"
    tr = T.load_trace(_write(tmp_path, "a.stl", "0:\tread\t400140\n"))
    assert tr["address"].tolist() == [0x400140]


def test_stl_length_is_split_into_bursts(tmp_path):
    # DRAMSys splits a 128-byte transaction into two 64-byte child bursts: two lines -> 4 requests
    tr = T.load_trace(_write(tmp_path, "l.stl", "0:\t(128)\tread\t0x0\n0:\t(128)\tread\t0x0\n"))
    assert len(tr) == 4 and tr["address"].tolist() == [0, 64, 0, 64]
    with pytest.raises(TraceFormatError, match=r"l0.stl:1: a request length of 0"):
        T.load_trace(_write(tmp_path, "l0.stl", "0: (0) read 0x0\n"))


@pytest.mark.parametrize("name,text", [
    ("big.stl", "0:\tread\t0x8000000000000000\n"),
    ("big.trace", "0x8000000000000000 R\n"),
    ("bigcpu.trace", "3 0x8000000000000000\n"),
    ("bigls.trace", "LD 9223372036854775808\n"),
])
def test_addresses_of_2_63_and_more_keep_their_value(tmp_path, name, text):
    # unsigned 64-bit as in DRAMSys and Ramulator; the model drops the high bits (see test_dram_model)
    assert T.load_trace(_write(tmp_path, name, text))["address"].tolist() == [1 << 63]


@pytest.mark.parametrize("name,text", [
    ("huge.stl", "0: read 0x10000000000000000\n"),
    ("huge.trace", "LD 18446744073709551616\n"),
    ("hugecyc.stl", "99999999999999999999: read 0x0\n"),
])
def test_numbers_beyond_64_bits_name_file_and_line(tmp_path, name, text):
    with pytest.raises(TraceFormatError, match=rf"{name}:1: .* does not fit"):
        T.load_trace(_write(tmp_path, name, text))


def test_ramulator2_loadstore_trace(tmp_path):
    # Ramulator 2 LoadStoreTrace: "0x" is hex, anything else decimal; one request per cycle
    tr = T.load_trace(_write(tmp_path, "ls.trace", "LD 0x12340\nST 4096\n"))
    assert tr["address"].tolist() == [0x12340, 4096] and tr["is_write"].tolist() == [False, True]
    assert tr["cycle"].tolist() == [0, 1]


def test_ramulator_numeric_bases(tmp_path):
    # Ramulator DRAM trace: base 16 always; CPU trace: C base 0 (leading 0 is octal)
    assert T.load_trace(_write(tmp_path, "d.trace", "4096 R\n"))["address"].tolist() == [0x4096]
    assert T.load_trace(_write(tmp_path, "c.trace", "0 010\n"))["address"].tolist() == [8]
    with pytest.raises(TraceFormatError, match="c9.trace:1: .*octal"):
        T.load_trace(_write(tmp_path, "c9.trace", "0 09\n"))


def test_unsupported_and_unknown_formats_are_named(tmp_path):
    with pytest.raises(TraceFormatError, match=r"vec.trace:1: .*ReadWriteTrace .*not supported"):
        T.load_trace(_write(tmp_path, "vec.trace", "R 0,1,2,3,4,5\n"))
    with pytest.raises(TraceFormatError, match=r"odd.trace:1: .*matches no trace format.*LD 0x12340"):
        T.load_trace(_write(tmp_path, "odd.trace", "fetch 0x40\n"))
    # a later line of another form names the format detected from the first line and its shape
    with pytest.raises(TraceFormatError, match=r"mix.trace:2: expected 'LD\|ST ADDRESS.*ramulator-loadstore"):
        T.load_trace(_write(tmp_path, "mix.trace", "LD 0x40\n0x80 R\n"))
