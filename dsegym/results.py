"""The durable results store: every finished trial reaches disk once, as it finishes.

One SQLite database per results directory (``DIR/results.sqlite``), chosen over append-only Parquet
partitions because:

- a trial (or a batch of trials) is committed in one transaction, so a ``kill -9`` loses at most the
  batch being evaluated, never a recorded one, and leaves no half-written file;
- ``UNIQUE(run_id, trial_index)`` with ``INSERT OR IGNORE`` makes "exactly once" a database
  guarantee: a retried Ray task or two processes replaying the same run cannot duplicate a row;
- WAL mode lets several processes (two experiments into one directory, pool workers) write at the same
  time, readers never block writers, and ``busy_timeout`` serialises the short write transactions;
- Parquet partitions would need one file per batch (thousands of tiny files for cheap simulators) and
  a compaction step; SQLite ships with Python.

Parquet stays the *exchange* format: :func:`load` gives a DataFrame and ``dsegym results export``
writes the dataset the cost-model code reads (:mod:`dsegym.datasets`).

>>> import tempfile, dsegym
>>> store = ResultsStore(tempfile.mkdtemp())
>>> spec = RunSpec(problem="toy-accel", agent="random", seed=0, budget=4, batch_size=2)
>>> run_id = store.register_run(spec, dsegym.make("toy-accel"))
>>> store.add_trials(run_id, [{"trial_index": 0, "design": {"pes": 8}, "metrics": {"latency_cycles": 1.0},
...                            "score": 0.5, "wall_time_s": 0.01}])
1
>>> store.add_trials(run_id, [{"trial_index": 0, "design": {"pes": 8}, "metrics": {"latency_cycles": 1.0},
...                            "score": 0.5, "wall_time_s": 0.01}])  # the same trial again: ignored
0
>>> len(load(store.directory))
1
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, DatasetError

DB_NAME = "results.sqlite"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    problem TEXT NOT NULL, problem_version TEXT NOT NULL, problem_options TEXT NOT NULL,
    fidelity TEXT, agent TEXT NOT NULL, hparams TEXT NOT NULL, seed INTEGER NOT NULL,
    budget INTEGER NOT NULL, batch_size INTEGER NOT NULL, objective TEXT NOT NULL,
    multi_objective INTEGER NOT NULL, units TEXT NOT NULL, objectives TEXT NOT NULL,
    experiment TEXT, dsegym_version TEXT NOT NULL, config_hash TEXT NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    run_id TEXT NOT NULL REFERENCES runs(run_id), trial_index INTEGER NOT NULL,
    design TEXT NOT NULL, metrics TEXT NOT NULL, score REAL NOT NULL, wall_time_s REAL NOT NULL,
    created REAL NOT NULL,
    UNIQUE (run_id, trial_index)
);
"""


def _canon(obj: Any) -> str:
    """Canonical JSON (sorted keys, plain numbers), the form hashes use."""
    return json.dumps(_plain(obj), sort_keys=True, separators=(",", ":"))


def _record(obj: Any) -> str:
    """JSON of a design or metrics record, keys in their original order (replay rebuilds the same frame)."""
    return json.dumps(_plain(obj), separators=(",", ":"))


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # JSON has no inf/nan; keep them readable and reversible
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _unplain(value: Any) -> Any:
    if value in ("inf", "-inf", "nan"):
        return float(value)
    return value


@dataclass(frozen=True)
class RunSpec:
    """One run: a problem (with options) searched by an agent (with hyperparameters) from one seed.

    Its ``run_id`` hashes everything that decides the trials' values, so the same spec always maps to
    the same rows and a different spec can never mix with them.
    """

    problem: str
    agent: str
    seed: int
    budget: int
    batch_size: int = 1
    problem_options: dict[str, Any] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)
    objective: dict[str, Any] = field(default_factory=dict)  # weights / limits applied to the problem
    experiment: str | None = None  # name of the experiment config, for people; not part of the id

    def identity(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("experiment")
        return _plain(d)

    @property
    def run_id(self) -> str:
        return hashlib.sha256(_canon(self.identity()).encode()).hexdigest()[:16]

    def label(self) -> str:
        hp = ",".join(f"{k}={v}" for k, v in sorted(self.hparams.items()))
        return f"{self.agent}{'[' + hp + ']' if hp else ''} on {self.problem} seed {self.seed}"


def problem_version(problem) -> str:
    """The problem's declared version (``info['version']``), else a fingerprint of its declaration.

    The fingerprint covers parameters, constraints and objectives, so a changed space never passes
    for the old one even when its author forgot to bump a version.
    """
    declared = problem.info.get("version")
    if declared is not None:
        return str(declared)
    d = problem.describe()
    decl = {k: d[k] for k in ("parameters", "constraints", "objectives")}
    return "fp-" + hashlib.sha256(_canon(decl).encode()).hexdigest()[:12]


def dsegym_version() -> str:
    from . import __version__
    return __version__


class ResultsStore:
    """The SQLite store of one results directory (created on first use)."""

    def __init__(self, directory: str | os.PathLike, create: bool = True):
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise ConfigError(f"results directory '{self.directory}' is an existing file, not a directory")
        self.path = self.directory / DB_NAME
        if not create and not self.path.exists():
            raise ConfigError(f"'{self.directory}' holds no results ({DB_NAME} not found); "
                              "write one with 'dsegym run' or 'dsegym search --out'")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = None
        self._pid = None

    # --- connection ---------------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        # A connection must not cross fork(): reopen in each process.
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 60000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":  # e.g. a network file system without shared memory
                raise ConfigError(f"cannot use WAL mode for '{self.path}' (got {mode}); "
                                  "put the results directory on a local disk")
            # WAL + NORMAL: a commit survives any process crash (kill -9); only an OS crash may
            # roll back the last transactions, which resume then re-runs.
            conn.execute("PRAGMA synchronous = NORMAL")
            self._write(conn, lambda c: c.executescript(_SCHEMA.replace("\n", " ")) and None, script=True)
            self._write(conn, lambda c: c.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                                                  (str(SCHEMA_VERSION),)))
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    @staticmethod
    def _write(conn: sqlite3.Connection, fn, script: bool = False):
        if script:
            return fn(conn)  # executescript commits itself; its statements are idempotent
        for attempt in range(50):
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    out = fn(conn)
                    conn.execute("COMMIT")
                    return out
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:  # busy beyond busy_timeout: try again
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise ConfigError(f"results store '{conn.execute('PRAGMA database_list').fetchone()[2]}' stayed locked; "
                          "is another process stuck?")

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    # --- runs ---------------------------------------------------------------------------------------
    def register_run(self, spec: RunSpec, problem, exclusive: bool = False) -> str:
        """Record a run (idempotent) and return its id.

        ``exclusive``: refuse if the directory already holds a *different* run (``dsegym search --out``
        keeps one run per directory, so its history files always describe that run).
        """
        run_id = spec.run_id
        units = {o.metric: o.unit for o in problem.objectives}
        metric_units = dict(getattr(problem, "metric_units", {}) or {})
        identity = spec.identity()
        config_hash = hashlib.sha256(_canon({**identity, "problem_version": problem_version(problem),
                                             "dsegym_version": dsegym_version()}).encode()).hexdigest()[:16]
        row = (run_id, spec.problem, problem_version(problem), _canon(spec.problem_options),
               problem.info.get("fidelity"), spec.agent, _canon(spec.hparams), int(spec.seed),
               int(spec.budget), int(spec.batch_size), _canon(spec.objective), int(problem.is_multi_objective),
               _canon({**units, **metric_units}), _canon([o.describe() for o in problem.objectives]),
               spec.experiment, dsegym_version(), config_hash, time.time())

        def write(c):
            if exclusive:
                other = c.execute("SELECT run_id, problem, agent, seed, budget FROM runs WHERE run_id != ? "
                                  "LIMIT 1", (run_id,)).fetchone()
                if other:
                    raise ConfigError(
                        f"'{self.directory}' already holds a different run ({other[2]} on {other[1]}, seed "
                        f"{other[3]}, budget {other[4]}); a search directory keeps one run: use another --out, "
                        "or the same arguments to resume it")
            c.execute(f"INSERT OR IGNORE INTO runs VALUES ({','.join('?' * len(row))})", row)
        self._write(self.conn, write)
        return run_id

    def runs(self):
        """Every run as a DataFrame (options and hyperparameters decoded)."""
        import pandas as pd
        df = pd.read_sql_query("SELECT * FROM runs ORDER BY created, run_id", self.conn)
        for col in ("problem_options", "hparams", "objective", "units", "objectives"):
            df[col] = df[col].map(json.loads)
        df["multi_objective"] = df["multi_objective"].astype(bool)
        return df

    # --- trials -------------------------------------------------------------------------------------
    def add_trials(self, run_id: str, trials: Iterable[Mapping[str, Any]]) -> int:
        """Insert finished trials in one transaction; returns how many were new (others are ignored)."""
        now = time.time()
        rows = [(run_id, int(t["trial_index"]), _record(t["design"]), _record(t["metrics"]), float(t["score"]),
                 float(t["wall_time_s"]), now) for t in trials]
        if not rows:
            return 0

        def write(c):
            before = c.total_changes
            c.executemany("INSERT OR IGNORE INTO trials VALUES (?,?,?,?,?,?,?)", rows)
            return c.total_changes - before
        return self._write(self.conn, write)

    def trials(self, run_id: str) -> list[dict[str, Any]]:
        """The recorded trials of one run, by trial index."""
        cur = self.conn.execute("SELECT trial_index, design, metrics, score, wall_time_s FROM trials "
                                "WHERE run_id = ? ORDER BY trial_index", (run_id,))
        return [{"trial_index": i, "design": json.loads(d),
                 "metrics": {k: _unplain(v) for k, v in json.loads(m).items()}, "score": s, "wall_time_s": w}
                for i, d, m, s, w in cur.fetchall()]

    def count(self, run_ids: Sequence[str] | None = None) -> int:
        if run_ids is None:
            return self.conn.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
        total = 0
        ids = list(run_ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            total += self.conn.execute(f"SELECT COUNT(*) FROM trials WHERE run_id IN ({','.join('?' * len(part))})",
                                       part).fetchone()[0]
        return total

    def counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT run_id, COUNT(*) FROM trials GROUP BY run_id").fetchall())


RUN_COLUMNS = ["run_id", "problem", "problem_version", "problem_options", "fidelity", "agent", "hparams", "seed",
               "budget", "batch_size", "objective", "experiment", "dsegym_version", "config_hash"]


def load(directory: str | os.PathLike, expand: bool = True):
    """Every trial of a results directory as one DataFrame, ordered by run and trial index.

    Columns: the run's provenance (``run_id``, ``problem``, ``problem_version``, ``problem_options``,
    ``fidelity``, ``agent``, ``hparams``, ``seed``, ``budget``, ``batch_size``, ``objective``,
    ``dsegym_version``, ``config_hash``), ``trial_index``, ``score``, ``wall_time_s``, and with
    ``expand`` one column per design parameter (``design.NAME``) and per metric (the metric's own name,
    which carries its unit). Options and hyperparameters are canonical JSON strings, so runs group on them.
    """
    import pandas as pd
    store = ResultsStore(directory, create=False)
    try:
        df = pd.read_sql_query(
            f"SELECT {', '.join('r.' + c for c in RUN_COLUMNS)}, t.trial_index, t.design, t.metrics, t.score, "
            "t.wall_time_s FROM trials t JOIN runs r USING (run_id) ORDER BY r.created, t.run_id, t.trial_index",
            store.conn)
    except sqlite3.DatabaseError as exc:
        raise DatasetError(f"'{store.path}' is not a readable results store: {exc}") from None
    finally:
        store.close()
    if not expand or df.empty:
        return df
    designs = pd.DataFrame([json.loads(d) for d in df.pop("design")]).add_prefix("design.")
    metrics = pd.DataFrame([{k: _unplain(v) for k, v in json.loads(m).items()} for m in df.pop("metrics")])
    return pd.concat([df.reset_index(drop=True), designs, metrics], axis=1)


def history_frame(trials: Sequence[Mapping[str, Any]], spec: RunSpec):
    """One run's trials as a history table: evaluation index, agent, seed, design, metrics, score."""
    import pandas as pd
    if not trials:
        return pd.DataFrame()
    base = pd.DataFrame({"evaluation": [t["trial_index"] for t in trials], "agent": spec.agent, "seed": spec.seed})
    designs = pd.DataFrame([t["design"] for t in trials])
    metrics = pd.DataFrame([t["metrics"] for t in trials])
    out = pd.concat([base, designs, metrics], axis=1)
    out["score"] = [t["score"] for t in trials]
    out["wall_time_s"] = [t["wall_time_s"] for t in trials]
    return out


class atomic_output:
    """Context manager giving a temporary path beside ``path``; on success it is renamed onto ``path``.

    Readers see the old file or the new one, never half of one, and an interrupted write leaves no debris.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_output(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.{threading.get_ident()}.tmp{self.path.suffix}")
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
