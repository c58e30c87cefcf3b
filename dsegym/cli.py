"""The ``dsegym`` command.

Bad input (unknown ids, invalid values, violated constraints, malformed files) prints one line naming
what is wrong and what is allowed, and exits with code 2, never a traceback; Ctrl-C exits with 130.
A one-file design space is used without packaging it through ``--import FILE_OR_MODULE`` or a
``module:factory`` problem id.

    dsegym --version
    dsegym list
    dsegym --import examples/my_cache_space.py describe my-cache
    dsegym describe my_cache_space:make_my_cache
    dsegym describe accel-resnet18
    dsegym evaluate accel-resnet18 --design rows=32 cols=64 dataflow=os --json
    dsegym search accel-resnet18 --agent random --budget 200 --seed 0
    dsegym agents
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from .errors import ConfigError, DsegymError


def _pairs(items: Sequence[str] | None, what: str) -> dict[str, str]:
    """``key=value`` strings to a dict; a malformed item or a key given twice raises ConfigError."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{what} '{item}' must look like key=value")
        if key in out:
            raise ConfigError(f"{what} gives '{key}' twice ({key}={out[key]} and {key}={value.strip()}); "
                              "give each key once")
        out[key] = value.strip()
    return out


def _literal(text: str) -> Any:
    """Problem/agent keyword values from the command line: JSON numbers, booleans, lists, else text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _emit(obj: Any, as_json: bool, text: str) -> None:
    print(json.dumps(_jsonable(obj), indent=2) if as_json else text)


def _make_problem(args):
    from .registry import make
    kwargs = {k: _literal(v) for k, v in _pairs(args.arg, "--arg").items()}
    return make(args.problem, **kwargs)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


# --- verbs ------------------------------------------------------------------------------------------
def cmd_list(args) -> None:
    """``dsegym list [--tag T]``: registered problems (UnknownIdError for a tag no problem has)."""
    from .registry import list_problems, registered
    specs = registered()
    ids = list_problems(args.tag)  # an unknown tag raises, naming the known ones
    rows = [{"id": k, "description": specs[k].description, "tags": list(specs[k].tags)} for k in ids]
    width = max((len(r["id"]) for r in rows), default=2)
    text = "\n".join(f"{r['id']:<{width}}  {r['description']}" for r in rows)
    _emit(rows, args.json, text)


def cmd_describe(args) -> None:
    """``dsegym describe P``: parameters, space size, constraints, objectives and units."""
    problem = _make_problem(args)
    d = problem.describe()
    if args.json:
        _emit(d, True, "")
        return
    lines = [f"{d['id']}: {d['description']}", f"workload: {d['workload']}",
             f"space size: {d['space_size']:,}" if isinstance(d["space_size"], int) else
             f"space size: {d['space_size']}"]
    if d["valid_designs"] is not None and d["valid_designs"] != d["space_size"]:
        v = d["valid_designs"]
        lines.append(f"valid designs (honouring constraints): {v:,}" if isinstance(v, int) else f"valid: {v}")
    lines.append("parameters:")
    w = max(len(p["name"]) for p in d["parameters"])
    for p in d["parameters"]:
        lines.append(f"  {p['name']:<{w}}  [{p['group']}] {p['kind']}: {p['allowed']} (default {p['default']})")
    if d["constraints"]:
        lines.append("constraints:")
        lines += [f"  {c['name']}: {c['description']}" for c in d["constraints"]]
    lines.append("objectives:")
    for o in d["objectives"]:
        extra = "".join(f", {k} {o[k]}" for k in ("target", "limit") if o[k] is not None)
        role = "minimise" if o["direction"] == "min" else "maximise"
        if not o["optimise"]:
            role = "constraint on"
        lines.append(f"  {role} {o['metric']} [{o['unit']}]{extra}")
    print("\n".join(lines))


def cmd_evaluate(args) -> None:
    """``dsegym evaluate P -d k=v ...``: one design's metrics with units."""
    problem = _make_problem(args)
    design = problem.space.parse(_pairs(args.design, "--design"))
    metrics = problem.evaluate_one(design)
    if args.json:
        _emit({"problem": problem.id, "design": design, "metrics": metrics}, True, "")
        return
    lines = ["design:"] + [f"  {k} = {v}" for k, v in design.items()] + ["metrics:"]
    lines += [f"  {k} = {_fmt(v)}" + (f" [{problem.unit(k)}]" if problem.unit(k) else "") for k, v in metrics.items()]
    print("\n".join(lines))


def cmd_search(args) -> None:
    """``dsegym search P --agent A``: one agent for a budget of evaluations, a one-run experiment."""
    from .experiment_cli import cmd_search as search
    search(args, {k: _literal(v) for k, v in _pairs(args.arg, "--arg").items()},
           {k: _literal(v) for k, v in _pairs(args.hp, "--hp").items()})


def cmd_agents(args) -> None:
    """``dsegym agents``: every agent with its family and whether it returns a Pareto set."""
    from .agents import agent_info, list_agents
    infos = [agent_info(n) for n in list_agents()]
    width = max(len(i["name"]) for i in infos)
    text = "\n".join(f"{i['name']:<{width}}  {i['family']:<12} "
                     f"{'Pareto set' if i['multi_objective'] else 'scalarised':<10}  {i['description']}"
                     for i in infos)
    _emit(infos, args.json, text)


# --- parser -----------------------------------------------------------------------------------------
def _import_user_code(targets: Sequence[str]) -> None:
    """Import modules or ``.py`` files named by ``--import`` so that their ``register`` calls run."""
    import importlib
    import importlib.util
    import os
    if os.getcwd() not in sys.path:  # the console script's sys.path does not hold the working directory
        sys.path.insert(0, os.getcwd())
    for target in targets:
        if target.endswith(".py") or os.sep in target:
            if not os.path.isfile(target):
                raise ConfigError(f"--import {target}: no such file")
            name = os.path.splitext(os.path.basename(target))[0]
            spec = importlib.util.spec_from_file_location(name, target)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except DsegymError:
                raise
            except Exception as exc:
                sys.modules.pop(name, None)
                raise ConfigError(f"--import {target} failed: {type(exc).__name__}: {exc}") from None
        else:
            try:
                importlib.import_module(target)
            except ImportError as exc:
                raise ConfigError(f"--import {target}: {exc}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit code 2, as argparse does, but without the usage dump
        self.exit(2, f"dsegym: error: {message} (see 'dsegym {self.prog.split()[-1]} --help')\n"
                  if " " in self.prog else f"dsegym: error: {message} (see 'dsegym --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every verb (errors are one line and exit code 2)."""
    from . import __version__
    parser = _Parser(prog="dsegym", description="Hardware design-space exploration gym.")
    parser.add_argument("--version", action="version", version=f"dsegym {__version__}")
    parser.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE_OR_FILE",
                        help="import a module or .py file that registers problems (repeatable)")
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    def add(name, fn, help_, problem=False):
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(fn=fn)
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        if problem:
            p.add_argument("problem", help="problem id (see 'dsegym list') or module:factory")
            p.add_argument("--arg", "-a", nargs="+", metavar="KEY=VALUE",
                           help="problem options, e.g. fidelity=scalesim or topology=net.csv")
        return p

    p = add("list", cmd_list, "list registered problems")
    p.add_argument("--tag", help="only problems with this tag (e.g. accelerator, dram, toy)")
    add("describe", cmd_describe, "show a problem's parameters, space size, objectives and units", problem=True)
    p = add("evaluate", cmd_evaluate, "simulate one design and print its metrics", problem=True)
    p.add_argument("--design", "-d", nargs="*", metavar="KEY=VALUE", default=[],
                   help="parameter values; missing ones take their defaults")
    p = add("search", cmd_search, "run one agent on one problem for a budget of evaluations", problem=True)
    p.add_argument("--agent", default="random", help="agent name (see 'dsegym agents')")
    p.add_argument("--budget", type=int, default=200, help="simulator evaluations")
    p.add_argument("--batch-size", type=int, default=10, help="designs asked and evaluated together")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hp", nargs="+", metavar="KEY=VALUE", help="agent hyperparameters")
    p.add_argument("--out", help="folder for the run's results store (written as it goes; the same command "
                   "resumes), history.parquet/csv, convergence.png and, for Pareto agents, pareto.csv")
    add("agents", cmd_agents, "list search agents, their family and whether they return a Pareto set")
    from .experiment_cli import add_parsers as add_experiment_parsers
    add_experiment_parsers(sub, add)
    from .predictor_cli import add_parsers as add_predictor_parsers
    add_predictor_parsers(sub, add)
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dsegym`` command; returns the exit code (0 ok, 2 bad input or file error, 130 Ctrl-C)."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        _import_user_code(args.imports)
        args.fn(args)
    except DsegymError as exc:
        print(f"dsegym: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:  # files: missing, a directory, no permission, disk full ...
        where = f": {exc.filename}" if exc.filename else ""
        print(f"dsegym: error: {_one_line(exc.strerror or exc)}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dsegym: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
