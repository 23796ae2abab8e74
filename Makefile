# The README's two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format bench clean system-packages

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  rm -rf $(VENV); [ "$$(id -u)" = 0 ] || { echo "install python3-venv (apt) first"; exit 1; }; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP) system-packages
	$(BIN)/edms run

# OCR (Tesseract, Ghostscript) and office renditions (LibreOffice): installed when missing as
# root, else listed; edms runs without them and says which renditions are disabled.
system-packages:
	infra/install-system-packages.sh

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks print figures; they are not tests. BENCH_ARGS goes to the transfer benchmark.
bench: $(STAMP)
	$(BIN)/python -m tests.bench.transfer $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.search
	$(BIN)/python -m tests.bench.ingest $(INGEST_BENCH_ARGS)
	$(BIN)/python -m tests.bench.scan

clean:
	rm -rf $(VENV) var
