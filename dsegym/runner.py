"""Run experiments: every run (problem x agent x hyperparameters x seed) on a local process pool or Ray,
writing each batch of trials to the results store as it finishes, and resuming exactly.

**Exact resume.** A run is rebuilt from its spec with its seed; each ``ask`` is answered from the
store while recorded trials last (the recorded design must equal the asked one, else the run stops
with an error rather than mix two histories); only then is the simulator called. Rows therefore equal
an uninterrupted run's rows, and no trial is evaluated or stored twice.

**Where work runs.**

- one run, or ``workers=1``: in this process (no scheduling cost at all);
- local (default): a process pool sized to the machine; each worker runs whole runs and commits to the
  store itself;
- Ray (``ray="auto"`` joins a running cluster or starts a local one; ``"local"`` always starts one;
  otherwise an address): for cheap simulators a chunk of runs is one task, and the driver stores the
  rows the task returns; for expensive simulators (a design takes over ``EXPENSIVE_S`` seconds) the
  agents stay in the driver and each batch of designs is spread over tasks. Tasks are retried
  (``max_retries``) and rows reach the store exactly once (``UNIQUE(run_id, trial_index)``).

SB3 agents cannot be pickled, so specs (plain data) travel and agents are always built where they run.

>>> import tempfile
>>> from dsegym.results import RunSpec, load
>>> out = tempfile.mkdtemp()
>>> summary = run_experiment([RunSpec("toy-accel", "random", seed=0, budget=6, batch_size=3)], out,
...                          progress=False)
>>> summary["trials_new"], len(load(out))
(6, 6)
>>> run_experiment([RunSpec("toy-accel", "random", seed=0, budget=6, batch_size=3)], out,
...                progress=False)["trials_new"]  # already done: nothing is evaluated again
0
"""
from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from .errors import ConfigError
from .results import ResultsStore, RunSpec, _canon, _plain

EXPENSIVE_S = 0.5  # seconds per design above which Ray spreads batches instead of whole runs
COMMIT_INTERVAL_S = 0.05  # a run commits its finished batches at most this often


class ReplayMismatch(ConfigError):
    """A resumed run asked a design other than the one recorded: the stored run cannot be continued."""


# --- one run ------------------------------------------------------------------------------------------
_PROBLEMS: dict[str, Any] = {}  # per process: runs of one problem share it (traces, tables, JIT warm-up)


def build_problem(spec: RunSpec):
    """The run's problem, with the experiment's objective weights and limits applied.

    Built once per process for each (problem, options, objective): simulators are pure functions of
    the designs they get, and building one can cost seconds (trace generation, layer tables).
    """
    key = _canon([spec.problem, spec.problem_options, spec.objective])
    if key not in _PROBLEMS:
        if len(_PROBLEMS) >= 16:
            _PROBLEMS.pop(next(iter(_PROBLEMS)))
        _PROBLEMS[key] = _build_problem(spec)
    return _PROBLEMS[key]


def _build_problem(spec: RunSpec):
    from .registry import make
    problem = make(spec.problem, **spec.problem_options)
    weights = dict(spec.objective.get("weights", {}))
    limits = dict(spec.objective.get("limits", {}))
    known = {o.metric for o in problem.objectives}
    for what, d in (("weights", weights), ("limits", limits)):
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"objective {what} name metrics {unknown} that '{spec.problem}' does not have; "
                              f"allowed: {', '.join(sorted(known))}")
    if weights or limits:
        problem.objectives = [dataclasses.replace(o, weight=weights.get(o.metric, o.weight),
                                                  limit=limits.get(o.metric, o.limit)) for o in problem.objectives]
    return problem


def execute_run(spec: RunSpec, recorded: Sequence[dict[str, Any]] = (),
                on_batch: Callable[[list[dict[str, Any]]], None] | None = None,
                evaluate: Callable[[Any, list[dict]], Any] | None = None, problem=None, progress: bool = False):
    """Run ``spec`` to its budget, answering asks from ``recorded`` trials first.

    ``on_batch`` receives each newly evaluated batch of trials (to store it) before the agent is told.
    ``evaluate(problem, designs)`` replaces ``problem.evaluate`` (Ray spreads it over tasks).
    Returns every trial of the run, recorded and new, by trial index.
    """
    import pandas as pd

    from .agents import make as make_agent
    problem = problem if problem is not None else build_problem(spec)
    agent = make_agent(spec.agent, problem, seed=spec.seed, **spec.hparams)
    recorded = list(recorded)
    trials: list[dict[str, Any]] = []
    done = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=spec.budget, desc=spec.label(), unit="design", dynamic_ncols=True)
    # A trial's wall time is its share of the loop since the previous batch was stored: the agent's
    # learning (tell) and proposal (ask) plus the simulation, so slow agents show as slow.
    mark = time.perf_counter()
    try:
        while done < spec.budget:
            n = min(spec.batch_size, spec.budget - done)
            designs = agent.ask(n)
            rec = recorded[done:done + n]
            if len(rec) == n:
                for i, (d, r) in enumerate(zip(designs, rec)):
                    if _plain(d) != r["design"]:
                        raise ReplayMismatch(
                            f"resuming {spec.label()}: trial {done + i} was recorded as {r['design']} but the "
                            f"rebuilt agent asks {_plain(d)}; the agent is not reproducible from its seed, so the "
                            "recorded run cannot be continued (use another results directory)")
                results = pd.DataFrame([r["metrics"] for r in rec])
                trials.extend(rec)
            else:
                results = (evaluate or _evaluate)(problem, designs)
                wall = (time.perf_counter() - mark) / n
                cols = _Columns(results)
                scores = problem.score(cols).tolist()
                names = list(cols)
                lists = [cols[c].tolist() for c in names]
                batch = [{"trial_index": done + i, "design": _plain(d), "metrics": _plain(dict(zip(names, row))),
                          "score": s, "wall_time_s": wall}
                         for i, (d, row, s) in enumerate(zip(designs, zip(*lists), scores))]
                if on_batch is not None:
                    on_batch(batch)
                trials.extend(batch)
            mark = time.perf_counter()
            agent.tell(designs, results)
            done += n
            if bar is not None:
                bar.update(n)
    finally:
        agent.close()
        if bar is not None:
            bar.close()
    return trials


def _evaluate(problem, designs):
    return problem.evaluate(designs)


class _Columns(dict):
    """A results frame as numpy columns; ``len()`` is the row count, as :meth:`Problem.score` expects.

    Scoring numpy columns costs a fraction of scoring the DataFrame, which matters for the runner's
    per-trial overhead on cheap simulators (the agent scores the frame again in ``tell``).
    """

    def __init__(self, frame):
        super().__init__((c, frame[c].to_numpy()) for c in frame.columns)
        self.rows = len(frame)

    def __len__(self) -> int:
        return self.rows


def run_into_store(spec: RunSpec, directory, exclusive: bool = False, progress: bool = False):
    """Run ``spec`` writing into the store at ``directory``; returns (run_id, new trials, all trials)."""
    store = ResultsStore(directory)
    try:
        problem = build_problem(spec)
        run_id = store.register_run(spec, problem, exclusive=exclusive)
        recorded = store.trials(run_id)
        new = [0]
        pending: list = []
        last = [time.perf_counter()]

        def flush():
            if pending:
                new[0] += store.add_trials(run_id, pending)
                pending.clear()
            last[0] = time.perf_counter()

        def on_batch(batch):
            # Whole batches, committed together at most every COMMIT_INTERVAL_S: cheap simulators do not
            # pay a transaction per trial, and a kill -9 costs at most that much re-evaluation.
            pending.extend(batch)
            if time.perf_counter() - last[0] >= COMMIT_INTERVAL_S or len(pending) >= 256:
                flush()
        try:
            trials = execute_run(spec, recorded, on_batch=on_batch, problem=problem, progress=progress)
        finally:
            flush()  # also on Ctrl-C / SIGTERM / errors: every evaluated batch reaches the store
        return run_id, new[0], trials
    finally:
        store.close()


def _quiet_worker() -> None:
    """Ctrl-C reaches the whole process group: workers leave it to the parent, which stops them."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool_worker(spec: RunSpec, directory: str) -> tuple[str, int]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    run_id, new, _ = run_into_store(spec, directory)
    return run_id, new


# --- many runs ----------------------------------------------------------------------------------------
def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def run_experiment(specs: Sequence[RunSpec], directory, workers: int | None = None, ray: str | None = None,
                   progress: bool = True, granularity: str = "auto", ray_num_cpus: int | None = None) -> dict:
    """Run every spec into the results directory (skipping trials already stored); returns a summary.

    ``workers``: local pool size (default: the machine's cores). ``ray``: ``"auto"``, ``"local"`` or a
    cluster address. ``granularity``: ``"runs"``, ``"batches"`` or ``"auto"`` (Ray only).
    """
    if not specs:
        raise ConfigError("the experiment has no runs (every problem x agent pair is excluded?)")
    if granularity not in ("auto", "runs", "batches"):
        raise ConfigError(f"granularity must be auto, runs or batches, got {granularity!r}")
    store = ResultsStore(directory)
    run_ids = []
    for spec in specs:  # register every run up front: validates options and gives progress a total
        run_ids.append(store.register_run(spec, build_problem(spec)))
    total = sum(s.budget for s in specs)
    before = store.count(run_ids)
    counts = store.counts()
    todo = [s for s, r in zip(specs, run_ids) if counts.get(r, 0) < s.budget]
    t0 = time.perf_counter()
    bar = _Progress(len(specs), total, before, len(specs) - len(todo), progress)
    try:
        if ray:
            mode = _run_ray(todo, store, ray, bar, granularity, ray_num_cpus or workers)
        else:
            workers = workers or default_workers()
            if workers < 1:
                raise ConfigError(f"--workers must be at least 1, got {workers}")
            mode = _run_local(todo, store, workers, bar)
    finally:
        bar.close()
    after = store.count(run_ids)
    store.close()
    return {"directory": str(directory), "runs": len(specs), "runs_resumed_or_done": len(specs) - len(todo),
            "trials": after, "trials_before": before, "trials_new": after - before, "mode": mode,
            "seconds": round(time.perf_counter() - t0, 3)}


class _Progress:
    """A tqdm bar over trials (with ETA) whose postfix counts finished runs."""

    def __init__(self, runs: int, trials: int, trials_done: int, runs_done: int, enabled: bool):
        self.runs, self.runs_done = runs, runs_done
        self.bar = None
        self.n = trials_done
        if enabled:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=trials, initial=trials_done, unit="trial", desc="trials", dynamic_ncols=True)
            self.bar.set_postfix_str(f"runs {runs_done}/{runs}")

    def set_trials(self, n: int) -> None:
        if self.bar is not None and n > self.n:
            self.bar.update(n - self.n)
        self.n = max(self.n, n)

    def run_done(self) -> None:
        self.runs_done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"runs {self.runs_done}/{self.runs}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_local(specs: Sequence[RunSpec], store: ResultsStore, workers: int, bar: _Progress) -> str:
    if not specs:
        return "none"
    run_ids = [s.run_id for s in specs]
    offset = bar.n - store.count(run_ids)
    if workers == 1 or len(specs) == 1:
        for spec in specs:
            run_into_store(spec, store.directory)
            bar.set_trials(store.count(run_ids) + offset)
            bar.run_done()
        return "in-process"
    import concurrent.futures as cf
    import multiprocessing as mp
    # forkserver: workers start from a clean interpreter (no inherited threads or locks), once each.
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["dsegym.runner", "dsegym.agents", "pandas"])  # imported once, not per worker
    else:
        ctx = mp.get_context("spawn")
    pool = cf.ProcessPoolExecutor(max_workers=min(workers, len(specs)), mp_context=ctx, initializer=_quiet_worker)
    try:
        pending = {pool.submit(_pool_worker, s, str(store.directory)) for s in specs}
        while pending:
            done, pending = cf.wait(pending, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            for f in done:
                f.result()  # re-raise a worker's error here
                bar.run_done()
            bar.set_trials(store.count(run_ids) + offset)
    except BaseException:
        # Interrupted or failed: stop the workers now; every committed batch is already on disk.
        for p in list(getattr(pool, "_processes", {}).values()):
            p.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return f"local pool ({min(workers, len(specs))} workers)"


# --- Ray ----------------------------------------------------------------------------------------------
def init_ray(address: str, num_cpus: int | None = None):
    """Join the cluster at ``address`` (``"auto"``: a running one, else start one; ``"local"``: start one)."""
    import ray
    if ray.is_initialized():
        return ray
    kwargs = {"ignore_reinit_error": True, "log_to_driver": False, "include_dashboard": False}
    if address == "local":
        ray.init(num_cpus=num_cpus, **kwargs)
    elif address == "auto":
        try:
            ray.init(address="auto", **kwargs)
        except (ConnectionError, RuntimeError):
            ray.init(num_cpus=num_cpus, **kwargs)
    else:
        _check_reachable(address)
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(f"cannot join the Ray cluster at '{address}': {exc}; start one with "
                              "'ray start --head' or use --ray auto") from None
    return ray


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """A ConfigError now if nothing listens at a HOST:PORT cluster address. Ray itself waits minutes for
    an unreachable head before it gives up, which at the CLI looks like a hang."""
    import socket
    host, sep, port = address.split("://", 1)[-1].rpartition(":")
    if not sep or not port.isdigit():
        return  # not HOST:PORT: let Ray interpret it
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError(f"cannot reach the Ray cluster at '{address}' ({exc.strerror or exc}); start one with "
                          "'ray start --head' there, or use --ray auto") from None


def _ray_chunk(specs: list[RunSpec], recorded: dict[str, list]) -> list[tuple[str, list]]:
    """A Ray task: run a chunk of runs, returning their new trials (the driver stores them)."""
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    out = []
    for spec in specs:
        rec = recorded.get(spec.run_id, [])
        trials = execute_run(spec, rec)
        out.append((spec.run_id, trials[len(rec):]))
    return out


def _ray_evaluate(spec: RunSpec, designs: list[dict]):
    """A Ray task: evaluate a slice of a batch on the run's problem."""
    return build_problem(spec).evaluate(designs)


def _run_ray(specs: Sequence[RunSpec], store: ResultsStore, address: str, bar: _Progress, granularity: str,
             num_cpus: int | None) -> str:
    if not specs:
        return "none"
    ray = init_ray(address, num_cpus)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    cheap, expensive = [], []
    probes: dict[str, float] = {}
    for s in specs:
        if granularity == "runs":
            cheap.append(s)
        elif granularity == "batches":
            expensive.append(s)
        else:
            key = s.problem + repr(sorted(s.problem_options.items()))
            if key not in probes:
                probes[key] = _cost_per_design(s)
            (expensive if probes[key] > EXPENSIVE_S else cheap).append(s)
    run_ids = [s.run_id for s in specs]
    offset = bar.n - store.count(run_ids)
    if cheap:
        task = ray.remote(max_retries=3)(_ray_chunk)
        # Enough chunks to keep every CPU busy and balance uneven runs, few enough to amortise a task.
        n_chunks = min(len(cheap), 4 * cpus)
        size = math.ceil(len(cheap) / n_chunks)
        refs = {}
        for i in range(0, len(cheap), size):
            chunk = list(cheap[i:i + size])
            recorded = {s.run_id: store.trials(s.run_id) for s in chunk}
            refs[task.remote(chunk, recorded)] = chunk
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1, timeout=0.5)
            for ref in ready:
                for run_id, trials in ray.get(ref):
                    store.add_trials(run_id, trials)
                    bar.run_done()
                bar.set_trials(store.count(run_ids) + offset)
    if expensive:
        _ray_batches(ray, expensive, store, cpus, bar, run_ids, offset)
    parts = [f"{len(cheap)} runs as tasks"] if cheap else []
    parts += [f"{len(expensive)} runs as batch tasks"] if expensive else []
    return f"ray ({cpus} CPUs): " + ", ".join(parts)


def _cost_per_design(spec: RunSpec) -> float:
    problem = build_problem(spec)
    designs = problem.space.sample(2, seed=0)
    t0 = time.perf_counter()
    problem.evaluate(designs)
    return (time.perf_counter() - t0) / 2


def _ray_batches(ray, specs, store, cpus, bar, run_ids, offset):
    """Agents stay in driver threads; each batch is split into up to ``cpus`` evaluation tasks."""
    import concurrent.futures as cf

    import pandas as pd
    task = ray.remote(max_retries=3)(_ray_evaluate)
    lock = threading.Lock()

    def one(spec):
        local = ResultsStore(store.directory)
        run_id = spec.run_id

        def evaluate(problem, designs):
            k = max(1, min(len(designs), cpus))
            size = math.ceil(len(designs) / k)
            refs = [task.remote(spec, designs[i:i + size]) for i in range(0, len(designs), size)]
            return pd.concat(ray.get(refs), ignore_index=True)

        def on_batch(batch):
            local.add_trials(run_id, batch)
            with lock:
                bar.set_trials(local.count(run_ids) + offset)
        try:
            execute_run(spec, local.trials(run_id), on_batch=on_batch, evaluate=evaluate)
        finally:
            local.close()
        with lock:
            bar.run_done()

    with cf.ThreadPoolExecutor(max_workers=max(1, cpus)) as ex:
        for f in [ex.submit(one, s) for s in specs]:
            f.result()
