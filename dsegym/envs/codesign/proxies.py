"""Zero-cost proxies of a network's trainability: cheap stand-ins for measured accuracy, labelled so.

- ``params``: trainable parameter count.
- ``synflow`` (Tanaka et al., NeurIPS 2020): sum |theta * dR/dtheta| with every weight made positive and
  an all-ones input, R the summed output; data-free.
- ``grad_norm`` (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021): the summed
  L2 norms of the cross-entropy gradients on one batch of training images at initialisation.

Each runs at initialisation (seeded) in well under a second. How far they rank networks like
measured accuracy does is reported by ``benchmarks/bench_codesign.py`` (Kendall tau); they are
fidelities for cheap screening, never a substitute for the ``accuracy`` objective.

>>> from dsegym.envs.codesign.network import NetArch
>>> small, big = NetArch(2, 4, 1, 3, True), NetArch(3, 16, 2, 3, True)
>>> [proxy_scores(a, "params") < proxy_scores(big, "params") for a in (small,)]
[True]
>>> proxy_scores(small, "synflow") == proxy_scores(small, "synflow")
True
"""
from __future__ import annotations

from ...errors import ConfigError
from .network import NetArch

PROXIES = ("params", "synflow", "grad_norm")
PROXY_BATCH = 64


def _synflow(arch: NetArch) -> float:
    import torch

    model = arch.build().double()
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()
    x = torch.ones(1, 1, 8, 8, dtype=torch.float64)
    model(x).sum().backward()
    with torch.no_grad():
        return float(sum((p * p.grad).abs().sum() for p in model.parameters()))


def _grad_norm(arch: NetArch) -> float:
    import torch

    from .digits import load_digits_split

    data = load_digits_split()
    model = arch.build()
    loss = torch.nn.functional.cross_entropy(model(data.x_train[:PROXY_BATCH]), data.y_train[:PROXY_BATCH])
    loss.backward()
    with torch.no_grad():
        return float(sum(p.grad.norm() for p in model.parameters()))


def proxy_scores(arch: NetArch, proxy: str, seed: int = 0) -> float:
    """The zero-cost proxy ``proxy`` of ``arch`` at a seeded initialisation (higher = predicted better)."""
    if proxy not in PROXIES:
        raise ConfigError(f"unknown proxy {proxy!r}; allowed: {', '.join(PROXIES)}")
    if proxy == "params":
        return float(arch.params)
    from .training import _scoped_torch

    with _scoped_torch(seed):
        return _synflow(arch) if proxy == "synflow" else _grad_norm(arch)
