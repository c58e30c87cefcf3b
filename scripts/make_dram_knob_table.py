"""Which objective each knob of the default DRAM problems trades against, measured.

For every knob and every value, a seeded sample of random designs is evaluated as drawn and with the
knob set to that value (designs that already had it are left out). Printed per (problem, knob, value): the share of designs the setting leaves
at least as good on every objective (the "no free knob" figure; < 0.98 everywhere means no value is
free), and per objective the share it improves and the share it worsens. The summary lists, per
knob, the objectives its values improve and those they worsen.

Run: ``PYTHONPATH=. python scripts/make_dram_knob_table.py [--designs 60] [--problems dram-random ...]``
"""
from __future__ import annotations

import argparse

import numpy as np

import dsegym


def knob_effects(problem, designs: int = 60, seed: int = 0) -> list[dict]:
    """One row per (knob, value): dominance share and per-objective better/worse shares."""
    space = problem.space
    base = space.to_frame(space.sample(designs, seed=seed))
    ref = problem.evaluate(base)
    rows = []
    for p in space.params:
        for v in p.values:
            frame = base.copy()
            frame[p.name] = v
            # Designs that already had the value are left out: unchanged, they would count as "at least
            # as good" and inflate the share (the same rule as the no-free-knob test).
            changed = (base[p.name] != v).to_numpy()
            new = problem.evaluate(frame[changed].reset_index(drop=True))
            ok = np.ones(int(changed.sum()), bool)
            row = {"knob": p.name, "value": v}
            for o in problem.objectives:
                a, b = new[o.metric].to_numpy(), ref[o.metric].to_numpy()[changed]
                sign = 1.0 if o.direction == "min" else -1.0
                tol = 1e-9 * np.abs(b)
                better, worse = sign * (a - b) < -tol, sign * (a - b) > tol
                ok &= ~worse
                row[f"{o.metric}_better"], row[f"{o.metric}_worse"] = better.mean(), worse.mean()
            row["at_least_as_good"] = ok.mean()
            rows.append(row)
    return rows


def main() -> None:
    """Print the knob-share table of each DRAM problem."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--designs", type=int, default=60)
    ap.add_argument("--problems", nargs="+", default=["dram-stream", "dram-random", "dram-cloud1", "dram-cloud2"])
    args = ap.parse_args()
    for pid in args.problems:
        problem = dsegym.make(pid)
        rows = knob_effects(problem, args.designs)
        objs = [o.metric for o in problem.objectives]
        print(f"\n## {pid} ({args.designs} random designs)\n")
        print("| knob | value | at least as good on all | " + " | ".join(f"{m} better/worse" for m in objs) + " |")
        print("|---|---|---|" + "---|" * len(objs))
        for r in rows:
            cells = " | ".join(f"{r[f'{m}_better']:.2f}/{r[f'{m}_worse']:.2f}" for m in objs)
            print(f"| {r['knob']} | {r['value']} | {r['at_least_as_good']:.2f} | {cells} |")
        print("\n| knob | objectives some value improves | objectives some value worsens | worst share |")
        print("|---|---|---|---|")
        for knob in problem.space.names:
            mine = [r for r in rows if r["knob"] == knob]
            up = [m for m in objs if max(r[f"{m}_better"] for r in mine) > 0]
            down = [m for m in objs if max(r[f"{m}_worse"] for r in mine) > 0]
            print(f"| {knob} | {', '.join(up)} | {', '.join(down)} | {max(r['at_least_as_good'] for r in mine):.2f} |")


if __name__ == "__main__":
    main()
