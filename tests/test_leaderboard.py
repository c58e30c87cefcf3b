"""The leaderboard: numbers against independent truth, files written, and the HTML page in a real browser."""
import json
import math
import re
import shutil
import subprocess

import numpy as np
import pytest

from dsegym.cli import main
from dsegym.leaderboard import build_leaderboard
from dsegym.results import RunSpec, load
from dsegym.runner import run_experiment


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    d = tmp_path_factory.mktemp("lb")
    specs = [RunSpec(p, a, seed=s, budget=24, batch_size=4, hparams=hp)
             for p in ("toy-accel", "toy-rastrigin") for s in (0, 1, 2)
             for a, hp in (("random", {}), ("ga", {}), ("sa", {}), ("sa", {"cooling": 0.9}), ("aco", {}))]
    run_experiment(specs, d, workers=1, progress=False)
    report = build_leaderboard(d, d / "out", progress=False, command="dsegym leaderboard DIR")
    return d, report


def test_optimum_is_exhaustive_and_matches_the_known_one(board):
    _, report = board
    problems = report["summary"]["problems"]
    # toy-rastrigin's optimum is cost 1 at x = 2 (score log 1 = 0), known analytically.
    assert problems["toy-rastrigin"]["optimum"] == {"kind": "exhaustive", "score": 0.0, "designs": 15 ** 4}
    assert problems["toy-accel"]["optimum"]["designs"] == 420


def test_normalised_values_and_regret_are_consistent_with_the_rows(board):
    d, report = board
    df = load(d)
    p = report["summary"]["problems"]["toy-rastrigin"]
    for ent, e in p["entrants"].items():
        agent = ent.split("[")[0]
        runs = df[(df["problem"] == "toy-rastrigin") & (df["agent"] == agent)]
        runs = runs[(runs["hparams"] == "{}") == ("[" not in ent)]
        best10 = runs[runs["trial_index"] < 10].groupby("seed")["score"].min()
        # score is log(cost) and the optimum cost is 1, so exp(-regret) = 1 / best cost
        assert e["normalised"]["10"]["mean"] == pytest.approx(float(np.mean(np.exp(-best10))))
        assert all(0 < v["mean"] <= 1 for v in e["normalised"].values())
        hits = e["evals_to_1pct"]
        assert hits["runs"] == 3 and 0 <= hits["reached"] <= 3


def test_hypervolume_ranks_and_lottery(board):
    _, report = board
    accel = report["summary"]["problems"]["toy-accel"]
    assert accel["multi_objective"]
    for e in accel["entrants"].values():
        assert 0 < e["hypervolume"]["mean"] <= 1 + 1e-9  # never above the exhaustive front's
    across = report["summary"]["across"]
    assert set(across["ranks"]) == {"random", "ga", "sa", "aco"}  # default settings are ranked
    assert across["blocks"] == 6
    assert math.isclose(sum(r["mean"] for r in across["ranks"].values()), 1 + 2 + 3 + 4)
    for r in across["ranks"].values():
        assert r["ci_low"] <= r["mean"] <= r["ci_high"]
    lottery = {r["agent"]: r for r in across["lottery"]}
    assert set(lottery) == {"sa"} and lottery["sa"]["settings"] == 2
    assert lottery["sa"]["worst"] <= lottery["sa"]["median"] <= lottery["sa"]["best"]


def test_files_markdown_and_self_contained_html(board):
    d, report = board
    files = report["files"]
    for key in ("markdown", "html", "plot_regret_toy-accel", "plot_pareto_toy-accel", "plot_average_rank",
                "plot_critical_difference", "plot_hyperparameter_lottery", "plot_wall_time"):
        assert key in files
    md = (d / "out" / "leaderboard.md").read_text()
    assert "Regenerate with: `dsegym leaderboard DIR`" in md and "| agent | avg rank [95% CI]" in md
    page = (d / "out" / "leaderboard.html").read_text()
    assert page.count("data:image/png;base64,") == sum(k.startswith("plot_") for k in files)
    assert not re.search(r'src="(?!data:)', page)  # nothing loaded from elsewhere


def test_leaderboard_cli_prints_the_table(board, tmp_path, capsys, monkeypatch):
    d, _ = board
    assert main(["leaderboard", str(d), "--out", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["problems"]["toy-accel"]["optimum"]["kind"] == "exhaustive"
    assert (tmp_path / "leaderboard.html").exists()
    # the text form prints the main table (checked without drawing the plots a second time)
    import dsegym.leaderboard as lb
    calls = []
    monkeypatch.setattr(lb, "build_leaderboard", lambda *a, **k: calls.append(a) or {
        "markdown_table": "| agent | avg rank |", "files": {"html": "x.html"}})
    assert main(["leaderboard", str(d), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert calls[0][0] == str(d) and "| agent | avg rank |" in out and "html: x.html" in out


_HOOK = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push('error: ' + (e.message || (e.target && e.target.src
  ? 'failed to load ' + e.target.tagName : 'unknown'))), true);
const _ce = console.error; console.error = (...a) => { window.__errors.push('console.error: ' + a.join(' ')); _ce(...a); };
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const out = {tables: document.querySelectorAll('table').length, rows: document.querySelectorAll('tbody tr').length,
    images: imgs.length, decoded: imgs.filter(i => i.complete && i.naturalWidth > 100).length,
    errors: window.__errors};
  const pre = document.createElement('pre'); pre.id = 'dsegym-test'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="Debian's chromium is not installed (run 'make chromium')")
def test_html_renders_in_headless_chromium(board, tmp_path):
    d, report = board
    page = (d / "out" / "leaderboard.html").read_text()
    probe = tmp_path / "probe.html"  # the page as written, with an error/probe hook run before anything else
    probe.write_text(page.replace("<head>", "<head>" + _HOOK, 1))
    proc = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", probe.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    m = re.search(r'<pre id="dsegym-test">(.*?)</pre>', proc.stdout, re.DOTALL)
    assert m, f"page did not finish loading: {proc.stderr[-2000:]}"
    import html
    result = json.loads(html.unescape(m.group(1)))
    n_plots = sum(k.startswith("plot_") for k in report["files"])
    assert result["errors"] == []
    assert result["tables"] >= 3 and result["rows"] >= 4
    assert result["images"] == n_plots and result["decoded"] == n_plots
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line and "probe.html" in line]
    assert console == []


def test_proxy_problems_show_their_rank_fidelity_and_a_broken_proxy_shows_as_one(tmp_path):
    # Two proxies of toy-accel: a predictor trained on the simulator's numbers, and the same predictor
    # trained on shuffled numbers (it has learnt nothing). The leaderboard must tell them apart.
    from scipy.stats import kendalltau

    import dsegym
    from dsegym.datasets import collect_frame
    from dsegym.predictors import train
    targets = ["latency_cycles", "energy_uj", "area_mm2"]
    frame, info = collect_frame("toy-accel", 300, seed=5, progress=False)
    shuffled = frame.copy()
    shuffled[targets] = frame[targets].sample(frac=1.0, random_state=0).to_numpy()
    models = {}
    for name, data in (("good", frame), ("broken", shuffled)):
        model = train((data, info), model="mlp", targets=targets, epochs=60, batch_size=32, seed=0, progress=False)
        models[name] = str(model.save(tmp_path / f"{name}.pt"))
    specs = [RunSpec("proxy:toy-accel", "random", seed=s, budget=20, batch_size=5, problem_options={"model": m})
             for m in models.values() for s in (0, 1)]
    run_experiment(specs, tmp_path / "runs", workers=1, progress=False)
    report = build_leaderboard(tmp_path / "runs", tmp_path / "out", progress=False)
    tasks = report["summary"]["problems"]
    assert len(tasks) == 2 and all("proxy" in t for t in tasks.values())
    fid = {("good" if "good.pt" in task else "broken"): t["proxy"] for task, t in tasks.items()}
    # Independent truth: the simulator's own scores on random designs, against each proxy's.
    sim = dsegym.make("toy-accel")
    designs = sim.space.sample_frame(500, seed=9)
    for name, path in models.items():
        proxy = dsegym.make("proxy:toy-accel", model=path)
        tau = kendalltau(sim.score(sim.evaluate(designs)), proxy.score(proxy.evaluate(designs))).statistic
        assert abs(fid[name]["random"]["kendall_tau"] - tau) < 0.1, (name, fid[name], tau)
    assert fid["good"]["random"]["kendall_tau"] > 0.8 and fid["good"]["proposed"]["kendall_tau"] > 0.6
    assert abs(fid["broken"]["random"]["kendall_tau"]) < 0.3
    assert fid["good"]["proposed"]["n"] <= 40 and fid["good"]["random"]["n"] == 1000
    md = report["markdown"]
    assert "## Proxy problems" in md and md.count("A proxy of toy-accel") == 2
