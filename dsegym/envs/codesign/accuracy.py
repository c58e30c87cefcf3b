"""Measured accuracy of a quantised network: trained for real, averaged over seeds, cached on disk.

A network's float weights are trained once per seed (``train_float``) and cached. A bit assignment is
then measured by post-training quantisation (PTQ) of those weights; where PTQ collapses (its mean
accuracy falls more than ``COLLAPSE_DROP`` below float) the network is fine-tuned with a few epochs of
quantisation-aware training (QAT) instead, and ``quant_method`` says which was used. Accuracy is the
mean over ``SEEDS``; ``accuracy_std`` is the spread between seeds (about 0.8 points for these
networks, so differences below that are noise).

``build_table`` trains every network of the space once, in a process pool, and stores the float and
uniform-precision accuracies in ``accuracy_table.parquet`` beside the cache; an oracle over the same
cache then answers any bit assignment from the cached weights, and trains on demand what is missing.

>>> import tempfile
>>> from dsegym.envs.codesign.network import NetArch
>>> oracle = AccuracyOracle(tempfile.mkdtemp(), seeds=(0,))
>>> r = oracle.measure(NetArch(2, 4, 2, 3, True), (8, 8), (8, 8))
>>> r["quant_method"], abs(r["accuracy"] - r["float_accuracy"]) < 0.02
('ptq', True)
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from .cache import DiskCache, atomic_write_bytes, cache_key
from .network import ACT_BITS, ARCHITECTURES, WEIGHT_BITS, NetArch
from .training import RECIPE, activation_clips, ptq_accuracy, qat_accuracy, train_float

SEEDS = (0, 1, 2)
COLLAPSE_DROP = 0.02  # PTQ this far below float counts as collapsed: QAT instead
TABLE_NAME = "accuracy_table.parquet"


def _check_bits(arch: NetArch, wbits: Sequence[int], abits: Sequence[int]) -> tuple[tuple, tuple]:
    wbits, abits = tuple(int(b) for b in wbits), tuple(int(b) for b in abits)
    if len(wbits) != arch.depth or len(abits) != arch.depth:
        raise ConfigError(f"network {arch.key} has {arch.depth} convolutions: give {arch.depth} weight and "
                          f"activation bit widths, got {len(wbits)} and {len(abits)}")
    bad = [b for b in wbits if b not in WEIGHT_BITS] + [b for b in abits if b not in ACT_BITS]
    if bad:
        raise ConfigError(f"bit widths {bad} not allowed: weights take {list(WEIGHT_BITS)}, "
                          f"activations {list(ACT_BITS)}")
    return wbits, abits


class AccuracyOracle:
    """Measured accuracies over a disk cache; see the module docstring."""

    def __init__(self, cache_dir: str | os.PathLike | None = None, seeds: Sequence[int] = SEEDS,
                 train_missing: bool = True, epochs: int = RECIPE["epochs"]):
        if not seeds:
            raise ConfigError("accuracy needs at least one training seed")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= 100:
            raise ConfigError(f"epochs must be an integer from 1 to 100, got {epochs!r}")
        self.epochs = epochs
        self.recipe = {**RECIPE, "epochs": epochs}
        self.cache = DiskCache(cache_dir)
        self.seeds = tuple(int(s) for s in seeds)
        self.train_missing = train_missing
        self.collapse_drop = COLLAPSE_DROP
        self._states: dict[tuple[str, int], object] = {}

    # --- float networks -----------------------------------------------------------------------------
    def _float_key(self, arch: NetArch, seed: int) -> str:
        return cache_key(kind="float", arch=arch.key, seed=seed, recipe=self.recipe)

    def float_network(self, arch: NetArch, seed: int):
        """(state_dict, float accuracy) of ``arch`` trained with ``seed``, from the cache or trained now."""
        if (arch.key, seed) in self._states:
            return self._states[arch.key, seed][:2]
        key = self._float_key(arch, seed)
        state, record = self.cache.get_state(key), self.cache.get_json(key)
        if state is None or record is None:
            if not self.train_missing:
                raise ConfigError(f"network {arch.key} (seed {seed}) is not in the accuracy cache "
                                  f"{self.cache.root}; build the table or allow training")
            state, acc = train_float(arch, seed, self.epochs)
            self.cache.put_state(key, state)
            record = {"accuracy": acc}
        if "clips" not in record:
            record["clips"] = activation_clips(arch, state)
            self.cache.put_json(key, record)
        self._states[arch.key, seed] = (state, record["accuracy"], record["clips"])
        return self._states[arch.key, seed][:2]

    def is_cached(self, arch: NetArch) -> bool:
        """Whether every seed of ``arch`` is trained and in the cache."""
        return all(self.cache.get_json(self._float_key(arch, s)) is not None for s in self.seeds)

    # --- quantised ----------------------------------------------------------------------------------
    def _quant(self, method: str, arch: NetArch, wbits, abits, seed: int) -> float:
        key = cache_key(kind=method, arch=arch.key, wbits=wbits, abits=abits, seed=seed, recipe=self.recipe)
        record = self.cache.get_json(key)
        if record is None:
            state, _ = self.float_network(arch, seed)
            clips = self._states[arch.key, seed][2]
            if method == "ptq":
                acc = ptq_accuracy(arch, state, wbits, abits, clips)
            else:
                acc = qat_accuracy(arch, state, wbits, abits, seed, clips)
            record = {"accuracy": acc}
            self.cache.put_json(key, record)
        return record["accuracy"]

    def measure(self, arch: NetArch, wbits: Sequence[int], abits: Sequence[int]) -> dict:
        """Mean and spread over seeds of the test accuracy of ``arch`` at these per-layer bits."""
        wbits, abits = _check_bits(arch, wbits, abits)
        floats = np.array([self.float_network(arch, s)[1] for s in self.seeds])
        accs = np.array([self._quant("ptq", arch, wbits, abits, s) for s in self.seeds])
        method = "ptq"
        if accs.mean() < floats.mean() - self.collapse_drop:
            accs = np.array([self._quant("qat", arch, wbits, abits, s) for s in self.seeds])
            method = "qat"
        return {"accuracy": float(accs.mean()), "accuracy_std": float(accs.std(ddof=1)) if len(accs) > 1 else 0.0,
                "float_accuracy": float(floats.mean()), "quant_method": method}


def _train_job(args):
    cache_dir, arch_key, seed = args
    oracle = AccuracyOracle(cache_dir, seeds=(seed,))
    arch = NetArch.from_key(arch_key)
    _, acc = oracle.float_network(arch, seed)
    rows = [{"arch": arch_key, "seed": seed, "wbits": 32, "abits": 32, "accuracy": acc, "method": "float"}]
    for w in WEIGHT_BITS:
        for a in ACT_BITS:
            q = oracle._quant("ptq", arch, (w,) * arch.depth, (a,) * arch.depth, seed)
            rows.append({"arch": arch_key, "seed": seed, "wbits": w, "abits": a, "accuracy": q, "method": "ptq"})
    return rows


def build_table(cache_dir: str | os.PathLike | None = None, workers: int | None = None,
                seeds: Sequence[int] = SEEDS, archs: Iterable[NetArch] = ARCHITECTURES,
                progress: bool = True):
    """Train every network x seed (in ``workers`` processes) and write the accuracy table.

    Rows: network, seed, uniform weight/activation bits (32 = float) and measured test accuracy. The
    table goes to ``<cache>/accuracy_table.parquet``; the weights stay in the cache for the oracle.
    Re-running finds everything cached and only rewrites the table.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    root = DiskCache(cache_dir).root
    jobs = [(str(root), a.key, int(s)) for a in archs for s in seeds]
    jobs.sort(key=lambda j: -NetArch.from_key(j[1]).macs)  # the longest first keeps both workers busy
    workers = workers or min(2, os.cpu_count() or 1)
    rows: list[dict] = []
    bar = tqdm(total=len(jobs), desc="accuracy table", unit="net", disable=not progress)
    if workers <= 1:
        for job in jobs:
            rows += _train_job(job)
            bar.update()
    else:
        import multiprocessing

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for part in pool.map(_train_job, jobs):
                rows += part
                bar.update()
    bar.close()
    table = pd.DataFrame(rows).sort_values(["arch", "seed", "wbits", "abits"]).reset_index(drop=True)
    path = Path(root) / TABLE_NAME
    atomic_write_bytes(path, table.to_parquet(index=False))
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dsegym.envs.codesign.accuracy [--cache DIR] [--workers N]``: build the table."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Train every co-design network and write the accuracy table.")
    parser.add_argument("--cache", help="cache folder (default: $DSEGYM_CACHE_DIR/codesign or ~/.cache/dsegym/codesign)")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    table = build_table(args.cache, workers=args.workers)
    floats = table[table.method == "float"].groupby("arch").accuracy.mean()
    print(f"{table.arch.nunique()} networks x {table.seed.nunique()} seeds in {time.perf_counter() - start:.1f} s; "
          f"float accuracy {floats.min():.3f}-{floats.max():.3f} (median {floats.median():.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
