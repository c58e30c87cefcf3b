"""The trial-dataset Parquet format: one row per evaluated design, provenance in the file's metadata.

Columns: ``problem``, ``run_id``, ``agent``, ``hparams`` (JSON), ``seed``, ``trial_index``, one column
per design parameter (``design.NAME``), one per metric (named with its unit), ``score``,
``wall_time_s``. The Parquet key-value metadata ``dsegym`` holds JSON with the format name and
version, the dsegym version, and per problem: its version, options, fidelity, the unit of every metric,
its objectives, and the samplers (agents, seeds) that produced the rows.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import DatasetError

DATASET_FORMAT = "dsegym-trials"
FORMAT_VERSION = 1
_META_KEY = b"dsegym"
_REQUIRED = ("problem", "run_id", "agent", "seed", "trial_index", "score")


def write_dataset(frame, path: str | os.PathLike, provenance: dict[str, Any]) -> Path:
    """Write ``frame`` with ``provenance`` in the Parquet metadata, atomically (temp file, rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..results import _plain, atomic_output
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise DatasetError(f"a trial dataset needs columns {missing}")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = {"format": DATASET_FORMAT, "format_version": FORMAT_VERSION, **_plain(provenance)}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()})
    path = Path(path)
    with atomic_output(path) as tmp:
        pq.write_table(table, tmp)
    return path


def read_dataset(path: str | os.PathLike, problem: str | None = None):
    """Read a trial dataset; returns (DataFrame, provenance). ``problem``: refuse files of other problems.

    A missing, truncated or foreign file, or one of another problem, raises :class:`DatasetError`
    naming the file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"dataset '{path}' not found")
    try:
        pf = pq.ParquetFile(path)
        table = pf.read()
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DatasetError(f"dataset '{path}' is not a readable Parquet file (truncated?): {exc}") from None
    raw = (table.schema.metadata or {}).get(_META_KEY)
    if raw is None:
        raise DatasetError(f"dataset '{path}' has no dsegym provenance metadata; "
                           "write datasets with 'dsegym results export'")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        raise DatasetError(f"dataset '{path}' has corrupt dsegym metadata") from None
    if meta.get("format") != DATASET_FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise DatasetError(f"dataset '{path}' has format {meta.get('format')!r} version "
                           f"{meta.get('format_version')!r}; expected {DATASET_FORMAT!r} version {FORMAT_VERSION}")
    missing = [c for c in _REQUIRED if c not in table.column_names]
    if missing:
        raise DatasetError(f"dataset '{path}' lacks columns {missing} (wrong schema)")
    frame = table.to_pandas()
    if problem is not None:
        have = sorted(meta.get("problems", {}))
        if problem not in have:
            raise DatasetError(f"dataset '{path}' holds problems {have}, not '{problem}'")
        frame = frame[frame["problem"] == problem].reset_index(drop=True)
    return frame, meta


def export_results(directory: str | os.PathLike, path: str | os.PathLike) -> dict[str, Any]:
    """Export every trial of a results directory as a trial dataset; returns a summary."""
    from ..results import ResultsStore, dsegym_version, load
    frame = load(directory)
    if frame.empty:
        raise DatasetError(f"results directory '{directory}' holds no trials to export")
    store = ResultsStore(directory, create=False)
    runs = store.runs()
    store.close()
    from ..results import RUN_COLUMNS
    from ..units import unit_of
    fixed = set(RUN_COLUMNS) | {"trial_index", "score", "wall_time_s"}
    problems: dict[str, Any] = {}
    for pid, group in runs.groupby("problem", sort=True):
        first = group.iloc[0]
        rows = frame[frame["problem"] == pid]
        metrics = [c for c in rows.columns if c not in fixed and not c.startswith("design.") and rows[c].notna().any()]
        units = {m: first["units"].get(m) or unit_of(m) for m in metrics}
        variants = group.drop_duplicates(["problem_version", "fidelity"])
        problems[pid] = {
            "version": first["problem_version"], "versions": sorted(set(group["problem_version"])),
            "options": sorted({json.dumps(o, sort_keys=True) for o in group["problem_options"]}),
            "fidelity": [v if isinstance(v, str) else None for v in variants["fidelity"].tolist()],
            "units": units, "objectives": first["objectives"],
            "samplers": sorted({f"{a} {json.dumps(h, sort_keys=True)}" for a, h in zip(group["agent"], group["hparams"])}),
            "seeds": sorted({int(s) for s in group["seed"]}),
        }
    provenance = {"dsegym_version": dsegym_version(), "source": str(Path(directory).resolve()),
                  "problems": problems, "runs": len(runs),
                  "units": {k: v for p in problems.values() for k, v in p["units"].items()}}
    out = write_dataset(frame, path, provenance)
    return {"path": str(out), "rows": len(frame), "runs": len(runs), "problems": sorted(problems)}
