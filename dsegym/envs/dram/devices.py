"""DRAM devices: JEDEC/Micron timings (in clock cycles), IDD currents and the address map.

Every figure is restated from the DRAMSys memory specifications (``configs/memspecs/*.json`` in
tukl-msd/DRAMSys), which in turn copy the Micron datasheets named in each memspec id; the address
maps follow DRAMSys' ``am_*_rbc`` (row-bank-column) mappings.

>>> dev = get_device("DDR3-1600")
>>> dev.tck_ns, dev.banks, dev.burst_bytes, dev.t["RCD"], dev.t["BURST"]
(1.25, 8, 64, 10, 4)
>>> get_device("DDR5")
Traceback (most recent call last):
...
dsegym.errors.UnknownIdError: unknown memory 'DDR5'; did you mean 'DDR4-2400'? (known: DDR3-1600, DDR4-2400, LPDDR4-3200)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dsegym.errors import UnknownIdError


@dataclass(frozen=True)
class Rail:
    """One supply rail of a DRAM die: its voltage and the datasheet IDD currents on it, in mA."""

    vdd: float
    idd0: float      # one bank ACT-PRE cycling at tRC
    idd2n: float     # precharge standby
    idd3n: float     # active standby
    idd4r: float     # burst read
    idd4w: float     # burst write
    idd5: float      # burst (all-bank) refresh


@dataclass(frozen=True)
class DramDevice:
    """A memory channel: ``devices`` dies of ``width`` bits in one rank, and their timings.

    ``t`` holds timings in cycles of ``clk_mhz`` with the JEDEC names (RCD, RP, RAS, ...). Bank
    groups (DDR4) give *_L timings inside a group and *_S across groups; without groups L == S.
    The address map is row-bank-column: byte bits, then column, then bank, then row.
    """

    name: str
    memspec: str
    clk_mhz: float
    devices: int
    width: int
    burst_length: int
    banks: int
    bank_groups: int
    rows: int
    columns: int
    t: dict = field(default_factory=dict)
    rails: tuple = ()

    @property
    def tck_ns(self) -> float:
        return 1000.0 / self.clk_mhz

    @property
    def bus_bytes(self) -> int:
        return self.devices * self.width // 8

    @property
    def burst_bytes(self) -> int:
        """Bytes one burst moves; every request is one burst (64 B on all three devices)."""
        return self.bus_bytes * self.burst_length

    @property
    def capacity_bytes(self) -> int:
        return self.bus_bytes * self.columns * self.rows * self.banks

    @property
    def address_bits(self) -> dict[str, tuple[int, int]]:
        """(lowest bit, number of bits) of each address field, row-bank-column order."""
        byte_bits = (self.bus_bytes - 1).bit_length()
        col_bits = (self.columns - 1).bit_length()
        bank_bits = (self.banks - 1).bit_length()
        row_bits = (self.rows - 1).bit_length()
        return {"byte": (0, byte_bits), "column": (byte_bits, col_bits),
                "bank": (byte_bits + col_bits, bank_bits),
                "row": (byte_bits + col_bits + bank_bits, row_bits)}


def _timings(**kw) -> dict:
    t = dict(kw)
    for key in ("CCD", "RRD", "WTR"):  # no bank groups: the long and short variants coincide
        if key in t:
            t[f"{key}_S"] = t[f"{key}_L"] = t.pop(key)
    t.setdefault("RPAB", t["RP"])
    return t


DEVICES: dict[str, DramDevice] = {
    # DRAMSys memspec MICRON_1Gb_DDR3-1600_8bit_G.json (Micron MT41J128M8 1Gb x8, speed grade -125,
    # 11-11-11 class at DRAMSys' CL10 setting), 8 x8 devices on a 64-bit DIMM, as ArchGym used it.
    # Address map am_ddr3_8x1Gbx8_dimm_p1KB_rbc: byte 0-2, column 3-12, bank 13-15, row 16-29.
    "DDR3-1600": DramDevice(
        name="DDR3-1600", memspec="MICRON_1Gb_DDR3-1600_8bit_G", clk_mhz=800.0, devices=8, width=8,
        burst_length=8, banks=8, bank_groups=1, rows=16384, columns=1024,
        t=_timings(RCD=10, RP=10, RAS=28, RC=38, RL=10, WL=8, WR=12, WTR=6, RTP=6, CCD=4, RRD=5,
                   FAW=24, REFI=6240, RFC=88, BURST=4),
        rails=(Rail(vdd=1.5, idd0=70.0, idd2n=45.0, idd3n=45.0, idd4r=140.0, idd4w=145.0, idd5=170.0),),
    ),
    # DRAMSys memspec JEDEC_4Gb_DDR4-2400_8bit_A.json (Micron MT40A512M8 4Gb x8 -083E figures):
    # CL16-16-16, tRAS 39, tRC 55, tFAW 26, tREFI 9360 (7.8 us), tRFC 312 (260 ns) at 1200 MHz.
    # 4 bank groups of 4 banks; the bank group is the bank number mod 4, so consecutive 8 KiB rows
    # alternate groups. The VPP (2.5 V) wordline-pump rail is the memspec's second rail: IPP0 4.05 mA,
    # IPP2N = IPP3N = IPP4R = IPP4W = IPP5B = 0, which DRAMPower's DDR4 model charges on ACT/PRE
    # (docs/references.md, "DDR4 VPP").
    "DDR4-2400": DramDevice(
        name="DDR4-2400", memspec="JEDEC_4Gb_DDR4-2400_8bit_A", clk_mhz=1200.0, devices=8, width=8,
        burst_length=8, banks=16, bank_groups=4, rows=32768, columns=1024,
        t=_timings(RCD=16, RP=16, RAS=39, RC=55, RL=16, WL=16, WR=18, WTR_S=3, WTR_L=9, RTP=12,
                   CCD_S=4, CCD_L=6, RRD_S=4, RRD_L=6, FAW=26, REFI=9360, RFC=312, BURST=4),
        rails=(Rail(vdd=1.2, idd0=60.75, idd2n=38.25, idd3n=44.0, idd4r=184.5, idd4w=168.75, idd5=118.0),
               Rail(vdd=2.5, idd0=4.05, idd2n=0.0, idd3n=0.0, idd4r=0.0, idd4w=0.0, idd5=0.0)),
    ),
    # DRAMSys memspec JEDEC_8Gb_LPDDR4-3200_16bit.json (JEDEC JESD209-4 LPDDR4-3200, 8Gb x16 die):
    # RL 28, WL 14, tRCD 29, tRPpb 29, tRPab 34, tRAS 68, tRCpb 97, tFAW 64, tREFIab 6246, tRFCab 448
    # at 1600 MHz. Modelling choice: two x16 dies ganged into a 32-bit channel, so one BL16 burst
    # carries one 64-byte request like the other devices. Currents on VDD1 (1.8 V) and VDD2 (1.1 V);
    # VDDQ (I/O) is left out as DRAMPower's core model does.
    "LPDDR4-3200": DramDevice(
        name="LPDDR4-3200", memspec="JEDEC_8Gb_LPDDR4-3200_16bit", clk_mhz=1600.0, devices=2, width=16,
        burst_length=16, banks=8, bank_groups=1, rows=65536, columns=1024,
        t=_timings(RCD=29, RP=29, RPAB=34, RAS=68, RC=97, RL=28, WL=14, WR=29, WTR=16, RTP=12, CCD=8,
                   RRD=16, FAW=64, REFI=6246, RFC=448, BURST=8),
        rails=(Rail(vdd=1.8, idd0=3.5, idd2n=2.0, idd3n=2.25, idd4r=2.25, idd4w=2.25, idd5=10.0),
               Rail(vdd=1.1, idd0=45.0, idd2n=27.0, idd3n=30.0, idd4r=275.0, idd4w=210.0, idd5=90.0)),
    ),
}

ALIASES = {"DDR3": "DDR3-1600", "DDR4": "DDR4-2400", "LPDDR4": "LPDDR4-3200",
           "MICRON_1Gb_DDR3-1600_8bit_G": "DDR3-1600"}


def get_device(name: str | DramDevice) -> DramDevice:
    """The device called ``name`` (or an alias like "DDR3"); unknown names list the allowed ones."""
    if isinstance(name, DramDevice):
        return name
    key = ALIASES.get(str(name), str(name))
    for dev_name, dev in DEVICES.items():
        if dev_name.lower() == key.lower():
            return dev
    raise UnknownIdError("memory", name, DEVICES)
