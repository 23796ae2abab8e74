# The README's two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format bench clean system-packages vendor messages opensearch exchange-demo

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  rm -rf $(VENV); [ "$$(id -u)" = 0 ] || { echo "install python3-venv (apt) first"; exit 1; }; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# The web UI's front-end packages (frontend/package.json, exact versions) from the npm registry,
# copied into frontend/static/vendor: served by edms itself, never from a CDN.
PDFJS        := frontend/node_modules/pdfjs-dist
VENDOR       := frontend/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed

$(VENDOR_STAMP): frontend/package.json
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: run infra/install-ui-packages.sh"; exit 1; }
	cd frontend && npm install --no-audit --no-fund --omit=optional --no-package-lock
	rm -rf $(VENDOR)/pdfjs && mkdir -p $(VENDOR)/pdfjs/build $(VENDOR)/pdfjs/web
	cp $(PDFJS)/build/pdf.min.mjs $(PDFJS)/build/pdf.worker.min.mjs $(VENDOR)/pdfjs/build/
	cp -r $(PDFJS)/web/pdf_viewer.mjs $(PDFJS)/web/pdf_viewer.css $(PDFJS)/web/images $(VENDOR)/pdfjs/web/
	cp -r $(PDFJS)/cmaps $(PDFJS)/standard_fonts $(PDFJS)/wasm $(PDFJS)/LICENSE $(VENDOR)/pdfjs/
	touch $@

vendor: $(VENDOR_STAMP)

# The launcher of real OpenSearch nodes (a Maven project: the server and its modules from Maven
# Central); infra/opensearch.sh starts and stops nodes with it.
OPENSEARCH_JAR := infra/opensearch/target/opensearch-node-1.jar

$(OPENSEARCH_JAR): infra/opensearch/pom.xml $(shell find infra/opensearch/src -type f)
	mvn -B -q -f infra/opensearch/pom.xml package

opensearch: $(OPENSEARCH_JAR)

# Recompile the UI translations (the .mo files are committed; needs gettext's msgfmt).
messages: $(STAMP)
	cd frontend && ../$(BIN)/django-admin compilemessages

run: $(STAMP) system-packages $(VENDOR_STAMP)
	$(BIN)/edms run

# OCR (Tesseract, Ghostscript), office renditions (LibreOffice), and npm/gettext for the UI's
# build: installed when missing as root, else listed; edms runs without the rendition tools and
# says which renditions are disabled.
system-packages:
	infra/install-system-packages.sh
	infra/install-ui-packages.sh --runtime

test: $(STAMP) $(VENDOR_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# A fake WIPO DAS for trying the DAS exchange (README, "Exchange with other offices").
DAS_DEMO_ARGS ?= --port 8765 --client demo:demo-secret
exchange-demo: $(STAMP)
	$(BIN)/python -m tests.exchange.fake_das $(DAS_DEMO_ARGS)

# Benchmarks print figures; they are not tests. BENCH_ARGS goes to the transfer benchmark,
# UPLOADS_BENCH_ARGS to the upload-session one (S3Proxy, started for the run),
# THROUGHPUT_ARGS to the end-to-end one (`edms run` for real). The search benchmark runs on an
# OpenSearch node beside the embedded engine and the ingestion benchmark with a Tika server
# beside the embedded extractor, each started for the run (SEARCH_BENCH_ARGS and
# INGEST_BENCH_ARGS replace these options, e.g. with `--opensearch-url URL`). SCALE_BENCH_ARGS goes
# to the scale benchmark (`--steps 10000,100000` for a quick run).
SEARCH_BENCH_ARGS ?= --opensearch
INGEST_BENCH_ARGS ?= --tika-server

bench: $(STAMP)
	$(BIN)/python -m tests.bench.transfer $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.uploads $(UPLOADS_BENCH_ARGS)
	$(BIN)/python -m tests.bench.search $(SEARCH_BENCH_ARGS)
	$(BIN)/python -m tests.bench.search_freshness
	$(BIN)/python -m tests.bench.ingest $(INGEST_BENCH_ARGS)
	$(BIN)/python -m tests.bench.scan
	$(BIN)/python -m tests.bench.ui
	$(BIN)/python -m tests.bench.scale $(SCALE_BENCH_ARGS)
	$(BIN)/python -m tests.bench.throughput $(THROUGHPUT_ARGS)
	$(BIN)/python -m tests.bench.audit_chain
	$(BIN)/python -m tests.bench.similar $(SIMILAR_BENCH_ARGS)

clean:
	rm -rf $(VENV) var frontend/node_modules $(VENDOR) infra/opensearch/target
