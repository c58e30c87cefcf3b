"""Training, post-training quantisation and quantisation-aware training of one network on digits.

Everything runs single-threaded with the seed scoped to the call (the caller's torch RNG state and
thread count are restored), so the same seed gives the same weights in any process.

>>> from dsegym.envs.codesign.network import NetArch
>>> arch = NetArch(2, 4, 2, 3, True)
>>> state, acc = train_float(arch, seed=0)
>>> acc > 0.9, train_float(arch, seed=0)[1] == acc
(True, True)
"""
from __future__ import annotations

import contextlib

from .digits import load_digits_split
from .network import CLASSIFIER_BITS, NetArch

# The recipe is part of every cache key: change it and the cache refills.
RECIPE = {"epochs": 10, "batch_size": 128, "lr": 1e-2, "qat_epochs": 3, "qat_lr": 1e-3,
          "calibration_images": 512, "calibration": "8-bit weights, once per network"}


@contextlib.contextmanager
def _scoped_torch(seed: int):
    """One thread and a private RNG stream for the duration of the block."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield torch
    finally:
        torch.set_num_threads(threads)


def _fit(model, params, lr: float, epochs: int, seed: int) -> None:
    """Adam over shuffled mini-batches of the training split for ``epochs`` epochs."""
    import torch

    data = load_digits_split()
    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(seed)
    n, bs = len(data.x_train), RECIPE["batch_size"]
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
            loss.backward()
            opt.step()
    model.eval()


def test_accuracy(model) -> float:
    """Top-1 accuracy on the fixed test split."""
    import torch

    data = load_digits_split()
    with torch.no_grad():
        return (model(data.x_test).argmax(1) == data.y_test).float().mean().item()


def train_float(arch: NetArch, seed: int, epochs: int = RECIPE["epochs"]):
    """Train ``arch`` from scratch; returns (state_dict, float test accuracy)."""
    with _scoped_torch(seed):
        model = arch.build()
        _fit(model, model.parameters(), RECIPE["lr"], epochs, seed)
        return {k: v.clone() for k, v in model.state_dict().items()}, test_accuracy(model)


def activation_clips(arch: NetArch, state) -> list[float]:
    """Clipping value of each convolution's activations, calibrated on training images with the float
    weights; it depends on the network only, not on the bits, so it is computed once per network."""
    from .quantize import QuantizedNet

    with _scoped_torch(0):
        model = arch.build()
        model.load_state_dict(state)
        qnet = QuantizedNet(model, (8,) * arch.depth, (8,) * arch.depth, CLASSIFIER_BITS)
        qnet.calibrate(load_digits_split().x_train[:RECIPE["calibration_images"]])
        return qnet.clips


def _quantized(arch: NetArch, state, wbits, abits, clips=None):
    from .quantize import QuantizedNet

    model = arch.build()
    model.load_state_dict(state)
    return QuantizedNet(model, wbits, abits, CLASSIFIER_BITS, clips or activation_clips(arch, state))


def ptq_accuracy(arch: NetArch, state, wbits, abits, clips=None) -> float:
    """Test accuracy after post-training quantisation of the float weights (no retraining)."""
    with _scoped_torch(0):
        return test_accuracy(_quantized(arch, state, wbits, abits, clips).eval())


def qat_accuracy(arch: NetArch, state, wbits, abits, seed: int, clips=None) -> float:
    """Test accuracy after a few epochs of quantisation-aware training from the float weights."""
    with _scoped_torch(seed):
        qnet = _quantized(arch, state, wbits, abits, clips)
        _fit(qnet, qnet.net.parameters(), RECIPE["qat_lr"], RECIPE["qat_epochs"], seed)
        return test_accuracy(qnet)
