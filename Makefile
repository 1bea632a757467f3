# Two commands for a fresh machine: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# the privacy notice's operator on a demo machine (CHANGTONG_OPERATOR_NAME in production)
DEMO_OPERATOR ?= 畅通演示平台（示例，非真实运营单位）
# the address people are sent to (the printed receipt, links in notices): this host, or with
# HOST=0.0.0.0 the machine's first network address (a phone on the same network can open it);
# CHANGTONG_BASE_URL, where set, wins
PUBLIC_HOST = $(if $(filter 0.0.0.0,$(HOST)),$(or $(firstword $(shell hostname -I 2>/dev/null)),$(HOST)),$(HOST))
PG_TEST_URL ?= postgresql+psycopg://root@127.0.0.1:5432/test
# pytest-xdist processes for `make test` (0: one process, as when debugging a test)
TEST_JOBS ?= 2
export CHANGTONG_DATA_DIR ?= $(CURDIR)/var

.PHONY: help run test install install-test env translations migrate seed lock extract clean cluster
.DEFAULT_GOAL := help

# each target with a `## ` note after its prerequisites is listed by `make help`
help: ## list the targets (this)
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z-]+:[^#]*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed translations ## .venv with the pinned dependencies (requirements.lock) and the translations

# test-only tools are pinned in the same lock file; nothing extra to fetch
install-test: install ## the same: the test tools are in the lock too

# a local env file with fresh secrets, made once and never committed (.gitignore)
env: .env ## a .env with fresh secrets, once (never overwritten)
.env: | $(BIN)/python
	@$(BIN)/python -c 'from casework.settings import new_key as k; print(f"CHANGTONG_SECRET_KEY={k()}\nCHANGTONG_PII_KEY={k()}\nCHANGTONG_IDENTITY_KEY={k()}\nCHANGTONG_QUERY_PEPPER={k()}")' > $@
	@chmod 600 $@
	@echo "wrote .env with fresh secrets (keep it; the encrypted data needs CHANGTONG_PII_KEY and CHANGTONG_IDENTITY_KEY)"

translations: $(BIN)/python ## compile the translations (web/translations)
	@$(BIN)/pybabel compile -d web/translations -D messages

migrate: install env ## the database up to the latest schema
	$(BIN)/changtong db upgrade

seed: migrate ## migrate, then load the demo registry (units, associations, categories)
	$(BIN)/changtong seed-demo

run: seed ## install, migrate, load the demo data and serve on HOST:PORT with a worker
	@$(BIN)/changtong users demo
	@$(BIN)/changtong demo-cases
	@echo
	@echo "Changtong is starting on http://$(PUBLIC_HOST):$(PORT)/ with a worker and its beat (Ctrl-C stops both)"
	@echo "Notices land encrypted in $(CHANGTONG_DATA_DIR)/notices/: read them with .venv/bin/changtong notices"
	@echo "(a development machine only; set CHANGTONG_SMS_URL / CHANGTONG_SMTP_HOST to send them)"
	@echo
	@export CHANGTONG_DEV_NOTICE_FILES=$${CHANGTONG_DEV_NOTICE_FILES:-1} CHANGTONG_BASE_URL=$${CHANGTONG_BASE_URL:-http://$(PUBLIC_HOST):$(PORT)} \
	  CHANGTONG_OPERATOR_NAME="$${CHANGTONG_OPERATOR_NAME:-$(DEMO_OPERATOR)}" CHANGTONG_OPERATOR_CONTACT="$${CHANGTONG_OPERATOR_CONTACT:-privacy@changtong.example}"; \
	$(BIN)/celery -A workers.main worker -B -c 1 --loglevel WARNING -s "$(CHANGTONG_DATA_DIR)/celerybeat-schedule" & \
	worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	CHANGTONG_BIND=$(HOST):$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py 'web.wsgi:app'

test: install-test ## the whole suite on SQLite, then on PostgreSQL where it answers
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_JOBS) -m "not postgres"
	@if [ -n "$$CI" ] || $(BIN)/python -c 'import psycopg,sys; psycopg.connect("$(subst +psycopg,,$(PG_TEST_URL))", connect_timeout=2).close()' 2>/dev/null; then \
		echo "== again on PostgreSQL ($(PG_TEST_URL))"; \
		TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_JOBS) -m "not browser"; \
	else echo "(PostgreSQL not reachable: the suite ran on SQLite only; CI runs both)"; fi

# refresh the pinned versions after changing dependencies in pyproject.toml
lock: $(BIN)/python ## requirements.lock again after a dependency in pyproject.toml changed
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip freeze --exclude-editable | grep -v '^changtong' > requirements.lock

extract: ## the translatable strings into web/translations (messages.pot and the catalogs)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k pgettext:1c,2 --ignore-dirs ".* __pycache__ node_modules" -o web/translations/messages.pot --no-location --sort-output --project=changtong .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations -D messages --no-fuzzy-matching

# docker-compose.yml's topology without Docker (PostgreSQL and redis-server binaries needed):
# two web nodes, two workers and one beat from the same settings, and a scenario across them
cluster: install ## docker-compose.yml's services as local processes, and a scenario across them
	$(BIN)/python -m bench.cluster

clean: ## remove .venv and var/ (the local database, files and notices)
	rm -rf $(VENV) var .pytest_cache
