# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
MO := cpa_network/translations/ru/LC_MESSAGES/messages.mo
PO := $(MO:.mo=.po)

.PHONY: run test lint audit lock messages worker bench clean

## make run: install, migrate an SQLite file under instance/, load the demo, serve with a worker.
run: $(STAMP) $(MO)
	$(PY) -m cpa_network.devserver

## make test: ruff, the import-layer contract, bandit, then the whole suite on PostgreSQL and Redis,
## in TEST_WORKERS processes (pytest-xdist; a test file stays in one process). At most 15: each
## takes one of Redis's database numbers 1-15 (tests/conftest.py).
TEST_WORKERS ?= 2
test: $(STAMP) $(MO)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/bandit -q -r cpa_network offers publishers payouts -c pyproject.toml
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

$(MO): $(PO) $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -d cpa_network/translations

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

## make audit: known vulnerabilities in requirements.lock (pip-audit asks PyPI's JSON API about
## each pinned version). --strict: a package the service cannot answer for fails the audit.
audit: $(STAMP)
	$(VENV)/bin/pip-audit -r requirements.lock --no-deps --disable-pip --strict --progress-spinner off

## make lock: re-pin requirements.lock from a clean install of pyproject.toml's dependencies.
lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install -q .
	{ echo "# The runtime dependencies, pinned: what pip-audit checks (make audit). Refresh: make lock"; \
	  build/lock-venv/bin/python -m pip freeze --exclude-editable | grep -vi '^cpa-network'; } > requirements.lock
	rm -rf build/lock-venv

## make messages: extract strings, update the Russian catalogue, list what is untranslated.
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o /tmp/cpa-messages.pot . >/dev/null
	$(VENV)/bin/pybabel update -i /tmp/cpa-messages.pot -d cpa_network/translations --no-fuzzy-matching -w 100
	@$(PY) tools/i18n_fill.py

worker: $(STAMP)
	$(VENV)/bin/flask --app wsgi worker

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
