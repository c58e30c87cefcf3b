# make demo : create/refresh .venv, install dsegym with everything it needs, run the main job
# make test : the same set-up, then the test suite
# Variables: PYTHON (interpreter for the venv), VENV, TORCH_SPEC, TORCH_PIP_ARGS (e.g.
#   TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu" on machines whose default index
#   would pull CUDA wheels).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
STAMP := $(VENV)/.dsegym-installed

.PHONY: demo test install bench clean accuracy-table chromium

$(PY):
	$(PYTHON) -m venv $(VENV)

# Torch goes in first, pinned to the CPU build, so that no later requirement pulls CUDA wheels.
$(STAMP): pyproject.toml Makefile | $(PY)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(PIP) install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# A reduced leaderboard suite (every problem and agent family; a few minutes on 2 cores), then its table.
# It resumes: a second `make demo` only rebuilds the leaderboard.
demo: $(STAMP)
	$(VENV)/bin/dsegym run experiments/leaderboard-demo.yaml --out runs/demo > /dev/null
	$(VENV)/bin/dsegym leaderboard runs/demo --out runs/demo/leaderboard

# Debian's headless Chromium for the leaderboard's browser test; installs only when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium; }
	@chromium --version

# Lint first (pyflakes, import order, docstrings of the public API), then the suite on two workers
# (pytest-xdist; TEST_WORKERS=auto uses every core). Tests set one torch thread each (conftest).
TEST_WORKERS ?= 2
test: $(STAMP) chromium
	$(VENV)/bin/ruff check dsegym tests benchmarks scripts
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -q -n $(TEST_WORKERS)

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Co-design accuracy table: every network x 3 seeds, trained once into the cache ($$DSEGYM_CACHE_DIR).
accuracy-table: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m dsegym.envs.codesign.accuracy --workers 2

clean:
	rm -rf $(VENV) runs build *.egg-info
