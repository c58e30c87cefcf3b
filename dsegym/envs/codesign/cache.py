"""The on-disk cache of trained weights and measured accuracies.

Every entry is keyed by a hash of what produced it (network, bits, seed, training recipe and the
versions of torch, scikit-learn and numpy), so a library upgrade never serves stale numbers. Entries
are written to a temporary file and renamed, so a killed build never leaves a half-written entry; an
unreadable entry is dropped and recomputed (the cache holds derived data only).

>>> import tempfile
>>> c = DiskCache(tempfile.mkdtemp())
>>> k = cache_key(kind="demo", seed=1)
>>> c.get_json(k) is None
True
>>> c.put_json(k, {"accuracy": 0.97}); c.get_json(k)
{'accuracy': 0.97}
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

CACHE_ENV = "DSEGYM_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$DSEGYM_CACHE_DIR`` if set, else ``~/.cache/dsegym``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "dsegym")


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """Versions of the libraries a trained network depends on (part of every cache key)."""
    import numpy
    import sklearn
    import torch

    return {"torch": torch.__version__, "sklearn": sklearn.__version__, "numpy": numpy.__version__}


def cache_key(**fields: Any) -> str:
    """A stable hash of ``fields`` plus the library versions."""
    blob = json.dumps({**fields, "versions": library_versions()}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class DiskCache:
    """JSON records and torch state dicts under one folder, two levels of hash-named files."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_cache_dir() / "codesign"

    def _path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{suffix}"

    def get_json(self, key: str) -> dict | None:
        """The record stored under ``key``, or None (an unreadable one is dropped with a warning)."""
        path = self._path("records", key, ".json")
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            warnings.warn(f"dsegym: dropping unreadable cache entry {path}: {exc}", stacklevel=2)
            path.unlink(missing_ok=True)
            return None

    def put_json(self, key: str, record: dict) -> None:
        """Store a JSON-serialisable record under ``key`` atomically."""
        atomic_write_bytes(self._path("records", key, ".json"), json.dumps(record).encode())

    def get_state(self, key: str):
        """The torch state dict stored under ``key``, or None (an unreadable one is dropped)."""
        import torch

        path = self._path("weights", key, ".pt")
        try:
            return torch.load(path, weights_only=True)
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - any unreadable file is recomputed
            warnings.warn(f"dsegym: dropping unreadable cache entry {path}: {exc}", stacklevel=2)
            path.unlink(missing_ok=True)
            return None

    def put_state(self, key: str, state) -> None:
        """Store a torch state dict under ``key`` atomically."""
        import torch

        buf = io.BytesIO()
        torch.save(state, buf)
        atomic_write_bytes(self._path("weights", key, ".pt"), buf.getvalue())
