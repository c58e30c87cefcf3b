"""fidelity="scalesim" must equal the real SCALE-Sim v3 (stall-free) exactly, on every golden case.

The golden file comes from scripts/make_scalesim_fixture.py, which runs SCALE-Sim itself.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dsegym.envs.accelerator import Conv, Gemm, simulate

GOLDEN = Path(__file__).parent / "fixtures" / "scalesim_golden.csv"
COUNTS = ["compute_cycles", "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes"]


def _layer(row):
    if row.kind == "gemm":
        return Gemm(int(row.m), int(row.n), int(row.k), name=row["name"])
    if "DP" in row["name"]:  # SCALE-Sim runs a depthwise layer as one single-channel conv per channel
        return Conv(int(row.h), int(row.w), int(row.fh), int(row.fw), 1, int(row.num_filter), int(row.stride),
                    name=row["name"], repeat=int(row.c))
    return Conv(int(row.h), int(row.w), int(row.fh), int(row.fw), int(row.c), int(row.num_filter),
                int(row.stride), name=row["name"])


@pytest.fixture(scope="module")
def golden():
    return pd.read_csv(GOLDEN)


def test_fixture_covers_what_it_should(golden):
    assert len(golden) >= 40
    assert set(golden.dataflow) == {"ws", "os", "is"}
    assert (golden.rows != golden.cols).any()  # non-square arrays
    conv = golden[golden.kind == "conv"]
    assert (conv.stride > 1).any() and ((conv.fh == 1) & (conv.fw == 1)).any()
    assert ((golden.kind == "gemm") & (golden.m == 1)).any()
    assert (golden.stall_cycles == 0).all()  # stall-free mode


def test_each_case_alone_matches_exactly(golden):
    for row in golden.itertuples(index=False):
        row = pd.Series(row._asdict())
        got = simulate({"rows": int(row.rows), "cols": int(row.cols), "dataflow": row.dataflow}, [_layer(row)],
                       fidelity="scalesim").iloc[0]
        for col in COUNTS:
            assert got[col] == row[col], f"case {row.case} ({row['name']}, {row.rows}x{row.cols} {row.dataflow}): {col}"
        assert got["cycles"] == row["compute_cycles"]


def test_all_cases_in_one_batch_match_exactly(golden):
    layers = [_layer(r) for _, r in golden.iterrows()]
    designs = golden[["rows", "cols", "dataflow"]]
    res = simulate(designs, layers, fidelity="scalesim")
    diag = res[res["design"] == res["layer"]].reset_index(drop=True)  # case i's design on case i's layer
    for col in COUNTS:
        np.testing.assert_array_equal(diag[col].to_numpy(), golden[col].to_numpy(), err_msg=col)
