# The two commands a new user runs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup run test coverage bench lint format typecheck hooks migrations-check deploy-check clean messages

$(STAMP): requirements.lock pyproject.toml
	@echo "==> creating the virtual environment in $(VENV) from requirements.lock"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The compiled catalogs (.mo) are built here, never committed: Babel compiles
# them, so a machine without GNU gettext shows the admin in Chinese too.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

locale/%.mo: locale/%.po $(STAMP)
	$(BIN)/python scripts/catalog.py compile $<

setup: $(STAMP) $(MO_FILES)

run: setup
	@scripts/run-exchange.sh

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

# The test suite with branch coverage (pyproject.toml [tool.coverage]), as .ci/run runs `make test`.
coverage: setup
	$(BIN)/pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/run.py $(if $(QUICK),--quick,)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with the Django and DRF plugins; configured in pyproject.toml, cache in .mypy_cache.
typecheck: setup
	$(BIN)/mypy .

# Install the git hooks of .pre-commit-config.yaml (ruff, django-upgrade, whitespace).
hooks: setup
	$(BIN)/pre-commit install

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate the catalogs from the code and templates (needs gettext's
# xgettext/msgmerge), give English entries their msgid, then list what still
# needs a Chinese translation. See README, "Translations".
MESSAGES_IGNORE := -i .venv -i var -i node_modules -i tests -i bench -i .git
messages: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemessages \
	    -l zh_Hans -l en --no-obsolete --add-location=file $(MESSAGES_IGNORE)
	@if [ -n "$$(find . -name '*.js' -not -path './.venv/*' -not -path './var/*' -not -path './node_modules/*' -print -quit)" ]; then \
	    DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemessages -d djangojs \
	    -l zh_Hans -l en --no-obsolete --add-location=file $(MESSAGES_IGNORE); fi
	@for po in locale/en/LC_MESSAGES/*.po; do \
	    msgattrib --clear-fuzzy --empty -o $$po $$po && msgen -o $$po $$po; done
	$(BIN)/python scripts/catalog.py tidy
	$(BIN)/python scripts/catalog.py compile
	-$(BIN)/python scripts/catalog.py missing

migrations-check: setup
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# The production settings must pass Django's deployment checklist.
deploy-check: setup
	SECRET_KEY=$$(head -c 48 /dev/urandom | base64) DATABASE_URL=$${DATABASE_URL:-postgres://localhost/exchange} \
	REDIS_URL=$${REDIS_URL:-redis://localhost:6379/0} ALLOWED_HOSTS=exchange.example \
	PAYMENT_WEBHOOK_SECRET=$$(head -c 32 /dev/urandom | base64) \
	DELIVERY_MASTER_KEY=$$(head -c 32 /dev/urandom | base64) \
	$(BIN)/python manage.py check --deploy --fail-level WARNING --settings=config.settings.production

clean:
	rm -rf $(VENV) var
	find locale -name "*.mo" -delete
