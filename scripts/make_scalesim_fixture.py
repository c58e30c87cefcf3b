"""Run the real SCALE-Sim v3 on small layers and write the golden values dsegym must match exactly.

SCALE-Sim is not a dsegym dependency; run this with a throw-away venv outside the repo:

    python3 -m venv /tmp/scalesim-venv
    /tmp/scalesim-venv/bin/pip install scalesim==3.0.0 "numpy<2.4"
    /tmp/scalesim-venv/bin/python scripts/make_scalesim_fixture.py --jobs 2

Each case (layer x array shape x dataflow) runs SCALE-Sim in stall-free mode (InterfaceBandwidth =
CALC) in its own temporary folder and records what SCALE-Sim reports: compute cycles ("Total Cycles"
of COMPUTE_REPORT.csv) and the SRAM ifmap reads, filter reads and ofmap writes of
DETAILED_ACCESS_REPORT.csv. A layer named with ``DP`` is depthwise: SCALE-Sim splits it into one
layer per channel, and the per-channel figures are summed. ``tests/test_accelerator_scalesim.py``
demands exact equality with ``simulate(..., fidelity="scalesim")``.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import tempfile
import time
from contextlib import redirect_stdout
from multiprocessing import Pool

# (name, kind, fields): conv fields h, w, fh, fw, c, num_filter, stride; gemm fields m, n, k.
# Small on purpose: SCALE-Sim simulates every cycle and address.
LAYERS = [
    ("conv3x3_s1", "conv", (10, 10, 3, 3, 4, 6, 1)),
    ("conv3x3_s2", "conv", (11, 11, 3, 3, 8, 16, 2)),
    ("conv1x1", "conv", (8, 8, 1, 1, 16, 24, 1)),
    ("conv1x1_s2", "conv", (9, 9, 1, 1, 8, 12, 2)),
    ("conv5x3_rect", "conv", (12, 9, 5, 3, 3, 10, 1)),
    ("conv7x7_s2", "conv", (21, 21, 7, 7, 3, 8, 2)),
    ("conv3x3_s2_even", "conv", (12, 12, 3, 3, 5, 7, 2)),
    ("DP_conv3x3", "conv", (10, 10, 3, 3, 4, 1, 1)),  # depthwise: 4 channels, one filter each
    ("gemm_m1", "gemm", (1, 40, 24)),
    ("gemm_m1_wide", "gemm", (1, 100, 64)),
    ("gemm_small", "gemm", (20, 12, 30)),
    ("gemm_tall", "gemm", (50, 5, 9)),
    ("conv3x3_mid", "conv", (30, 30, 3, 3, 16, 32, 1)),
    ("gemm_k300", "gemm", (6, 20, 300)),
]
# Two array shapes per layer (rotating through this list), square and not, some larger than the layer.
ARRAYS = [(8, 4), (4, 16), (16, 16), (32, 8), (4, 4), (8, 32), (12, 5), (64, 64), (256, 4), (5, 256)]
DATAFLOWS = ("ws", "os", "is")

CONFIG = """[general]
run_name = golden

[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
ifmapsramszkB = 64
filtersramszkB = 64
ofmapsramszkB = 64
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Dataflow = {dataflow}
ReadRequestBuffer = 32
WriteRequestBuffer = 32
Bandwidth = 10

[layout]
IfmapCustomLayout = False
FilterCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40
"""

COLUMNS = ["case", "name", "kind", "h", "w", "fh", "fw", "c", "num_filter", "stride", "m", "n", "k",
           "rows", "cols", "dataflow", "compute_cycles", "stall_cycles", "sram_ifmap_reads",
           "sram_filter_reads", "sram_ofmap_writes", "scalesim_seconds"]


def cases():
    """Every (layer, array, dataflow) case of the fixture, numbered."""
    out = []
    for i, (name, kind, fields) in enumerate(LAYERS):
        for a in range(2):
            rows, cols = ARRAYS[(2 * i + a) % len(ARRAYS)]
            for df in DATAFLOWS:
                out.append((len(out), name, kind, fields, rows, cols, df))
    return out


def run_case(case):
    """Run SCALE-Sim on one case in a temporary folder and return its counts."""
    from scalesim.scale_sim import scalesim

    idx, name, kind, fields, rows, cols, df = case
    with tempfile.TemporaryDirectory(prefix="scalesim_case_") as tmp:
        cfg = os.path.join(tmp, "scale.cfg")
        topo = os.path.join(tmp, "topo.csv")
        layout = os.path.join(tmp, "layout.csv")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(rows=rows, cols=cols, dataflow=df))
        with open(topo, "w") as f:
            if kind == "conv":
                f.write("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                        "Num Filter, Strides,\n")
            else:
                f.write("Layer, M, N, K,\n")
            f.write(", ".join([name] + [str(v) for v in fields]) + ",\n")
        with open(layout, "w") as f:
            f.write("Layer name,\n")
        t0 = time.perf_counter()
        with redirect_stdout(io.StringIO()):
            sim = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=layout,
                           input_type_gemm=(kind == "gemm"))
            sim.run_scale(top_path=os.path.join(tmp, "out"))
        seconds = time.perf_counter() - t0
        totals = [0, 0, 0, 0, 0]
        for layer in sim.runner.single_layer_sim_object_list:  # several only for a DP layer
            comp = layer.get_compute_report_items()  # total incl. prefetch, total, stall, ...
            det = layer.get_detail_report_items()  # start, stop, count for ifmap, filter, ofmap, ...
            for j, v in enumerate((comp[1], comp[2], det[2], det[5], det[8])):
                totals[j] += int(v)
    conv = dict(zip(("h", "w", "fh", "fw", "c", "num_filter", "stride"), fields)) if kind == "conv" else {}
    gemm = dict(zip(("m", "n", "k"), fields)) if kind == "gemm" else {}
    row = {"case": idx, "name": name, "kind": kind, **conv, **gemm, "rows": rows, "cols": cols,
           "dataflow": df, "compute_cycles": totals[0], "stall_cycles": totals[1],
           "sram_ifmap_reads": totals[2], "sram_filter_reads": totals[3], "sram_ofmap_writes": totals[4],
           "scalesim_seconds": round(seconds, 3)}
    return row


def main():
    """Run every case (in parallel jobs) and write the fixture CSV."""
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures", "scalesim_golden.csv"))
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    todo = cases()
    t0 = time.perf_counter()
    with Pool(args.jobs) as pool:
        rows = sorted(pool.map(run_case, todo, chunksize=1), key=lambda r: r["case"])
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, restval="")
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} cases written to {os.path.normpath(args.out)} in {time.perf_counter() - t0:.1f} s "
          f"(SCALE-Sim time {sum(r['scalesim_seconds'] for r in rows):.1f} s)")


if __name__ == "__main__":
    main()
