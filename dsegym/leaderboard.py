"""The leaderboard: how well each agent did on each problem, and across problems, from a results directory.

Quality is measured on the score every agent optimises (:meth:`dsegym.problem.Problem.score`, a weighted
sum of log-metrics, lower is better). Against the optimum ``s*``:

- *regret* of a run after ``b`` evaluations: ``best score in the first b trials - s*`` (log units);
- *normalised value*: ``exp(-regret)``, i.e. the optimum's weighted product of metrics over the found
  one's; 1.0 is the optimum;
- the optimum is exhaustive (every valid design evaluated) where the space allows; otherwise it is the best
  score any run in the directory has seen, and the page says so.

Multi-objective problems also get the hypervolume (moocore) of each run's feasible log-costs, relative to
the true Pareto front's (or the best seen), and Pareto-front plots. Across problems: average rank with a
bootstrap 95% interval, a critical-difference diagram (Friedman + Nemenyi, scikit-posthocs), the spread
over each agent's hyperparameter grid (ArchGym's "hyperparameter lottery"), and wall time per trial.

>>> import tempfile
>>> from dsegym.results import RunSpec
>>> from dsegym.runner import run_experiment
>>> d = tempfile.mkdtemp()
>>> specs = [RunSpec("toy-accel", a, seed=s, budget=12, batch_size=4) for a in ("random", "sa") for s in (0, 1)]
>>> _ = run_experiment(specs, d, workers=1, progress=False)
>>> report = build_leaderboard(d, progress=False)
>>> sorted(k for k in report["files"] if "toy-accel" in k)
['plot_pareto_toy-accel', 'plot_regret_toy-accel']
>>> report["summary"]["problems"]["toy-accel"]["optimum"]["kind"]
'exhaustive'
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError

BUDGETS = (10, 100, 1000)
WITHIN = math.log(1.01)  # "within 1% of the optimum": regret of at most log(1.01)
EXHAUSTIVE_MAX = 250_000  # valid designs; larger spaces use the best seen
EXHAUSTIVE_SECONDS = 120.0  # projected evaluation time above which the optimum is the best seen
_BOOT = 1000


# --- data ---------------------------------------------------------------------------------------------
def _entrant(agent: str, hparams: str) -> str:
    hp = json.loads(hparams)
    return agent if not hp else agent + "[" + ",".join(f"{k}={v}" for k, v in sorted(hp.items())) + "]"


def _task(problem: str, options: str, objective: str) -> str:
    extra = []
    if json.loads(options):
        extra.append(",".join(f"{k}={v}" for k, v in sorted(json.loads(options).items())))
    if json.loads(objective):
        extra.append("objective " + hashlib.sha256(objective.encode()).hexdigest()[:6])
    return problem + (f" ({'; '.join(extra)})" if extra else "")


def _frame(directory):
    from .results import load
    df = load(directory)
    if df.empty:
        raise ConfigError(f"results directory '{directory}' holds no trials; run an experiment into it first")
    df["entrant"] = [_entrant(a, h) for a, h in zip(df["agent"], df["hparams"])]
    df["default_hp"] = df["hparams"] == "{}"
    df["task"] = [_task(p, o, j) for p, o, j in zip(df["problem"], df["problem_options"], df["objective"])]
    return df


def _spec_of(group) -> Any:
    from .results import RunSpec
    r = group.iloc[0]
    return RunSpec(problem=r["problem"], agent=r["agent"], seed=int(r["seed"]), budget=int(r["budget"]),
                   problem_options=json.loads(r["problem_options"]), objective=json.loads(r["objective"]))


# --- optimum ------------------------------------------------------------------------------------------
def known_optimum(spec, cache_dir: Path | None = None, best_seen: float | None = None,
                  seen_costs: np.ndarray | None = None) -> dict[str, Any]:
    """The optimal score (and, for multi-objective problems, the Pareto front of log-costs) of a task.

    Exhaustive where every valid design can be evaluated within ``EXHAUSTIVE_SECONDS``; cached in
    ``cache_dir/optima.json`` keyed by the problem's version, options and objective.
    """
    from .results import _canon, problem_version
    from .runner import build_problem
    problem = build_problem(spec)
    key = hashlib.sha256(_canon([spec.problem, problem_version(problem), spec.problem_options,
                                 spec.objective]).encode()).hexdigest()[:16]
    cache_file = cache_dir / "optima.json" if cache_dir else None
    cache = json.loads(cache_file.read_text()) if cache_file and cache_file.exists() else {}
    if key in cache:
        out = cache[key]
    else:
        out = _exhaustive(problem)
        if out is not None and cache_file is not None:
            from .results import atomic_output
            cache[key] = out
            with atomic_output(cache_file) as tmp:
                tmp.write_text(json.dumps(cache))
    if out is None:
        out = {"kind": "best seen", "score": best_seen, "front": None, "designs": None}
        if seen_costs is not None and len(seen_costs):
            from .problem import pareto_mask
            out["front"] = seen_costs[pareto_mask(seen_costs)].tolist()
    return out


def proxy_fidelity(spec, problem, tdf, cache_dir: Path | None = None, n: int = 1000) -> dict[str, Any]:
    """How faithfully a proxy problem (``proxy:<id>``, a predictor) ranks designs as its simulator does.

    Kendall tau and Spearman between the proxy's and the simulator's scores (the score the agents
    optimised) on ``n`` random designs, and on the distinct designs the runs proposed (the ones that
    decided the ranking). Cached in ``cache_dir/proxy_fidelity.json`` with the optimum.
    """
    from scipy.stats import kendalltau, spearmanr

    from .predictors.proxy import rank_fidelity, simulator_of, simulator_weights
    from .results import _canon, problem_version
    key = hashlib.sha256(_canon([spec.problem, problem_version(problem), spec.problem_options,
                                 spec.objective, n]).encode()).hexdigest()[:16]
    cache_file = cache_dir / "proxy_fidelity.json" if cache_dir else None
    cache = json.loads(cache_file.read_text()) if cache_file and cache_file.exists() else {}
    if key in cache:
        return cache[key]
    random_designs = rank_fidelity(problem, n=n, seed=0)
    cols = [f"design.{n}" for n in problem.space.names]
    proposed = tdf.drop_duplicates(subset=cols)[cols].reset_index(drop=True)
    proposed.columns = problem.space.names
    base = simulator_of(problem)
    true = base.score(base.evaluate(proposed), weights=simulator_weights(problem, base))
    est = problem.score(problem.evaluate(proposed))
    out = {"proxy_of": problem.info["proxy_of"], "predictor": problem.info.get("predictor"),
           "random": random_designs,
           "proposed": {"kendall_tau": _f(kendalltau(true, est).statistic),
                        "spearman": _f(spearmanr(true, est).statistic), "n": len(proposed)}}
    if cache_file is not None:
        from .results import atomic_output
        cache[key] = out
        with atomic_output(cache_file) as tmp:
            tmp.write_text(json.dumps(cache))
    return out


def _exhaustive(problem) -> dict[str, Any] | None:
    space = problem.space
    if space.has_float:
        return None
    try:
        n = space.count_valid()
    except ConfigError:
        return None
    if n > EXHAUSTIVE_MAX:
        return None
    probe = space.sample(min(200, n), seed=0)
    t0 = time.perf_counter()
    problem.evaluate(probe)
    if (time.perf_counter() - t0) / len(probe) * n > EXHAUSTIVE_SECONDS:
        return None
    scores, costs, feas = [], [], []
    chunk: list = []

    import pandas as pd

    def flush():
        res = problem.evaluate(pd.DataFrame(chunk))  # a frame is checked column-wise: much faster than dicts
        scores.append(problem.score(res))
        costs.append(log_costs(problem, res))
        feas.append(problem.feasible(res))
        chunk.clear()
    for d in space.enumerate():
        chunk.append(d)
        if len(chunk) >= 20_000:
            flush()
    if chunk:
        flush()
    score = np.concatenate(scores)
    front = None
    if problem.is_multi_objective:
        from .problem import pareto_mask
        c = np.concatenate(costs)
        f = np.concatenate(feas)
        pts = c[f] if f.any() else c
        front = pts[pareto_mask(pts)].tolist()
    return {"kind": "exhaustive", "score": float(score.min()), "front": front, "designs": int(n)}


def log_costs(problem, frame) -> np.ndarray:
    """(n, k) log-costs of the optimised objectives (log of the metric, negated for maxima)."""
    signs = np.array([o.sign for o in problem.optimised])
    metrics = np.stack([frame[o.metric].to_numpy(float) for o in problem.optimised], axis=1)
    return np.log(np.maximum(metrics, 1e-30)) * signs


# --- per task -----------------------------------------------------------------------------------------
def _curves(group) -> np.ndarray:
    """(runs, budget) best-score-so-far curves, NaN-padded past a run's last trial."""
    runs = [g.sort_values("trial_index")["score"].to_numpy(float) for _, g in group.groupby("run_id")]
    n = max(len(r) for r in runs)
    out = np.full((len(runs), n), np.nan)
    for i, r in enumerate(runs):
        out[i, :len(r)] = np.minimum.accumulate(r)
    return out


def _hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    import moocore
    if len(points) == 0:
        return 0.0
    pts = points[np.all(points < ref, axis=1)]
    return float(moocore.hypervolume(pts, ref=ref)) if len(pts) else 0.0


def analyse(directory, progress: bool = False) -> dict[str, Any]:
    """Every number the leaderboard shows, as plain data (also what ``--json`` prints)."""
    from .runner import build_problem
    df = _frame(directory)
    cache = Path(directory)
    tasks: dict[str, Any] = {}
    items = list(df.groupby("task", sort=True))
    if progress:
        from tqdm.auto import tqdm
        items = tqdm(items, desc="leaderboard: problems", unit="problem")
    for task, tdf in items:
        spec = _spec_of(tdf)
        problem = build_problem(spec)
        seen = log_costs(problem, tdf) if problem.is_multi_objective else None
        feas = problem.feasible(tdf) if problem.is_multi_objective else None
        opt = known_optimum(spec, cache, best_seen=float(tdf["score"].min()),
                            seen_costs=seen[feas] if seen is not None and feas.any() else seen)
        s_opt = opt["score"] if opt["kind"] == "exhaustive" else float(tdf["score"].min())
        max_budget = int(tdf.groupby("run_id").size().max())
        budgets = [b for b in BUDGETS if b <= max_budget]
        if max_budget not in budgets:
            budgets.append(max_budget)
        entrants: dict[str, Any] = {}
        for ent, edf in tdf.groupby("entrant", sort=True):
            curves = _curves(edf) - s_opt
            regret_final = np.nanmin(curves, axis=1)
            at = {}
            for b in budgets:
                r = curves[:, min(b, curves.shape[1]) - 1] if curves.shape[1] >= b else np.full(len(curves), np.nan)
                v = np.exp(-r)
                at[str(b)] = {"mean": _f(np.nanmean(v)), "std": _f(np.nanstd(v)), "n": int(np.isfinite(v).sum())}
            hits = [int(np.argmax(c <= WITHIN)) + 1 if np.any(c <= WITHIN) else None for c in curves]
            reached = [h for h in hits if h is not None]
            e = {"agent": edf["agent"].iloc[0], "hparams": edf["hparams"].iloc[0],
                 "default_hp": bool(edf["default_hp"].iloc[0]), "seeds": sorted(int(s) for s in edf["seed"].unique()),
                 "normalised": at, "final_regret": [_f(r) for r in regret_final],
                 "final_normalised_mean": _f(np.mean(np.exp(-regret_final))),
                 "evals_to_1pct": {"median": _f(np.median(reached)) if len(reached) * 2 > len(hits) else None,
                                   "reached": len(reached), "runs": len(hits)},
                 "wall_ms_per_trial": _f(1000 * edf["wall_time_s"].mean()),
                 "curve_median": _nan_list(np.nanmedian(curves, axis=0)),
                 "curve_q25": _nan_list(np.nanpercentile(curves, 25, axis=0)),
                 "curve_q75": _nan_list(np.nanpercentile(curves, 75, axis=0))}
            entrants[ent] = e
        entry = {"problem": spec.problem, "optimum": {k: opt[k] for k in ("kind", "score", "designs")},
                 "budgets": budgets, "entrants": entrants, "multi_objective": problem.is_multi_objective}
        if problem.is_multi_objective:
            _add_hypervolume(entry, tdf, problem, opt, seen, feas)
        if problem.info.get("proxy_of"):
            entry["proxy"] = proxy_fidelity(spec, problem, tdf, cache)
        tasks[task] = entry
    return {"problems": tasks, "across": _across(tasks)}


def _add_hypervolume(entry, tdf, problem, opt, seen, feas) -> None:
    pts_all = seen[feas] if feas.any() else seen
    ref_src = np.vstack([pts_all] + ([np.array(opt["front"])] if opt.get("front") else []))
    lo, hi = ref_src.min(axis=0), ref_src.max(axis=0)
    ref = hi + 0.1 * np.maximum(hi - lo, 1e-9)  # nadir of everything seen, plus a margin
    front = np.array(opt["front"]) if opt.get("front") else pts_all
    hv_best = _hypervolume(front, ref)
    entry["hypervolume"] = {"reference": ref.tolist(), "front_kind": opt["kind"], "front_hv": hv_best,
                            "objectives": [o.metric for o in problem.optimised]}
    run_ids = tdf["run_id"].to_numpy()
    for ent, e in entry["entrants"].items():
        vals = []
        for rid in tdf.loc[tdf["entrant"] == ent, "run_id"].unique():
            m = (run_ids == rid) & feas
            vals.append(_hypervolume(seen[m], ref) / hv_best if hv_best > 0 else float("nan"))
        e["hypervolume"] = {"mean": _f(np.mean(vals)), "std": _f(np.std(vals))}
    entry["_pareto"] = {"seen": seen, "feas": feas, "front": front, "entrant": tdf["entrant"].to_numpy()}


def _f(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _nan_list(a) -> list:
    return [None if not np.isfinite(v) else float(v) for v in a]


# --- across tasks -------------------------------------------------------------------------------------
def _primary(tasks) -> list[str]:
    """Entrants ranked across problems: each agent at its default hyperparameters (tuned settings belong
    to the lottery table), or its first setting where no default run exists."""
    names: dict[str, str] = {}
    for t in tasks.values():
        for ent, e in t["entrants"].items():
            cur = names.get(e["agent"])
            if cur is None or (e["default_hp"] and cur != e["agent"]):
                names[e["agent"]] = ent
    return sorted(names.values())


def _across(tasks) -> dict[str, Any]:
    import pandas as pd
    entrants = _primary(tasks)
    # Blocks are (problem, seed): every block ranks the entrants by their final best score.
    rows = []
    for task, t in tasks.items():
        for ent in entrants:
            e = t["entrants"].get(ent)
            if e is None:
                continue
            for seed, r in zip(e["seeds"], e["final_regret"]):
                rows.append({"task": task, "seed": seed, "entrant": ent, "regret": r})
    long = pd.DataFrame(rows)
    out: dict[str, Any] = {"entrants": entrants, "ranks": {}, "blocks": 0}
    if long.empty:
        return out
    wide = long.pivot_table(index=["task", "seed"], columns="entrant", values="regret")
    # Ranks need complete blocks: an agent that did not run on every problem (e.g. grid search, which
    # refuses spaces it cannot enumerate) is left out of the ranking rather than dropping those problems.
    coverage = long.groupby("entrant")["task"].nunique()
    partial = sorted(coverage.index[coverage < len(tasks)])
    out["not_ranked"] = {e: f"ran on {int(coverage[e])} of {len(tasks)} problems" for e in partial}
    wide = wide.drop(columns=partial).dropna(axis=0)
    if wide.empty or wide.shape[1] < 2:
        return out
    ranks = wide.rank(axis=1, method="average")
    out["blocks"] = len(wide)
    task_of = np.array([i[0] for i in wide.index])
    uniq = np.unique(task_of)
    rng = np.random.default_rng(0)
    # Bootstrap over problems (the unit of generalisation), keeping each problem's seeds together.
    per_task = np.array([ranks.to_numpy()[task_of == p].sum(axis=0) for p in uniq])
    blocks = np.array([(task_of == p).sum() for p in uniq])
    picks = rng.integers(0, len(uniq), size=(_BOOT, len(uniq)))
    boot = per_task[picks].sum(axis=1) / blocks[picks].sum(axis=1)[:, None]
    mean = ranks.mean()
    for j, ent in enumerate(ranks.columns):
        out["ranks"][ent] = {"mean": float(mean[ent]), "ci_low": float(np.percentile(boot[:, j], 2.5)),
                             "ci_high": float(np.percentile(boot[:, j], 97.5))}
    out["_ranks_matrix"] = wide
    if wide.shape[1] >= 3 and len(wide) >= 2:
        import scikit_posthocs as sp
        from scipy.stats import friedmanchisquare
        out["friedman_p"] = float(friedmanchisquare(*[wide[c].to_numpy() for c in wide.columns]).pvalue)
        out["_sig"] = sp.posthoc_nemenyi_friedman(wide.to_numpy())
        out["_sig"].index = out["_sig"].columns = list(wide.columns)
    return out


def _lottery(tasks) -> list[dict[str, Any]]:
    rows = []
    agents = sorted({e["agent"] for t in tasks.values() for e in t["entrants"].values()})
    for agent in agents:
        spreads = []
        settings = set()
        worst, best, med = [], [], []
        for t in tasks.values():
            vals = {ent: e["final_normalised_mean"] for ent, e in t["entrants"].items() if e["agent"] == agent}
            if len(vals) < 2:
                continue
            settings |= set(vals)
            v = np.array(list(vals.values()), dtype=float)
            worst.append(v.min())
            best.append(v.max())
            med.append(np.median(v))
            spreads.append(v.max() - v.min())
        if spreads:
            rows.append({"agent": agent, "settings": len(settings), "problems": len(spreads),
                         "worst": float(np.mean(worst)), "median": float(np.mean(med)), "best": float(np.mean(best)),
                         "spread": float(np.mean(spreads))})
    return rows


# --- rendering ----------------------------------------------------------------------------------------
def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text).strip("_")


def _plots(tasks, across, out: Path) -> dict[str, Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .results import atomic_output
    files: dict[str, Path] = {}

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    def logscale(ax, which="xy"):
        # Plain tick labels: the default mathtext labels of log axes make layout many times slower.
        for w in which:
            axis = ax.xaxis if w == "x" else ax.yaxis
            (ax.set_xscale if w == "x" else ax.set_yscale)("log")
            axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=8))
            axis.set_major_formatter(FuncFormatter(_short))
            axis.set_minor_formatter(NullFormatter())

    def save(fig, name):
        path = out / f"{name}.png"
        fig.tight_layout()
        with atomic_output(path) as tmp:
            fig.savefig(tmp, dpi=90, format="png")
        plt.close(fig)
        files[f"plot_{name}"] = path

    primary = set(across["entrants"])
    colours = {e: f"C{i % 10}" for i, e in enumerate(sorted(primary))}
    for task, t in tasks.items():
        fig, ax = plt.subplots(figsize=(6.4, 4))
        for ent, e in t["entrants"].items():
            if ent not in primary:
                continue
            med = np.array([np.nan if v is None else v for v in e["curve_median"]], float)
            lo = np.array([np.nan if v is None else v for v in e["curve_q25"]], float)
            hi = np.array([np.nan if v is None else v for v in e["curve_q75"]], float)
            x = np.arange(1, len(med) + 1)
            ax.plot(x, med, color=colours[ent], label=ent, lw=1.4)
            ax.fill_between(x, lo, hi, color=colours[ent], alpha=0.15)
        logscale(ax, "x")
        # symlog: regret 0 (the optimum found) is drawn at 0 instead of vanishing off a log axis
        ax.set_yscale("symlog", linthresh=WITHIN)
        ax.set_ylim(bottom=0)
        ax.axhline(WITHIN, color="grey", ls="--", lw=0.8, label="within 1%")
        ax.set_xlabel("simulator evaluations")
        kind = t["optimum"]["kind"]
        ax.set_ylabel(f"regret vs {kind} optimum [log units]")
        ax.set_title(f"{task}: median regret, band = seeds' 25-75%", fontsize=9)
        ax.legend(fontsize=6, ncol=2)
        save(fig, f"regret_{_slug(task)}")
        if t.get("_pareto") is not None:
            p = t["_pareto"]
            objs = t["hypervolume"]["objectives"]
            from .problem import pareto_mask
            pairs = [(i, j) for i in range(len(objs)) for j in range(i + 1, len(objs))][:3]
            fig, axes = plt.subplots(1, len(pairs), figsize=(4.2 * len(pairs), 3.8), squeeze=False)
            front = np.asarray(p["front"])
            for ax, (i, j) in zip(axes[0], pairs):
                # Each entrant's front over all objectives (all seeds pooled), seen on one pair of axes.
                ax.plot(np.exp(front[:, i]), np.exp(front[:, j]), "s", ms=5, mfc="none", color="k", alpha=0.6,
                        label=f"{t['hypervolume']['front_kind']} front")
                for ent in sorted(primary):
                    m = (p["entrant"] == ent) & p["feas"]
                    if not m.any():
                        continue
                    pts = p["seen"][m]
                    pf = pts[pareto_mask(pts)]
                    ax.plot(np.exp(pf[:, i]), np.exp(pf[:, j]), "o", ms=3, color=colours[ent], label=ent, alpha=0.8)
                logscale(ax)
                ax.set_xlabel(objs[i])
                ax.set_ylabel(objs[j])
            axes[0, 0].legend(fontsize=6, ncol=2)
            fig.suptitle(f"{task}: Pareto fronts over {', '.join(objs)} (all seeds), pairwise views", fontsize=9)
            save(fig, f"pareto_{_slug(task)}")
    if across["ranks"]:
        ranks = across["ranks"]
        order = sorted(ranks, key=lambda k: ranks[k]["mean"])
        fig, ax = plt.subplots(figsize=(6.4, 0.35 * len(order) + 1.2))
        y = np.arange(len(order))
        m = np.array([ranks[k]["mean"] for k in order])
        lo = m - np.array([ranks[k]["ci_low"] for k in order])
        hi = np.array([ranks[k]["ci_high"] for k in order]) - m
        ax.errorbar(m, y, xerr=[lo, hi], fmt="o", capsize=3)
        ax.set_yticks(y, order)
        ax.invert_yaxis()
        ax.set_xlabel("average rank over (problem, seed) blocks, 95% bootstrap interval (lower is better)")
        save(fig, "average_rank")
    if "_sig" in across:
        import scikit_posthocs as sp
        fig, ax = plt.subplots(figsize=(7, 0.25 * len(across["ranks"]) + 1.5))
        avg = {k: v["mean"] for k, v in across["ranks"].items()}
        sp.critical_difference_diagram(avg, across["_sig"], ax=ax, label_props={"fontsize": 7})
        ax.set_title("critical-difference diagram (Friedman + Nemenyi, alpha 0.05)", fontsize=9)
        save(fig, "critical_difference")
    lottery = across.get("lottery") or []
    if lottery:
        fig, ax = plt.subplots(figsize=(6.4, 0.35 * len(lottery) + 1.2))
        for i, r in enumerate(lottery):
            ax.plot([r["worst"], r["best"]], [i, i], "-", color="C0", lw=3, alpha=0.5)
            ax.plot([r["median"]], [i], "o", color="C3")
        ax.set_yticks(range(len(lottery)), [f"{r['agent']} ({r['settings']} settings)" for r in lottery])
        ax.invert_yaxis()
        ax.set_xlabel("final normalised value: worst .. best setting (dot: median), mean over problems")
        save(fig, "hyperparameter_lottery")
    walls = {}
    for t in tasks.values():
        for ent, e in t["entrants"].items():
            if ent in primary and e["wall_ms_per_trial"] is not None:
                walls.setdefault(ent, []).append(e["wall_ms_per_trial"])
    if walls:
        fig, ax = plt.subplots(figsize=(6.4, 0.3 * len(walls) + 1.2))
        order = sorted(walls, key=lambda k: np.mean(walls[k]))
        ax.barh(order, [np.mean(walls[k]) for k in order])
        logscale(ax, "x")
        ax.set_xlabel("wall time per trial [ms] (simulator + agent), mean over problems")
        save(fig, "wall_time")
    return files


def _short(v, _pos=None) -> str:
    """Compact tick labels: 2000, 5e4, 1e6, 0.02."""
    if v >= 1e4 or (0 < v < 1e-3):
        return f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")
    return f"{v:g}"


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _num(v, fmt="{:.3f}") -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else fmt.format(v)


def _main_table(tasks, across) -> str:
    entrants = across["entrants"]
    ranks = across["ranks"]
    budgets = sorted({b for t in tasks.values() for b in t["budgets"] if b in BUDGETS})
    header = ["agent", "avg rank [95% CI]"] + [f"norm. best @{b}" for b in budgets] + [
        "norm. best @final", "problems within 1%", "ms / trial"]
    rows = []
    order = sorted(entrants, key=lambda e: ranks.get(e, {}).get("mean", math.inf))
    for ent in order:
        r = ranks.get(ent)
        cells = [ent, f"{r['mean']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]" if r else "–"]
        for b in budgets:
            v = [t["entrants"][ent]["normalised"].get(str(b), {}).get("mean") for t in tasks.values()
                 if ent in t["entrants"] and str(b) in t["entrants"][ent]["normalised"]]
            v = [x for x in v if x is not None]
            cells.append(_num(float(np.mean(v))) if v else "–")
        fin = [t["entrants"][ent]["final_normalised_mean"] for t in tasks.values() if ent in t["entrants"]]
        cells.append(_num(float(np.mean(fin))))
        hit = sum(1 for t in tasks.values() if ent in t["entrants"]
                  and t["entrants"][ent]["evals_to_1pct"]["median"] is not None)
        cells.append(f"{hit}/{sum(1 for t in tasks.values() if ent in t['entrants'])}")
        w = [t["entrants"][ent]["wall_ms_per_trial"] for t in tasks.values() if ent in t["entrants"]]
        cells.append(_num(float(np.mean([x for x in w if x is not None])), "{:.3g}"))
        rows.append(cells)
    return _md_table(header, rows)


def _task_table(t) -> str:
    header = ["agent", "seeds"] + [f"norm. best @{b}" for b in t["budgets"]] + ["evals to 1% (median)"]
    if t["multi_objective"]:
        header.append("hypervolume / front's")
    header.append("ms / trial")
    rows = []
    order = sorted(t["entrants"], key=lambda e: -(t["entrants"][e]["final_normalised_mean"] or 0))
    for ent in order:
        e = t["entrants"][ent]
        cells = [ent, str(len(e["seeds"]))]
        for b in t["budgets"]:
            v = e["normalised"][str(b)]
            cells.append(f"{_num(v['mean'])} ± {_num(v['std'], '{:.3f}')}" if v["mean"] is not None else "–")
        hit = e["evals_to_1pct"]
        cells.append(_num(hit["median"], "{:.0f}") + f" ({hit['reached']}/{hit['runs']} runs)")
        if t["multi_objective"]:
            h = e.get("hypervolume", {})
            cells.append(f"{_num(h.get('mean'))} ± {_num(h.get('std'))}")
        cells.append(_num(e["wall_ms_per_trial"], "{:.3g}"))
        rows.append(cells)
    return _md_table(header, rows)


def build_leaderboard(directory, out=None, progress: bool = True, title: str = "dsegym leaderboard",
                      command: str | None = None, markdown_copy=None) -> dict[str, Any]:
    """Analyse ``directory`` and write ``leaderboard.md``, ``leaderboard.html`` (self-contained) and PNGs
    into ``out`` (default ``DIR/leaderboard``). Returns the files, the main Markdown table and a summary.

    ``markdown_copy``: also write the Markdown there, its image links pointing into ``out``
    (how the repository's ``LEADERBOARD.md`` is made)."""
    from .results import atomic_output
    res = analyse(directory, progress=progress)
    tasks, across = res["problems"], res["across"]
    across["lottery"] = _lottery(tasks)
    out = Path(out) if out else Path(directory) / "leaderboard"
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(tasks, across, out)
    main = _main_table(tasks, across)
    exhaustive = sum(t["optimum"]["kind"] == "exhaustive" for t in tasks.values())
    md = [f"# {title}", ""]
    if command:
        md += [f"Regenerate with: `{command}`", ""]
    intro = (f"{len(tasks)} problems ({exhaustive} with an exhaustive optimum, the rest against the best score "
             f"any run saw, marked *best seen*), {across['blocks']} (problem, seed) blocks. "
             "*norm. best @b* = exp(-(best score in the first b evaluations - optimal score)): the optimum's "
             "weighted product of metrics over the found one's (1 = optimum), mean over seeds. "
             "Ranks use each agent at its default hyperparameters; *ms / trial* is wall time per trial "
             "(the agent's ask and tell plus the simulation).")
    md += [intro, "", "## Overall", "", main, ""]
    if across.get("not_ranked"):
        md += ["Not ranked (no complete blocks): " + "; ".join(f"{k} ({v})" for k, v in across["not_ranked"].items())
               + ".", ""]
    if "friedman_p" in across:
        md += [f"Friedman test over the blocks: p = {across['friedman_p']:.3g}.", ""]
    for name in ("average_rank", "critical_difference", "wall_time"):
        if f"plot_{name}" in plots:
            md += [f"![{name}]({plots[f'plot_{name}'].name})", ""]
    if across["lottery"]:
        lottery_intro = ("Final normalised value of each agent's hyperparameter settings (worst, median and best "
                         "setting, each averaged over the problems where the grid ran).")
        md += ["## Hyperparameter lottery", "", lottery_intro, "",
               _md_table(["agent", "settings", "problems", "worst", "median", "best", "spread"],
                         [[r["agent"], str(r["settings"]), str(r["problems"]), _num(r["worst"]), _num(r["median"]),
                           _num(r["best"]), _num(r["spread"])] for r in across["lottery"]]), ""]
        if "plot_hyperparameter_lottery" in plots:
            md += ["![hyperparameter lottery](hyperparameter_lottery.png)", ""]
    proxies = {task: t["proxy"] for task, t in tasks.items() if "proxy" in t}
    if proxies:
        md += ["## Proxy problems", "",
               "A proxy problem is answered by a learned predictor instead of its simulator. Its rank fidelity is "
               "the rank correlation between the proxy's scores and the simulator's, on random designs and on the "
               "designs the agents proposed; a leaderboard on a proxy is only as good as this.", "",
               _md_table(["problem", "simulator", "predictor", "Kendall tau (random)", "Spearman (random)",
                          "Kendall tau (proposed)", "designs (random / proposed)"],
                         [[task, f["proxy_of"], str(f["predictor"]), _num(f["random"]["kendall_tau"]),
                           _num(f["random"]["spearman"]), _num(f["proposed"]["kendall_tau"]),
                           f"{f['random']['n']} / {f['proposed']['n']}"] for task, f in proxies.items()]), ""]
    md += ["## Per problem", ""]
    for task, t in tasks.items():
        o = t["optimum"]
        kind = (f"exhaustive optimum over {o['designs']:,} valid designs" if o["kind"] == "exhaustive"
                else "*best seen* (space too large to enumerate)")
        md += [f"### {task}", "", f"Optimal score {o['score']:.6g} ({kind}).", ""]
        if "proxy" in t:
            f = t["proxy"]
            md += [f"A proxy of {f['proxy_of']} (a {f['predictor']} predictor): scores are the predictor's. Rank "
                   f"fidelity against the simulator: Kendall tau {_num(f['random']['kendall_tau'])} on "
                   f"{f['random']['n']} random designs, {_num(f['proposed']['kendall_tau'])} on the "
                   f"{f['proposed']['n']} designs the agents proposed.", ""]
        md += [_task_table(t), ""]
        if t["multi_objective"]:
            h = t["hypervolume"]
            hv_note = (f"Hypervolume over the log-costs of {', '.join(h['objectives'])}, relative to the "
                       f"{h['front_kind']} Pareto front's (reference point: the nadir of everything seen plus 10%).")
            md += [hv_note, ""]
        for key in (f"plot_regret_{_slug(task)}", f"plot_pareto_{_slug(task)}"):
            if key in plots:
                md += [f"![{key[5:]}]({plots[key].name})", ""]
    markdown = "\n".join(md)
    files = {"markdown": out / "leaderboard.md", "html": out / "leaderboard.html", **plots}
    with atomic_output(files["markdown"]) as tmp:
        tmp.write_text(markdown)
    with atomic_output(files["html"]) as tmp:
        tmp.write_text(_html(markdown, out, title))
    if markdown_copy:
        import os
        import re
        copy = Path(markdown_copy)
        rel = Path(os.path.relpath(out.resolve(), copy.resolve().parent)).as_posix()
        with atomic_output(copy) as tmp:
            tmp.write_text(re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", lambda m: f"![{m.group(1)}]({rel}/{m.group(2)})", markdown))
        files["markdown_copy"] = copy
    summary = {"problems": {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")} for k, v in tasks.items()},
               "across": {k: v for k, v in across.items() if not k.startswith("_")}}
    return {"files": {k: str(v) for k, v in files.items()}, "markdown_table": main, "markdown": markdown,
            "summary": summary}


def _html(markdown: str, out: Path, title: str) -> str:
    """A self-contained page (images inlined as base64) from the Markdown subset the leaderboard writes."""
    import re
    body, table = [], []

    def inline(text: str) -> str:
        text = html.escape(text)
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
        return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)

    def flush_table():
        if not table:
            return
        rows = [[c.strip() for c in r.strip().strip("|").split("|")] for r in table if not r.startswith("|---")]
        head = "".join(f"<th>{inline(c)}</th>" for c in rows[0])
        rest = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
        body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rest}</tbody></table>")
        table.clear()
    for line in markdown.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush_table()
        m = re.fullmatch(r"!\[([^\]]*)\]\(([^)]+)\)", line.strip())
        if m:
            data = base64.b64encode((out / m.group(2)).read_bytes()).decode()
            body.append(f'<figure><img alt="{html.escape(m.group(1))}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{html.escape(m.group(1))}</figcaption></figure>")
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{inline(line[level:].strip())}</h{level}>")
        elif line.strip():
            body.append(f"<p>{inline(line)}</p>")
    flush_table()
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;"
             "padding:3px 7px;text-align:right}th:first-child,td:first-child{text-align:left}"
             "th{background:#f3f3f3}img{max-width:100%}figure{margin:1em 0}figcaption{font-size:12px;color:#666}")
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<link rel=\"icon\" href=\"data:,\"><style>{style}</style></head><body>{''.join(body)}</body></html>")


def quick_table(directory, run_ids=None) -> str:
    """A short Markdown table of best scores per (problem, agent setting), mean over seeds (no optimum)."""
    df = _frame(directory)
    if run_ids is not None:
        df = df[df["run_id"].isin(set(run_ids))]
    if df.empty:
        return "(no trials)"
    best = df.groupby(["task", "entrant", "run_id"])["score"].min().groupby(["task", "entrant"]).agg(["mean", "std",
                                                                                                        "count"])
    rows = [[t, e, f"{r['mean']:.4g}", _num(r["std"], "{:.2g}"), str(int(r["count"]))]
            for (t, e), r in best.iterrows()]
    return _md_table(["problem", "agent", "best score (mean)", "std", "seeds"], rows)
