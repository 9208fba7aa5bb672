# Two entry points, both set up whatever is missing first:
#   make run   - serve the web app on $GRADIO_SERVER_NAME:$GRADIO_SERVER_PORT (0.0.0.0:7860)
#   make test  - lint, then the test tiers in order (unit, integration, e2e), stopping at
#                the first that fails
# For everyday work: make test-unit (lint and the unit tier, about a minute).
PY := .venv/bin/python

.PHONY: setup setup-dev run test test-unit test-integration test-e2e lint bench
setup:
	@bash scripts/setup.sh

setup-dev:
	@bash scripts/setup.sh --dev

run: setup
	$(PY) app.py

lint: setup-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# pytest's "no tests collected" (exit 5) is a failure: a tier that collects nothing is broken.
PYTEST = $(PY) -m pytest -ra
define tier
	@$(PYTEST) tests/$(1); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: the $(1) tier collected no tests" >&2; exit 1; fi; \
	exit $$rc
endef

test: lint
	$(call tier,unit)
	$(call tier,integration)
	$(call tier,e2e)

test-unit: lint
	$(call tier,unit)

test-integration: setup-dev
	$(call tier,integration)

test-e2e: setup-dev
	$(call tier,e2e)

bench: setup
	$(PY) benchmarks/bench_foundation.py --write-docs
	$(PY) benchmarks/bench_metrics.py --write-docs
	$(PY) -m evaluation benchmark --system base
	$(PY) benchmarks/bench_bank.py
	$(PY) benchmarks/bench_bank.py --speed
	$(PY) benchmarks/bench_pick.py --reference-seconds 30 --sentences 2
	mkdir -p data/bench
	$(PY) -m evaluation benchmark --system instant --reference-seconds 30 --csv data/bench/instant.csv
	$(PY) -m evaluation benchmark --system bank --reference-seconds 10,30,60,120 \
	    --csv data/bench/bank.csv --against-csv data/bench/instant.csv
	$(PY) -m evaluation benchmark --system bank-trained --against-csv data/bench/bank.csv
	$(PY) benchmarks/bench_ablation.py --reference-seconds 60
	$(PY) benchmarks/bench_ceiling.py --reference-seconds 30 --system instant
	$(PY) benchmarks/bench_ceiling.py --reference-seconds 30 --system bank
	$(PY) benchmarks/bench_listening.py --write-docs
	$(PY) benchmarks/bench_languages.py
	$(PY) benchmarks/bench_script.py
