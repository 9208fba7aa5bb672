# Two entry points, both set up whatever is missing first:
#   make run   - serve the web app on $GRADIO_SERVER_NAME:$GRADIO_SERVER_PORT (0.0.0.0:7860)
#   make test  - lint, then the whole test suite
PY := .venv/bin/python

.PHONY: setup setup-dev run test lint bench
setup:
	@bash scripts/setup.sh

setup-dev:
	@bash scripts/setup.sh --dev

run: setup
	$(PY) app.py

lint: setup-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: lint
	@$(PY) -m pytest -ra; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$rc

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
