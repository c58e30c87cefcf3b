"""The experiment verbs of the ``dsegym`` command: ``search``, ``run``, ``leaderboard``, ``results export``.

``dsegym.cli`` only wires these into its parser. Interrupts are part of the contract: Ctrl-C (SIGINT)
and SIGTERM keep every stored trial, print one line and exit 130 and 143, with no traceback; the same
command then resumes.

``search --out DIR`` is a one-run experiment on the results store: it writes each batch as it finishes
and resumes. A search directory holds one run, so ``DIR/history.*`` always describe it: a different
search into the same DIR is refused (exit 2) rather than mixed in or replacing it. ``dsegym run`` keeps
any number of runs side by side in one directory.
"""
from __future__ import annotations

import json
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from .errors import ConfigError


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt is for SIGINT."""


@contextmanager
def interruptible(out_dir: str | None):
    """Turn SIGINT/SIGTERM into exit codes 130/143 with one line; the store already holds the trials."""
    def on_term(signum, frame):
        raise _Terminated()
    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except (KeyboardInterrupt, _Terminated) as exc:
        code, name = (130, "interrupted") if isinstance(exc, KeyboardInterrupt) else (143, "terminated")
        where = f"; finished trials are saved in {out_dir}; run the same command again to resume" if out_dir else ""
        print(f"dsegym: {name}{where}", file=sys.stderr)
        sys.stderr.flush()
        raise SystemExit(code) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def refuse_file(out: str | None, what: str = "--out") -> None:
    """An output directory that names an existing file is refused before any work."""
    if out and Path(out).exists() and not Path(out).is_dir():
        raise ConfigError(f"{what} '{out}' is an existing file; give a directory")


def _fmt(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _jsonable(v):
    from .results import _plain
    return _plain(v)


# --- search -------------------------------------------------------------------------------------------
def cmd_search(args, make_problem_kwargs, parse_hparams) -> None:
    from .agents import agent_info
    from .results import RunSpec, history_frame
    from .runner import build_problem, execute_run, run_into_store
    refuse_file(args.out)
    spec = RunSpec(problem=args.problem, agent=args.agent, seed=args.seed, budget=args.budget,
                   batch_size=args.batch_size, problem_options=make_problem_kwargs, hparams=parse_hparams)
    if args.budget < 1 or args.batch_size < 1:
        raise ConfigError(f"--budget and --batch-size must be positive, got {args.budget} and {args.batch_size}")
    multi = agent_info(args.agent)["multi_objective"]
    problem = build_problem(spec)
    state = {"trials": None}
    with interruptible(args.out):
        try:
            if args.out:
                _, _, trials = run_into_store(spec, args.out, exclusive=True, progress=not args.json)
            else:
                trials = execute_run(spec, problem=problem, progress=not args.json)
            state["trials"] = trials
        finally:
            if args.out and state["trials"] is None:  # interrupted: still write what is stored
                _write_partial(args.out, spec, problem)
    history = history_frame(trials, spec)
    best = int(history["score"].idxmin())
    design = trials[best]["design"]
    metrics = trials[best]["metrics"]
    result = {"problem": problem.id, "agent": args.agent, "seed": args.seed, "budget": args.budget,
              "best_design": design, "best_metrics": metrics, "best_score": float(history["score"].min()),
              "best_evaluation": best}
    pareto = None
    if multi:
        pareto = history[problem.pareto_mask(history)].reset_index(drop=True)
        result["pareto"] = pareto.to_dict("records")
    if args.out:
        result["outputs"] = _write_outputs(args.out, history, problem, spec, pareto)
    if args.json:
        print(json.dumps(_jsonable(result), indent=2))
        return
    lines = [f"{args.agent} search on {problem.id}: {args.budget} designs, seed {args.seed}",
             f"best score: {result['best_score']:.6g} (evaluation {best}; weighted sum of log-metrics, lower is better)",
             "best design:"]
    lines += [f"  {k} = {v}" for k, v in design.items()]
    lines.append("its metrics:")
    lines += [f"  {k} = {_fmt(v)}" + (f" [{problem.unit(k)}]" if problem.unit(k) else "") for k, v in metrics.items()]
    if pareto is not None:
        objs = [o.metric for o in problem.optimised]
        params = list(problem.space.names) if hasattr(problem.space, "names") else list(design)
        lines.append(f"Pareto set ({len(pareto)} designs over {', '.join(objs)}):")
        for _, row in pareto.iterrows():
            lines.append("  " + " ".join(f"{k}={row[k]}" for k in params if k in row) + "  ->  "
                         + " ".join(f"{m}={_fmt(float(row[m]))}" for m in objs))
    for kind, path in result.get("outputs", {}).items():
        lines.append(f"{kind}: {path}")
    print("\n".join(lines))


def _write_outputs(out, history, problem, spec, pareto) -> dict[str, str]:
    from .plots import save_search_outputs
    from .results import atomic_output
    paths = save_search_outputs(history, problem, out, title=f"{spec.agent} on {problem.id}, seed {spec.seed}")
    paths["store"] = str(Path(out) / "results.sqlite")
    if pareto is not None:
        p = Path(out) / "pareto.csv"
        with atomic_output(p) as tmp:
            pareto.to_csv(tmp, index=False)
        paths["pareto"] = str(p)
    return paths


def _write_partial(out, spec, problem) -> None:
    from .results import ResultsStore, history_frame
    try:
        store = ResultsStore(out)
        trials = store.trials(spec.run_id)
        store.close()
        if trials:
            from .plots import save_search_outputs
            save_search_outputs(history_frame(trials, spec), problem, out,
                                title=f"{spec.agent} on {problem.id}, seed {spec.seed} (interrupted)")
    except Exception as exc:  # noqa: BLE001  best effort only: the store already holds every finished trial
        print(f"dsegym: could not write the partial history ({exc}); the results store has the trials",
              file=sys.stderr)


# --- run ----------------------------------------------------------------------------------------------
def cmd_run(args, parse_pairs, literal) -> None:
    from .experiment import expand, load_config, parse_seeds, validate
    from .runner import run_experiment
    refuse_file(args.out)
    if args.config and args.problem:
        raise ConfigError("give either CONFIG.yaml or --problem/--agent, not both")
    if args.config:
        cfg = load_config(args.config)
    else:
        if not args.problem or not args.agent:
            raise ConfigError("give CONFIG.yaml, or --problem P --agent A --budget N")
        try:
            seeds = parse_seeds(args.seeds)
        except ValueError as exc:
            raise ConfigError(f"--seeds: {exc}") from None
        options = {k: literal(v) for k, v in parse_pairs(args.arg, "--arg").items()}
        hparams = {k: literal(v) for k, v in parse_pairs(args.hp, "--hp").items()}
        cfg = validate({"name": "cli", "budget": args.budget, "batch_size": args.batch_size, "seeds": seeds,
                        "problems": [{"id": p, "options": options} for p in args.problem],
                        "agents": [{"name": a, "hparams": hparams} for a in args.agent]}, "command line")
    specs = expand(cfg)
    with interruptible(args.out):
        summary = run_experiment(specs, args.out, workers=args.workers, ray=args.ray, progress=not args.json,
                                 granularity=args.granularity)
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['runs']} runs, {summary['trials']} trials in {summary['directory']} "
          f"({summary['trials_new']} new, {summary['trials_before']} resumed) via {summary['mode']} "
          f"in {summary['seconds']:.1f} s")
    from .leaderboard import quick_table
    print(quick_table(args.out, [s.run_id for s in specs]))


# --- leaderboard and results --------------------------------------------------------------------------
def cmd_leaderboard(args) -> None:
    from .leaderboard import build_leaderboard
    refuse_file(args.out)
    refuse_file(args.directory, "RESULTS_DIR")
    refuse_file(args.markdown and str(Path(args.markdown).parent), "--markdown's folder")
    command = "dsegym leaderboard " + " ".join(sys.argv[2:]) if args.markdown else None
    report = build_leaderboard(args.directory, args.out, progress=not args.json, markdown_copy=args.markdown,
                               command=args.command or command)
    if args.json:
        print(json.dumps(_jsonable(report["summary"]), indent=2))
        return
    print(report["markdown_table"])
    print("\n".join(f"{k}: {v}" for k, v in report["files"].items()))


def cmd_results(args) -> None:
    from .datasets import export_results
    refuse_file(args.directory, "RESULTS_DIR")
    info = export_results(args.directory, args.output)
    if args.json:
        print(json.dumps(_jsonable(info), indent=2))
        return
    print(f"wrote {info['rows']} trials of {info['runs']} runs ({', '.join(info['problems'])}) to {info['path']}")


def add_parsers(sub, add) -> None:
    """Add ``run``, ``leaderboard`` and ``results`` to the CLI's subparsers (``add`` is cli's helper)."""
    from . import cli
    p = add("run", lambda a: cmd_run(a, cli._pairs, cli._literal),
            "run an experiment (YAML config, or one problem x agent x seeds) into a results directory")
    p.add_argument("config", nargs="?", help="experiment YAML (see experiments/)")
    p.add_argument("--out", "-o", required=True, help="results directory (created; runs resume from it)")
    p.add_argument("--problem", nargs="+", help="problem id(s), instead of a config file")
    p.add_argument("--agent", nargs="+", help="agent name(s), instead of a config file")
    p.add_argument("--budget", type=int, default=100, help="simulator evaluations per run")
    p.add_argument("--batch-size", type=int, default=1, help="designs asked and evaluated together")
    p.add_argument("--seeds", default="0", help="'0-9', '1,4,7' or one seed")
    p.add_argument("--arg", "-a", nargs="+", metavar="KEY=VALUE", help="problem options")
    p.add_argument("--hp", nargs="+", metavar="KEY=VALUE", help="agent hyperparameters")
    p.add_argument("--workers", type=int, default=None, help="local process-pool size (default: all cores)")
    p.add_argument("--ray", metavar="auto|local|ADDRESS", help="run on Ray: a running cluster or a local one")
    p.add_argument("--granularity", default="auto", choices=["auto", "runs", "batches"],
                   help="Ray: runs as tasks (cheap simulators) or batches of trials as tasks (expensive)")
    p = add("leaderboard", cmd_leaderboard, "rank agents over a results directory: Markdown, HTML and PNG plots")
    p.add_argument("directory", metavar="RESULTS_DIR")
    p.add_argument("--out", "-o", help="output folder (default: RESULTS_DIR/leaderboard)")
    p.add_argument("--markdown", metavar="FILE.md", help="also write the Markdown here, linking the plots in --out")
    p.add_argument("--command", help="the regenerating command to state on the page")
    p = add("results", cmd_results, "export a results directory as a Parquet dataset with provenance")
    rsub = p.add_subparsers(dest="action", required=True, parser_class=type(p))
    e = rsub.add_parser("export", help="write DIR's trials to FILE.parquet")
    e.set_defaults(fn=cmd_results)
    e.add_argument("directory", metavar="DIR")
    e.add_argument("--output", "-o", required=True, metavar="FILE.parquet")
    e.add_argument("--json", action="store_true", help="print the result as JSON")
