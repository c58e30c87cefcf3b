"""The learned-cost-model verbs of the ``dsegym`` command: ``collect``, ``predictor train|eval|recommend``
and ``predict``. ``dsegym.cli`` only wires these into its parser (:func:`add_parsers`).

    dsegym collect toy-accel -n 2000 --sampler sobol --seed 0 -o toy.parquet
    dsegym collect accel-layers -n 500 --arg workloads=resnet18,vgg16 -o layers.parquet
    dsegym predictor train toy.parquet --model mlp --target latency_cycles -o toy.pt
    dsegym predictor eval toy.pt test.parquet --json
    dsegym predict toy.pt --design pes=16 dataflow=ws buffer_kb=32 bits=8
    dsegym predictor recommend toy.pt --problem toy-accel
"""
from __future__ import annotations

import json
import sys

from .errors import ConfigError


def _cli():
    from . import cli
    return cli


def cmd_collect(args) -> None:
    from .datasets.collect import collect
    cli = _cli()
    options = {k: cli._literal(v) for k, v in cli._pairs(args.arg, "--arg").items()}
    info = collect(args.problem, args.n, sampler=args.sampler, seed=args.seed, path=args.output,
                   workers=args.workers, options=options, progress=not args.json and sys.stderr.isatty(),
                   ray=args.ray)
    cli._emit(info, args.json, f"wrote {info['rows']:,} rows of {info['problem']} to {info['path']} "
                               f"(card: {info['card']})")


def cmd_train(args) -> None:
    from .predictors.model import train
    cli = _cli()
    hp = {k: cli._literal(v) for k, v in cli._pairs(args.hp, "--hp").items()}
    pred = train(args.data, model=args.model, targets=args.target, seed=args.seed, epochs=args.epochs,
                 patience=args.patience, val_fraction=args.val_fraction, batch_size=args.batch_size,
                 progress=not args.json, **hp)
    path = pred.save(args.output)
    h = pred.meta["history"]
    info = {"path": str(path), "model": pred.kind, "form": pred.form, "problem": pred.problem,
            "targets": pred.targets, "n_train": pred.meta["n_train"], "n_val": pred.meta["n_val"],
            "epochs_run": h["epochs_run"], "best_val_mse": h["best_val_mse"]}
    cli._emit(info, args.json, f"wrote {pred.kind} predictor of {pred.targets} for {pred.problem} to {path} "
                               f"({h['epochs_run']} epochs, validation MSE {h['best_val_mse']:.4g} in "
                               "standardised units)")


def cmd_eval(args) -> None:
    from .predictors.evaluation import evaluate
    from .predictors.model import load
    cli = _cli()
    pred = load(args.model)
    metrics = evaluate(pred, args.data)
    lines = [(f"{'target':<20} {'n':>7} {'rmse_pct':>9} {'mape_pct':>9} {'kendall_tau':>11} {'spearman':>9} "
              f"{'top10_recall':>12}")]
    for t, m in metrics.items():
        lines.append(f"{t:<20} {m['n']:>7} {m['rmse_pct']:>9.3f} {m['mape_pct']:>9.3f} {m['kendall_tau']:>11.4f} "
                     f"{m['spearman']:>9.4f} {m['top10_recall']:>12.3f}")
    cli._emit({"model": args.model, "data": args.data, "targets": metrics}, args.json, "\n".join(lines))


def cmd_predict(args) -> None:
    import pandas as pd

    from .predictors.model import load
    cli = _cli()
    pred = load(args.model)
    if (args.input is None) == (not args.design):
        raise ConfigError("give either --design k=v ... or --input designs.csv")
    if args.input:
        try:
            frame = pd.read_csv(args.input)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ConfigError(f"designs file '{args.input}' is not a readable CSV: {exc}") from None
        pred.space.check_columns(_design_frame(frame, pred.space))
    else:
        frame = pd.DataFrame([pred.space.parse(cli._pairs(args.design, "--design"))])
    if pred.form == "layer":
        missing = [c for c in ("layer_m", "layer_n", "layer_k", "layer_ifmap_elems", "layer_repeat") if c not in frame]
        if missing:
            raise ConfigError(f"this per-layer model needs layer columns {missing} in --input")
    out = pred.predict(frame, workload=args.workload)
    rows = pd.concat([frame.reset_index(drop=True), out.reset_index(drop=True)], axis=1)
    if args.json:
        cli._emit({"model": args.model, "units": pred.units, "predictions": rows.to_dict("records")}, True, "")
        return
    lines = []
    for r in rows.to_dict("records"):
        lines.append(", ".join(f"{k}={r[k]}" for k in frame.columns))
        lines += [f"  {t} = {r[t]:.6g} +/- {r[t + '_std']:.3g} [{pred.units.get(t) or '?'}]" for t in pred.targets]
    print("\n".join(lines))


def _design_frame(frame, space):
    from .predictors.encoding import design_columns
    return design_columns(frame, space)


def cmd_recommend(args) -> None:
    from .predictors.model import load
    from .predictors.recommender import recommend
    from .registry import make
    cli = _cli()
    options = {k: cli._literal(v) for k, v in cli._pairs(args.arg, "--arg").items()}
    pred = load(args.model)
    r = recommend(pred, make(args.problem, **options), seed=args.seed)
    units = {m: make(args.problem, **options).unit(m) for m in r["recommended_metrics"]}
    lines = [(f"recommended design for {r['problem']} by the {r['model']} predictor ({r['candidates']:,} "
              "candidates scored):")]
    lines += [f"  {k} = {v}" for k, v in r["recommended"].items()]
    lines.append("its simulated metrics vs the optimum (" + r["optimum_method"] + "):")
    for m, ratio in r["metric_ratios"].items():
        lines.append(f"  {m} = {r['recommended_metrics'][m]:.6g} vs {r['optimum_metrics'][m]:.6g} [{units[m]}] "
                     f"(x{ratio:.3f})")
    lines.append("optimum design: " + ", ".join(f"{k}={v}" for k, v in r["optimum"].items()))
    lines.append(f"score ratio (recommended / optimum): {r['ratio']:.4f}"
                 + (f"; rank {r['rank_of_recommended']:,}" if r["rank_of_recommended"] else ""))
    cli._emit(r, args.json, "\n".join(lines))


def add_parsers(sub, add) -> None:
    """Add ``collect``, ``predictor`` and ``predict`` to the CLI's subparsers (``add`` is cli's helper)."""
    from .datasets.samplers import SAMPLERS
    from .predictors import KINDS
    p = add("collect", cmd_collect, "sample a problem into a Parquet dataset with provenance and a dataset card")
    p.add_argument("problem", help="problem id (see 'dsegym list'), or accel-layers for the per-layer form")
    p.add_argument("-n", type=int, required=True, help="designs to sample")
    p.add_argument("--sampler", choices=SAMPLERS, default="random")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1, help="local processes simulating in parallel")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="simulate on Ray: 'auto' (join a running cluster or start one), 'local', or HOST:PORT")
    p.add_argument("--output", "-o", required=True, metavar="FILE.parquet")
    p.add_argument("--arg", "-a", nargs="+", metavar="KEY=VALUE",
                   help="problem options; for accel-layers: workloads=resnet18,vgg16 tech_nm=28 ...")
    p = add("predictor", None, "train, evaluate or query learned cost models")
    psub = p.add_subparsers(dest="action", required=True, parser_class=type(p))

    def sub_add(name, fn, help_):
        q = psub.add_parser(name, help=help_, description=help_)
        q.set_defaults(fn=fn)
        q.add_argument("--json", action="store_true", help="print the result as JSON")
        return q
    q = sub_add("train", cmd_train, "train a predictor on a dataset")
    q.add_argument("data", metavar="DATA.parquet")
    q.add_argument("--model", choices=KINDS, default="mlp")
    q.add_argument("--target", action="append", help="metric to predict (repeat; default: the objectives)")
    q.add_argument("--output", "-o", required=True, metavar="MODEL.pt")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--epochs", type=int, default=300)
    q.add_argument("--patience", type=int, default=25, help="epochs without validation improvement before stopping")
    q.add_argument("--val-fraction", type=float, default=0.1)
    q.add_argument("--batch-size", type=int, default=256)
    q.add_argument("--hp", nargs="+", metavar="KEY=VALUE", help="network hyperparameters (hidden=..., lr=...)")
    q = sub_add("eval", cmd_eval, "rmse_pct, mape_pct, kendall_tau, spearman and top10_recall per target")
    q.add_argument("model", metavar="MODEL.pt")
    q.add_argument("data", metavar="DATA.parquet")
    q = sub_add("recommend", cmd_recommend, "the predictor's best design, simulated, against the true optimum")
    q.add_argument("model", metavar="MODEL.pt")
    q.add_argument("--problem", required=True)
    q.add_argument("--arg", "-a", nargs="+", metavar="KEY=VALUE", help="problem options")
    q.add_argument("--seed", type=int, default=0)
    p = add("predict", cmd_predict, "predict metrics of designs with a trained model")
    p.add_argument("model", metavar="MODEL.pt")
    p.add_argument("--design", "-d", nargs="+", metavar="KEY=VALUE", help="one design (missing: defaults)")
    p.add_argument("--input", "-i", metavar="designs.csv", help="a CSV with one design per row")
    p.add_argument("--workload", help="GNN models: the zoo workload to predict on")


__all__ = ["add_parsers", "json"]
