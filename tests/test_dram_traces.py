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
    assert a.dtypes.tolist() == [np.int64, np.bool_, np.int64]
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
    assert tr["address"].tolist() == [0x400140, 0x400160, 0x7FFF8000, 0x400180, 4096]


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
    ("stl", "1: read 0x0\n2: raed 0x40\n", 2, "CYCLE: read|write 0xADDRESS"),
    ("stl", "# header\n1: read 0x0\nread 0x40\n", 3, "CYCLE: read|write 0xADDRESS"),
    ("stl", "1: read 0xZZ\n", 1, "CYCLE: read|write 0xADDRESS"),
    ("ramulator", "0x40 R\n0x80 X\n", 2, "0xADDRESS R|W"),
    ("ramulator", "3 4096\n4 4096 x\n", 2, "BUBBLES ADDRESS"),
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
