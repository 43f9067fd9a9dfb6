# Fresh-machine setup: `make demo` and `make test` each create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := sample_traces/h2d28_separate.pt.trace.json.gz

.PHONY: demo test lint bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,cluster]'  # the Dask test runs a real cluster
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tracekit analyze $(SAMPLE) --json reports/demo.analysis.json --html reports/demo.html
	@echo "Open reports/demo.html in a browser: one self-contained file, no network needed."

lint: $(STAMP)
	$(BIN)/ruff check tracekit tests bench
	$(BIN)/ruff format --check tracekit tests bench

test: lint
	$(BIN)/python -m pytest -q -n auto --dist loadfile  # every core; plain `pytest` runs serially

# long fuzz runs over every reader and command: `make fuzz SECONDS=1800` (failures in .fuzz-failures/)
SECONDS ?= 300
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz/run_fuzz.py --seconds $(SECONDS)

bench: $(STAMP)
	$(BIN)/python bench/bench_analyze.py

clean:
	rm -rf $(VENV) reports/*.json reports/*.html .pytest_cache .ruff_cache
