# Gridwatch: `make demo` runs the live demo city, `make test` runs every test.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test test-cluster install lock system-deps lint bench clean catalogues

$(STAMP): pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)
	$(BIN)/pybabel -q compile -d locales -D gridwatch

# The gettext catalogues (Babel): extract the messages of layouts/messages*.py into the template,
# merge it into every locale's .po (a new locale: pybabel init -l LL -i $(POT) -d locales -D
# gridwatch), compile the .mo files the app loads.
POT     := locales/gridwatch.pot
EXTRACT := --no-default-keywords -k msg:1c,2 -k msgn:1c,2,3 -c TRANSLATORS: --no-location \
           --width=100 --project=gridwatch --version=0.1.0 --copyright-holder=Gridwatch
catalogues: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg $(EXTRACT) -o $(POT) .
	$(BIN)/pybabel -q update -i $(POT) -d locales -D gridwatch --width=100 \
	  --ignore-obsolete
	$(BIN)/pybabel compile -d locales -D gridwatch --statistics

# Regenerate requirements.lock from what the working .venv has (pip freeze, the project's closure).
lock:
	$(BIN)/pip install --quiet -e '.[test,embedded,gis]'
	$(BIN)/pip freeze --exclude-editable | grep -viE '^(gridwatch|-e )' > requirements.lock

system-deps:
	@bash scripts/system-deps.sh

demo: install
	$(BIN)/gridwatch demo

# A real S3-compatible server for the media store's tests (tests/feeds/ingest/test_media_s3.py).
S3RVER  := .cache/s3rver/node_modules/.bin/s3rver
$(S3RVER):
	npm install --prefix .cache/s3rver --no-audit --no-fund --silent s3rver@3.7.1

test: install system-deps $(S3RVER)
	$(BIN)/ruff check domain feeds layouts dashboard gridwatch tests bench
	$(BIN)/python -m pytest -q

# The Redis integration tests again, against a local Redis Cluster of 3 masters with a replica
# each (tests/conftest.py), and the failover phases of bench.faults in short.
CLUSTER_TESTS ?= tests/feeds tests/dashboard tests/gridwatch tests/browser/test_processes_e2e.py \
                 tests/browser/test_failover_e2e.py
test-cluster: install system-deps $(S3RVER)
	GRIDWATCH_TEST_REDIS=cluster $(BIN)/python -m pytest -q $(CLUSTER_TESTS)

bench: install
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.video

clean:
	rm -rf $(VENV) data build *.egg-info
	find locales -name '*.mo' -delete
