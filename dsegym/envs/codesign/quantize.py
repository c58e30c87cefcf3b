"""Uniform fake quantisation of a trained network, per layer, for PTQ and QAT.

Weights: symmetric, per output channel, ``2**(b-1) - 1`` levels each side of zero (2 bits is ternary).
Activations: unsigned after ReLU, ``2**a - 1`` levels up to a clipping value calibrated on training
images (the 99.99th percentile, so one outlier does not waste the range). This is the standard integer
scheme of Jacob et al. (CVPR 2018) and of Krishnamoorthi's quantisation white paper (arXiv 1806.08342),
with a straight-through estimator for QAT (Bengio et al., arXiv 1308.3432).

>>> import torch
>>> w = torch.tensor([[0.6, -1.0, 0.2]])
>>> quantize_weight(w, 2).tolist()
[[1.0, -1.0, 0.0]]
>>> quantize_weight(w, 8).sub(w).abs().max().item() < 1.0 / 127
True
"""
from __future__ import annotations

import torch
import torch.nn as nn

CALIBRATION_QUANTILE = 0.9999


def _ste(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """q in the forward pass, the identity's gradient in the backward pass."""
    return x + (q - x).detach()


def quantize_weight(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Symmetric per-output-channel quantisation of a weight tensor (first dim = output channel)."""
    qmax = 2 ** (bits - 1) - 1
    flat = w.detach().reshape(w.shape[0], -1)
    scale = flat.abs().amax(dim=1).clamp_min(1e-12) / qmax
    scale = scale.reshape(-1, *([1] * (w.dim() - 1)))
    q = torch.clamp(torch.round(w / scale), -qmax, qmax) * scale
    return _ste(w, q)


def quantize_activation(x: torch.Tensor, bits: int, clip: float) -> torch.Tensor:
    """Unsigned uniform quantisation of a non-negative activation to ``2**bits - 1`` steps of clip."""
    levels = 2 ** bits - 1
    scale = max(clip, 1e-12) / levels
    q = torch.clamp(torch.round(x / scale), 0, levels) * scale
    return _ste(x, q)


class QuantizedNet(nn.Module):
    """A trained ``NetArch.build()`` network run with per-layer weight and activation bits.

    ``wbits``/``abits`` have one entry per convolution; the classifier and the input stay at 8 bits.
    ``calibrate`` must run once (on training images) before the first forward pass.
    """

    def __init__(self, net: nn.Sequential, wbits, abits, classifier_bits: int = 8, clips=None):
        super().__init__()
        self.net = net
        self.convs = [m for m in net if isinstance(m, nn.Conv2d)]
        self.fc = [m for m in net if isinstance(m, nn.Linear)][0]
        if len(wbits) != len(self.convs) or len(abits) != len(self.convs):
            raise ValueError(f"need {len(self.convs)} weight and activation bit widths, "
                             f"got {len(wbits)} and {len(abits)}")
        self.wbits, self.abits, self.classifier_bits = tuple(wbits), tuple(abits), classifier_bits
        self.clips: list[float] | None = list(clips) if clips is not None else None

    def _run(self, x: torch.Tensor, record: list | None = None) -> torch.Tensor:
        conv_i = 0
        x = quantize_activation(x, 8, 1.0)  # digits are k/16 in [0, 1]: exact at 8 bits
        for m in self.net:
            if isinstance(m, nn.Conv2d):
                w = quantize_weight(m.weight, self.wbits[conv_i])
                x = nn.functional.conv2d(x, w, m.bias, padding=m.padding)
            elif isinstance(m, nn.ReLU):
                x = torch.relu(x)
                if record is not None:
                    record.append(torch.quantile(x.detach().flatten()[:2_000_000], CALIBRATION_QUANTILE).item())
                else:
                    x = quantize_activation(x, self.abits[conv_i], self.clips[conv_i])
                conv_i += 1
            elif isinstance(m, nn.Linear):
                x = nn.functional.linear(x, quantize_weight(m.weight, self.classifier_bits), m.bias)
            else:
                x = m(x)
        return x

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor) -> None:
        """Set each activation's clipping value from the float network's activations on ``x``."""
        record: list[float] = []
        self._run(x, record)
        self.clips = record

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the quantised network for images ``x`` (n, 1, 8, 8)."""
        if self.clips is None:
            raise RuntimeError("QuantizedNet.calibrate() must run before forward()")
        return self._run(x)
