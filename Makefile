# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
MO := cpa_network/translations/ru/LC_MESSAGES/messages.mo
PO := $(MO:.mo=.po)

.PHONY: run test lint messages worker bench clean

## make run: install, migrate an SQLite file under instance/, load the demo, serve with a worker.
run: $(STAMP) $(MO)
	$(PY) -m cpa_network.devserver

## make test: ruff, the import-layer contract, then the whole suite on PostgreSQL and Redis.
test: $(STAMP) $(MO)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest

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

## make messages: extract strings, update the Russian catalogue, list what is untranslated.
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o /tmp/cpa-messages.pot . >/dev/null
	$(VENV)/bin/pybabel update -i /tmp/cpa-messages.pot -d cpa_network/translations --no-fuzzy-matching -w 100
	@$(PY) tools/i18n_fill.py

worker: $(STAMP)
	$(VENV)/bin/flask --app wsgi worker

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
