"""``dsegym collect``: sample any registered problem into a trial dataset (Parquet + dataset card).

Rows follow the trial-dataset format (:mod:`dsegym.datasets.parquet`): ``design.NAME`` columns, one
column per metric (named with its unit), the problem's scalar ``score``, and the sampler as the
``agent`` (``sampler:sobol``). The provenance (problem id, version, options, fidelity, dsegym version,
seed, sampler, metric units, space fingerprint) goes into the Parquet metadata; ``FILE.md`` beside the
file is a short dataset card for people.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "toy.parquet")
>>> info = collect("toy-accel", 32, sampler="lhs", seed=0, path=path, progress=False)
>>> frame, meta = read_dataset(path, problem="toy-accel")
>>> len(frame), meta["sampler"], meta["problems"]["toy-accel"]["units"]["latency_cycles"]
(32, 'lhs', 'cycles')
>>> os.path.exists(path[:-len(".parquet")] + ".md")
True
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from .parquet import read_dataset, write_dataset
from .samplers import SAMPLERS, sample_designs

_CHUNK = 2048  # designs per simulator call (and per worker task)


def _evaluate_chunk(task):
    problem_id, options, cols = task
    from ..registry import make
    problem = make(problem_id, **options)
    t0 = time.perf_counter()
    results = problem.evaluate(_frame(problem.space, cols))
    return results, problem.score(results), time.perf_counter() - t0


def _evaluate_on_ray(chunks, address: str, workers: int, bar) -> list:
    """The chunks' results in order, each from a Ray task (retried if a worker dies)."""
    from ..runner import init_ray
    ray = init_ray(address, num_cpus=workers if workers > 1 else None)
    task = ray.remote(max_retries=3)(_evaluate_chunk)
    refs = [task.remote(c) for c in chunks]
    position = {ref: i for i, ref in enumerate(refs)}
    outs: list = [None] * len(refs)
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for ref in ready:
            outs[position[ref]] = ray.get(ref)
            bar.update(len(outs[position[ref]][0]))
    return outs


def _frame(space, cols):
    import pandas as pd
    return pd.DataFrame({k: cols[k] for k in space.names})


def collect_frame(problem_id: str, n: int, sampler: str = "random", seed: int = 0, workers: int = 1,
                  options: dict[str, Any] | None = None, progress: bool = True, ray: str | None = None):
    """Sample and simulate ``n`` designs; returns (trial DataFrame, provenance dict).

    ``workers`` > 1 simulates chunks of designs in a local process pool; ``ray`` (``"auto"``, ``"local"``
    or a cluster address, as for ``dsegym run --ray``) sends them to Ray tasks instead. The rows are the
    same either way: designs are drawn before any chunk is sent. On Ray, the problem must be registered in
    the workers too (a built-in problem, or one registered through the ``dsegym.problems`` entry point).
    """
    import pandas as pd

    from ..registry import make
    from ..results import dsegym_version, problem_version
    from ..units import unit_of
    options = dict(options or {})
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be an integer >= 1, got {workers!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"seed must be an integer, got {seed!r}")
    problem = make(problem_id, **options)
    space = problem.space
    cols = sample_designs(space, n, sampler, int(seed))
    chunks = [(problem_id, options, {k: v[i:i + _CHUNK] for k, v in cols.items()}) for i in range(0, n, _CHUNK)]
    from tqdm.auto import tqdm
    bar = tqdm(total=n, desc=f"collect {problem_id}", unit="design", disable=not progress)
    outs = []
    if ray:
        outs = _evaluate_on_ray(chunks, ray, workers, bar)
    elif workers == 1 or len(chunks) == 1:
        for chunk in chunks:
            t0 = time.perf_counter()
            res = problem.evaluate(_frame(space, chunk[2]))
            outs.append((res, problem.score(res), time.perf_counter() - t0))
            bar.update(len(res))
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        # fork: a problem the user registered in this process is known to the workers too
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            for out in pool.map(_evaluate_chunk, chunks):
                outs.append(out)
                bar.update(len(out[0]))
    bar.close()
    results = pd.concat([o[0] for o in outs], ignore_index=True)
    score = np.concatenate([o[1] for o in outs])
    wall = np.concatenate([np.full(len(o[0]), o[2] / max(len(o[0]), 1)) for o in outs])
    run_id = f"collect-{sampler}-{int(seed)}"
    frame = pd.DataFrame({
        "problem": problem_id, "run_id": run_id, "agent": f"sampler:{sampler}",
        "hparams": json.dumps({"sampler": sampler}), "seed": int(seed), "trial_index": np.arange(n, dtype=np.int64),
        **{f"design.{k}": cols[k] for k in space.names},
    })
    frame = pd.concat([frame, results], axis=1)
    frame["score"] = score
    frame["wall_time_s"] = wall
    units = {m: problem.unit(m) or unit_of(m) for m in results.columns}
    entry = {
        "version": problem_version(problem), "versions": [problem_version(problem)],
        "options": [json.dumps(options, sort_keys=True)], "fidelity": [problem.info.get("fidelity")],
        "units": units, "objectives": [o.describe() for o in problem.objectives],
        "samplers": [f"sampler:{sampler}"], "seeds": [int(seed)],
        "space_fingerprint": space.fingerprint(), "parameters": space.describe(),
    }
    provenance = {"dsegym_version": dsegym_version(), "source": "dsegym collect", "sampler": sampler,
                  "seed": int(seed), "n": int(n), "problem": problem_id, "problems": {problem_id: entry},
                  "runs": 1, "units": units}
    return frame, provenance


def collect(problem_id: str, n: int, sampler: str = "random", seed: int = 0, path: str | os.PathLike = "data.parquet",
            workers: int = 1, options: dict[str, Any] | None = None, progress: bool = True,
            ray: str | None = None) -> dict[str, Any]:
    """Sample ``n`` designs of ``problem_id``, simulate them and write ``path`` plus its dataset card.

    ``workers``/``ray``: where the designs are simulated (see :func:`collect_frame`)."""
    path = Path(path)
    if path.suffix != ".parquet":
        raise ConfigError(f"the output file must end in .parquet, got '{path}'")
    from .layers import LAYER_PROBLEM, collect_layer_frame
    if problem_id == LAYER_PROBLEM:  # the accelerator's per-layer form; workloads from the options
        if ray or workers != 1:
            raise ConfigError(f"'{LAYER_PROBLEM}' is collected in this process (one vectorised call per "
                              "workload); drop --workers/--ray")
        opts = dict(options or {})
        workloads = opts.pop("workloads", "resnet18")
        fidelity = opts.pop("fidelity", "physical")
        frame, provenance = collect_layer_frame(workloads, n, sampler, seed, fidelity, opts, progress)
    else:
        frame, provenance = collect_frame(problem_id, n, sampler, seed, workers, options, progress, ray=ray)
    write_dataset(frame, path, provenance)
    card = write_card(path, frame, provenance)
    return {"path": str(path), "card": str(card), "rows": len(frame), "problem": problem_id, "sampler": sampler,
            "seed": int(seed)}


def write_card(path: Path, frame, provenance: dict[str, Any]) -> Path:
    """A short Markdown dataset card beside ``path`` (``data.parquet`` -> ``data.md``)."""
    from ..results import atomic_output
    pid = provenance["problem"]
    entry = provenance["problems"][pid]
    what = "rows (design x layer)" if provenance.get("form") == "layer" else "designs"
    lines = [f"# Dataset: {pid}, {len(frame):,} {what}", "",
             (f"Sampled with `{provenance['sampler']}` (seed {provenance['seed']}) by dsegym "
              f"{provenance['dsegym_version']}; problem version `{entry['version']}`, options "
              f"`{entry['options'][0]}`, fidelity `{entry['fidelity'][0]}`, space fingerprint "
              f"`{entry['space_fingerprint']}`."), "",
             (f"Reproduce: `dsegym collect {pid} -n {len(frame)} --sampler {provenance['sampler']} "
              f"--seed {provenance['seed']} -o {path.name}`"), "", "## Parameters", "",
             "| parameter | kind | allowed |", "|---|---|---|"]
    lines += [f"| {p['name']} | {p['kind']} | {p['allowed']} |" for p in entry["parameters"]]
    lines += ["", "## Metrics", "", "| metric | unit | min | median | max |", "|---|---|---|---|---|"]
    for m, unit in entry["units"].items():
        col = frame[m].to_numpy(dtype=np.float64)
        lines.append(f"| {m} | {unit} | {np.nanmin(col):.4g} | {np.nanmedian(col):.4g} | {np.nanmax(col):.4g} |")
    lines += ["", ("Columns `design.NAME` hold the parameters; `score` is the problem's scalar cost "
                   "(lower is better). Read with `dsegym.datasets.read_dataset(path, problem=...)`."), ""]
    card = path.with_suffix(".md")
    with atomic_output(card) as tmp:
        tmp.write_text("\n".join(lines))
    return card


__all__ = ["SAMPLERS", "collect", "collect_frame", "read_dataset", "write_card"]
