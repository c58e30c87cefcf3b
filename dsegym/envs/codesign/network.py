"""The co-design network space: small CNNs for 8x8 digits, their shapes, and their accelerator layers.

A network is ``depth`` 3x3 or 5x5 convolutions ('same' padding, ReLU), an optional 2x2 max-pool after
the first one, and a fully connected classifier over the flattened feature map. Channels start at
``width`` and multiply by ``growth`` per layer, capped at 64, so every network is named by five
numbers and the whole space can be trained once into a table (see ``accuracy.build_table``).

Networks above ``MAC_BUDGET`` multiply-accumulates per image are outside the space: an edge budget
that also keeps the table's training time bounded (the largest allowed network trains in about 2 s).

>>> a = NetArch(depth=3, width=8, growth=2, kernel=3, pool=True)
>>> a.channels, a.macs, a.key
((8, 16, 32), 101888, 'd3-w8-g2-k3-p1')
>>> [type(l).__name__ for l in a.accelerator_layers()]
['Conv', 'Conv', 'Conv', 'Gemm']
>>> len(ARCHITECTURES)
70
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from ...errors import ConfigError

IMAGE_HW = 8  # scikit-learn digits are 8x8, one channel
N_CLASSES = 10
MAX_CHANNELS = 64
MAC_BUDGET = 1_000_000

DEPTHS = (2, 3, 4)
WIDTHS = (4, 8, 16, 32, 64)
GROWTHS = (1, 2)
KERNELS = (3, 5)
POOLS = (False, True)
WEIGHT_BITS = (2, 3, 4, 6, 8)
ACT_BITS = (4, 8)
# The classifier's weights and the input image stay at 8 bits, as is usual for first/last layers;
# the searched bits are the convolutions'.
CLASSIFIER_BITS = 8


@dataclass(frozen=True)
class NetArch:
    """One network of the space (see the module docstring)."""

    depth: int
    width: int
    growth: int
    kernel: int
    pool: bool

    def __post_init__(self):
        for name, allowed in (("depth", DEPTHS), ("width", WIDTHS), ("growth", GROWTHS),
                              ("kernel", KERNELS), ("pool", POOLS)):
            value = getattr(self, name)
            if value not in allowed or isinstance(value, bool) != (name == "pool"):
                raise ConfigError(f"network {name} must be one of {list(allowed)}, got {value!r}")

    @property
    def channels(self) -> tuple[int, ...]:
        """Output channels of each convolution."""
        return tuple(min(MAX_CHANNELS, self.width * self.growth ** i) for i in range(self.depth))

    def input_hw(self, layer: int) -> int:
        """Spatial size of a convolution's (unpadded) input: the pool halves it after layer 0."""
        return IMAGE_HW // 2 if (self.pool and layer > 0) else IMAGE_HW

    @property
    def feature_hw(self) -> int:
        """Spatial size of the last feature map."""
        return IMAGE_HW // 2 if self.pool else IMAGE_HW

    @property
    def features(self) -> int:
        """Inputs of the classifier: the flattened last feature map."""
        return self.channels[-1] * self.feature_hw ** 2

    @property
    def macs(self) -> int:
        """Multiply-accumulates per image (convolutions with 'same' padding, plus the classifier)."""
        total, c_in = 0, 1
        for i, c_out in enumerate(self.channels):
            total += self.input_hw(i) ** 2 * self.kernel ** 2 * c_in * c_out
            c_in = c_out
        return total + self.features * N_CLASSES

    @property
    def params(self) -> int:
        """Trainable parameters (weights and biases)."""
        total, c_in = 0, 1
        for c_out in self.channels:
            total += self.kernel ** 2 * c_in * c_out + c_out
            c_in = c_out
        return total + self.features * N_CLASSES + N_CLASSES

    @property
    def key(self) -> str:
        """A short stable name, e.g. 'd3-w8-g2-k3-p1' (cache keys use it)."""
        return f"d{self.depth}-w{self.width}-g{self.growth}-k{self.kernel}-p{int(self.pool)}"

    def accelerator_layers(self, batch: int = 1):
        """The network as the accelerator runs it on ``batch`` images: SCALE-Sim convs on the padded
        input (the batch shares the weights), then the classifier as a batch x 10 x features GEMM. Max-pooling is not a MAC workload and is
        left out (its cost is a comparison per input pixel, below 1% of any network here).
        """
        from ..accelerator.layers import Conv, Gemm

        layers, c_in, pad = [], 1, self.kernel - 1
        for i, c_out in enumerate(self.channels):
            hw = self.input_hw(i) + pad
            layers.append(Conv(hw, hw, self.kernel, self.kernel, c_in, c_out, 1, name=f"conv{i}", batch=batch))
            c_in = c_out
        layers.append(Gemm(batch, N_CLASSES, self.features, name="fc"))
        return layers

    def build(self):
        """A fresh (untrained) torch module of this network."""
        import torch.nn as nn

        layers, c_in = [], 1
        for i, c_out in enumerate(self.channels):
            layers += [nn.Conv2d(c_in, c_out, self.kernel, padding=self.kernel // 2), nn.ReLU()]
            if self.pool and i == 0:
                layers.append(nn.MaxPool2d(2))
            c_in = c_out
        layers += [nn.Flatten(), nn.Linear(self.features, N_CLASSES)]
        return nn.Sequential(*layers)

    @classmethod
    def from_key(cls, key: str) -> NetArch:
        """The network a ``key`` names (ConfigError for a malformed key)."""
        try:
            d, w, g, k, p = (part[1:] for part in key.split("-"))
            return cls(int(d), int(w), int(g), int(k), bool(int(p)))
        except (ValueError, TypeError):
            raise ConfigError(f"network key {key!r} must look like 'd3-w8-g2-k3-p1'") from None


def _all_architectures() -> tuple[NetArch, ...]:
    out = []
    for d, w, g, k, p in itertools.product(DEPTHS, WIDTHS, GROWTHS, KERNELS, POOLS):
        if g == 2 and w == MAX_CHANNELS:
            continue  # the same network as growth 1
        arch = NetArch(d, w, g, k, p)
        if arch.macs <= MAC_BUDGET:
            out.append(arch)
    return tuple(out)


ARCHITECTURES: tuple[NetArch, ...] = _all_architectures()
