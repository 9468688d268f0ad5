# The two commands a new user runs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup run test bench lint format migrations-check deploy-check clean

$(STAMP): requirements.lock pyproject.toml
	@echo "==> creating the virtual environment in $(VENV) from requirements.lock"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

run: setup
	@scripts/run-exchange.sh

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/run.py $(if $(QUICK),--quick,)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: setup
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# The production settings must pass Django's deployment checklist.
deploy-check: setup
	SECRET_KEY=$$(head -c 48 /dev/urandom | base64) DATABASE_URL=$${DATABASE_URL:-postgres://localhost/exchange} \
	REDIS_URL=$${REDIS_URL:-redis://localhost:6379/0} ALLOWED_HOSTS=exchange.example \
	PAYMENT_WEBHOOK_SECRET=$$(head -c 32 /dev/urandom | base64) \
	$(BIN)/python manage.py check --deploy --fail-level WARNING --settings=config.settings.production

clean:
	rm -rf $(VENV) var
