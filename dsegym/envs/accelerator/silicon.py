"""Published accelerator chips, expressed as designs, with the workloads and figures they were measured on.

Each entry holds the design as its paper publishes it (array, buffers, clock, node, precision,
bandwidth), the workload, and the published area, throughput and on-chip power the model is checked
against (tests/test_accelerator_silicon.py; docs/validation.md, Accelerator, has the table and
docs/references.md the sources).

>>> r = compare("eyeriss_v1")
>>> sorted(r)[:3]
['area_mm2', 'area_ratio', 'fps']
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .layers import Conv

# AlexNet's five convolutions (Krizhevsky et al. 2012), padded inputs, the grouped ones (conv2, conv4,
# conv5) as two groups; 666 M MACs per image, the figure Eyeriss's paper quotes.
ALEXNET_CONV = (
    Conv(227, 227, 11, 11, 3, 96, 4, name="conv1"),
    Conv(31, 31, 5, 5, 48, 128, 1, name="conv2", repeat=2),
    Conv(15, 15, 3, 3, 256, 384, 1, name="conv3"),
    Conv(15, 15, 3, 3, 192, 192, 1, name="conv4", repeat=2),
    Conv(15, 15, 3, 3, 192, 128, 1, name="conv5", repeat=2),
)


def _batched(layers, batch: int) -> tuple:
    return tuple(Conv(la.h, la.w, la.fh, la.fw, la.c, la.k, la.stride, name=la.name, repeat=la.repeat, batch=batch)
                 for la in layers)


# TPU v1's CNN0 is not public; Jouppi et al. (ISCA 2017, Table 1) give its shape in aggregate: 16
# convolutional layers, 8 M weights, 2888 operations per weight byte, batch 8. This stand-in matches
# that: 16 3x3 convolutions of 256 channels on 13x13 maps (9.4 M weights, 2704 ops per weight byte).
CNN0_LIKE = tuple(Conv(15, 15, 3, 3, 256, 256, 1, name=f"conv{i}") for i in range(16))


@dataclass(frozen=True)
class Chip:
    """A published chip: its design, its workload (images per run = batch) and its published figures."""

    design: dict
    layers: tuple
    images: int
    area_mm2: float  # published area of the array and its buffers (what area_pe_mm2 + area_sram_mm2 cover)
    area_note: str
    fps: float | None  # frames (images) per second on ``layers``
    tops: float | None  # or: tera-operations per second (2 per MAC)
    onchip_w: float  # measured chip power without DRAM
    note: str = ""
    extra: dict = field(default_factory=dict)


CHIPS = {
    "tpu_v1": Chip(
        design=dict(rows=256, cols=256, dataflow="ws", clock_mhz=700, tech_nm=28, weight_bits=8, act_bits=8,
                    ifmap_sram_kb=24 * 1024, filter_sram_kb=256, ofmap_sram_kb=4 * 1024, dram_type="DDR3",
                    dram_bw_gbps=34.0),
        layers=_batched(CNN0_LIKE, 8), images=8,
        # floorplan (Fig. 2): unified buffer 29%, matrix unit 24%, accumulators 6% of a die <= 331 mm^2
        area_mm2=0.59 * 331.0, area_note="matrix unit + unified buffer + accumulators, 59% of <= 331 mm^2",
        fps=None, tops=86.0, onchip_w=40.0,
        note="weight FIFO (4 x 64 KiB tiles) as the filter buffer; CNN0 stand-in, see CNN0_LIKE"),
    "eyeriss_v1": Chip(
        design=dict(rows=12, cols=14, dataflow="ws", clock_mhz=200, tech_nm=65, weight_bits=16, act_bits=16,
                    ifmap_sram_kb=64, filter_sram_kb=4, ofmap_sram_kb=40, dram_type="LPDDR4", dram_bw_gbps=1.6,
                    pe_scratchpad_bytes=520),
        layers=_batched(ALEXNET_CONV, 4), images=4,
        area_mm2=12.25, area_note="core (the die is 4 mm x 4 mm)",
        fps=34.7, tops=None, onchip_w=0.278,
        note="row-stationary has no systolic equivalent: weight-stationary (a filter row stays in each PE's "
             "scratchpad, partial sums move between PEs) is the closest; 108 KB global buffer split 64 KB "
             "inputs / 40 KB partial sums / 4 KB weight staging; the off-chip bandwidth (1.6 GB/s) is an "
             "ESTIMATE"),
}


def compare(name: str) -> dict:
    """Model vs published figures for chip ``name``: area, fps or TOPS, on-chip power, and their ratios."""
    from .simulator import simulate

    chip = CHIPS[name]
    r = simulate(chip.design, chip.layers)
    seconds = float(r["cycles"].sum()) / (chip.design["clock_mhz"] * 1e6)
    # on-chip: everything but the DRAM I/O energy (the PHY's static power is on the die and counted)
    onchip_pj = float(r[["energy_mac_pj", "energy_sram_pj", "energy_static_pj"]].to_numpy(float).sum())
    macs = sum(la.macs * la.repeat for la in chip.layers)
    out = {
        "area_mm2": float(r["area_pe_mm2"].iloc[0] + r["area_sram_mm2"].iloc[0]),
        "published_area_mm2": chip.area_mm2,
        "onchip_w": onchip_pj * 1e-12 / seconds, "published_onchip_w": chip.onchip_w,
        "fps": chip.images / seconds, "tops": 2.0 * macs / seconds / 1e12,
    }
    out["area_ratio"] = out["area_mm2"] / chip.area_mm2
    out["power_ratio"] = out["onchip_w"] / chip.onchip_w
    if chip.fps is not None:
        out["published_fps"] = chip.fps
        out["speed_ratio"] = out["fps"] / chip.fps
    else:
        out["published_tops"] = chip.tops
        out["speed_ratio"] = out["tops"] / chip.tops
    return out
