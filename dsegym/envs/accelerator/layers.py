"""Layers (convolutions and GEMMs) in SCALE-Sim's terms, and the tables the simulator reads.

Every layer becomes the GEMM SCALE-Sim maps onto the array: M = output pixels, N = filters,
K = FH*FW*C (SCALE-Sim v3; docs/references.md, Accelerator). ``repeat`` runs the same layer several times on independent data:
the heads of an attention layer, identical transformer blocks, or the per-channel convolutions that
SCALE-Sim turns a depthwise layer into.

>>> Conv(10, 10, 3, 3, 4, 6, 2).mnk
(25, 6, 36)
>>> Gemm(1, 1000, 512).mnk
(1, 1000, 512)
>>> t = layer_table([Conv(10, 10, 3, 3, 4, 6, 2), Gemm(1, 1000, 512, name="fc")])
>>> t.names, t.M.tolist()
(('layer0', 'fc'), [25, 1])
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field

import numpy as np

from ...errors import TopologyFormatError

_CONV_FIELDS = ("h", "w", "fh", "fw", "c", "k", "stride")
_GEMM_FIELDS = ("m", "n", "k")


# Counts are computed exactly in float64 and returned as int64: a layer may have at most 2**50 MACs (all
# repeats included), which leaves room for the fill/drain cycles and the byte counts on top.
MAX_LAYER_MACS = 2**50


def _check_int(layer: str, field_name: str, value) -> int:
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok and isinstance(value, numbers.Real) and not isinstance(value, bool):
        ok = math.isfinite(value) and float(value) == int(value)
    if not ok or int(value) < 1:
        raise TopologyFormatError(f"{layer}: field '{field_name}' must be an integer >= 1, got {value!r}")
    if int(value) > MAX_LAYER_MACS:
        raise TopologyFormatError(f"{layer}: field '{field_name}' = {int(value)} is too large (at most 2**50)")
    return int(value)


def _check_size(label: str, macs: int, repeat: int) -> None:
    if macs * repeat > MAX_LAYER_MACS:
        raise TopologyFormatError(f"{label}: {macs * repeat:.3g} MACs is too large; a layer may have at most "
                                  f"2**50 ({MAX_LAYER_MACS:.3g}) MACs, all repeats included")


@dataclass(frozen=True)
class Conv:
    """A convolution on an already padded ``h`` x ``w`` input with ``c`` channels and ``k`` filters.

    Output size follows SCALE-Sim: ceil((h - fh + stride) / stride).

    >>> Conv(230, 230, 7, 7, 3, 64, 2).out_hw
    (113, 113)
    """

    h: int
    w: int
    fh: int
    fw: int
    c: int
    k: int
    stride: int = 1
    name: str | None = None
    repeat: int = 1
    batch: int = 1  # images processed together: they share the weights (GEMM M = output pixels x batch)

    def __post_init__(self):
        label = f"Conv {self.name!r}" if self.name else "Conv"
        for f in _CONV_FIELDS + ("repeat", "batch"):
            object.__setattr__(self, f, _check_int(label, f, getattr(self, f)))
        if self.fh > self.h or self.fw > self.w:
            raise TopologyFormatError(f"{label}: filter {self.fh}x{self.fw} is larger than the input "
                                      f"{self.h}x{self.w}; h and w are the padded input size")
        _check_size(label, self.macs, self.repeat)

    @property
    def out_hw(self) -> tuple[int, int]:
        s = self.stride
        return -(-(self.h - self.fh + s) // s), -(-(self.w - self.fw + s) // s)

    @property
    def mnk(self) -> tuple[int, int, int]:
        eh, ew = self.out_hw
        return eh * ew * self.batch, self.k, self.fh * self.fw * self.c

    @property
    def ifmap_elems(self) -> int:
        """Input elements the filter actually touches (a 1x1 stride-2 conv skips three in four)."""
        eh, ew = self.out_hw
        rows = min(self.h, eh * self.fh, (eh - 1) * self.stride + self.fh)
        cols = min(self.w, ew * self.fw, (ew - 1) * self.stride + self.fw)
        return rows * cols * self.c * self.batch

    @property
    def macs(self) -> int:
        """MACs of one repeat."""
        m, n, k = self.mnk
        return m * n * k


@dataclass(frozen=True)
class Gemm:
    """A matrix product in SCALE-Sim's GEMM view: (M x K) times (K x N); M=1 is one token's step.

    >>> Gemm(128, 768, 3072).macs
    301989888
    """

    m: int
    n: int
    k: int
    name: str | None = None
    repeat: int = 1

    def __post_init__(self):
        label = f"Gemm {self.name!r}" if self.name else "Gemm"
        for f in _GEMM_FIELDS + ("repeat",):
            object.__setattr__(self, f, _check_int(label, f, getattr(self, f)))
        _check_size(label, self.macs, self.repeat)

    @property
    def mnk(self) -> tuple[int, int, int]:
        return self.m, self.n, self.k

    @property
    def ifmap_elems(self) -> int:
        return self.m * self.k

    @property
    def macs(self) -> int:
        """MACs of one repeat."""
        return self.m * self.n * self.k


@dataclass(frozen=True)
class LayerTable:
    """Numpy columns of a list of layers (one entry per layer), what the simulator broadcasts over."""

    names: tuple[str, ...]
    M: np.ndarray
    N: np.ndarray
    K: np.ndarray
    ifmap_elems: np.ndarray  # unique input elements (<= M*K, which counts im2col duplicates)
    repeat: np.ndarray
    layers: tuple = field(default=(), repr=False)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def macs(self) -> np.ndarray:
        """MACs per layer, all repeats included."""
        return self.M * self.N * self.K * self.repeat


def layer_table(layers) -> LayerTable:
    """A :class:`LayerTable` from layer objects, a DataFrame, a topology CSV path or a workload name."""
    if isinstance(layers, LayerTable):
        return layers
    if isinstance(layers, (str, os.PathLike)):
        from .workloads import WORKLOADS
        if isinstance(layers, str) and layers in WORKLOADS:
            layers = WORKLOADS[layers]
        elif isinstance(layers, str) and not os.path.exists(layers) and not layers.lower().endswith(".csv"):
            from ...errors import UnknownIdError
            raise UnknownIdError("workload", layers, WORKLOADS)
        else:
            layers = load_topology_csv(layers)
    elif hasattr(layers, "columns") and hasattr(layers, "to_dict"):
        layers = layers_from_frame(layers)
    layers = list(layers)
    if not layers:
        raise TopologyFormatError("no layers given; pass Conv/Gemm objects, a DataFrame or a topology CSV")
    for i, layer in enumerate(layers):
        if not isinstance(layer, (Conv, Gemm)):
            raise TopologyFormatError(f"layer {i} is a {type(layer).__name__}; expected Conv(h, w, fh, fw, c, "
                                      "k, stride) or Gemm(m, n, k)")
    mnk = np.array([layer.mnk for layer in layers], dtype=np.int64)
    names = tuple(layer.name or f"layer{i}" for i, layer in enumerate(layers))
    return LayerTable(names, mnk[:, 0], mnk[:, 1], mnk[:, 2],
                      np.array([layer.ifmap_elems for layer in layers], dtype=np.int64),
                      np.array([layer.repeat for layer in layers], dtype=np.int64), tuple(layers))


def layers_from_frame(frame) -> list:
    """Layers from a DataFrame: columns h, w, fh, fw, c, k, stride (convs) or m, n, k (GEMMs).

    Optional columns: ``name``, ``repeat``, and ``kind`` ('conv' / 'gemm') to mix both in one frame.
    """
    cols = {str(c).lower(): c for c in frame.columns}
    records = frame.to_dict("records")
    out = []
    for i, rec in enumerate(records):
        rec = {str(k).lower(): v for k, v in rec.items()}
        kind = str(rec.get("kind", "gemm" if "m" in cols else "conv")).lower()
        fields = _GEMM_FIELDS if kind == "gemm" else _CONV_FIELDS if kind == "conv" else None
        if fields is None:
            raise TopologyFormatError(f"layer row {i}: kind must be 'conv' or 'gemm', got {rec.get('kind')!r}")
        missing = [f for f in fields if f not in rec or _is_missing(rec[f])]
        if missing:
            raise TopologyFormatError(f"layer row {i}: missing {kind} field(s) {missing}; "
                                      f"a {kind} row needs {list(fields)}")
        name = rec.get("name")
        kwargs = {"name": None if _is_missing(name) else str(name),
                  "repeat": 1 if _is_missing(rec.get("repeat")) else rec["repeat"]}
        try:
            out.append((Gemm if kind == "gemm" else Conv)(*[rec[f] for f in fields], **kwargs))
        except TopologyFormatError as exc:
            raise TopologyFormatError(f"layer row {i}: {exc}") from None
    return out


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


_CONV_HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"
_GEMM_HEADER = "Layer, M, N, K,"


def load_topology_csv(path) -> list:
    """Layers of a SCALE-Sim topology CSV (conv or GEMM format, detected from the header).

    Conv rows: ``name, H, W, FH, FW, C, num_filters, stride,`` (H, W padded). GEMM rows: ``name, M, N, K,``.
    As in SCALE-Sim, a conv whose name contains ``DP`` is depthwise: C single-channel convolutions
    (here one Conv with c=1 and repeat=C). A trailing sparsity column (``N:M``) is ignored.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("Layer, M, N, K,\\nfc, 1, 1000, 512,\\n")
    >>> load_topology_csv(p)
    [Gemm(m=1, n=1000, k=512, name='fc', repeat=1)]
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            raw_lines = fh.read().splitlines()
    except OSError as exc:
        raise TopologyFormatError(f"{path}: cannot read topology file ({exc.strerror})") from None
    lines = []
    for no, raw in enumerate(raw_lines, start=1):
        try:
            lines.append(raw.decode("utf-8-sig" if no == 1 else "utf-8"))
        except UnicodeDecodeError as exc:
            raise TopologyFormatError(f"{path}:{no}: not UTF-8 text (byte {raw[exc.start]:#04x} at column "
                                      f"{exc.start + 1}); a topology is a UTF-8 CSV file") from None
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    if not numbered:
        raise TopologyFormatError(f"{path}: empty topology file; expected a header like '{_CONV_HEADER}' "
                                  f"or '{_GEMM_HEADER}'")
    head_no, head = numbered[0]
    header = [c.strip().lower() for c in head.split(",") if c.strip()]
    if len(header) >= 4 and header[1:4] == ["m", "n", "k"]:
        kind, width = "gemm", 4
    elif len(header) >= 8 and "ifmap" in header[1]:
        kind, width = "conv", 8
    else:
        raise TopologyFormatError(f"{path}:{head_no}: unrecognised header {head.strip()!r}; expected "
                                  f"'{_CONV_HEADER}' or '{_GEMM_HEADER}'")
    layers = []
    for no, line in numbered[1:]:
        cells = [c.strip() for c in line.split(",")]
        if cells and cells[-1] == "":
            cells = cells[:-1]  # SCALE-Sim rows end with a comma
        if len(cells) == width + 1 and not _is_int(cells[-1]):
            # SCALE-Sim reads the first fields and ignores the rest: a sparsity ratio N:M, or text after
            # the final comma as in its own mobilenet_paper.csv ("..., 1,#dw")
            cells = cells[:-1]
        if len(cells) != width:
            expected = _CONV_HEADER if kind == "conv" else _GEMM_HEADER
            raise TopologyFormatError(f"{path}:{no}: expected {width} fields ({expected}) got {len(cells)}")
        name, raw = cells[0], cells[1:]
        values = []
        for label, text in zip(header[1:width], raw):
            try:
                values.append(int(text))
            except ValueError:
                raise TopologyFormatError(f"{path}:{no}: field '{label}' must be an integer, got {text!r}") from None
        try:
            if kind == "gemm":
                layers.append(Gemm(*values, name=name))
            elif "DP" in name:
                h, w, fh, fw, c, k, s = values
                layers.append(Conv(h, w, fh, fw, 1, k, s, name=name, repeat=c))
            else:
                layers.append(Conv(*values, name=name))
        except TopologyFormatError as exc:
            raise TopologyFormatError(f"{path}:{no}: {exc}") from None
    if not layers:
        raise TopologyFormatError(f"{path}: the topology has a header but no layers")
    return layers
