# One command surface for people and CI: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(PY) -m rasa
PYTEST_ARGS ?=

.PHONY: help install validate train test faults run lint lock clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

install: ## Create .venv with Python 3.10 and the locked dependencies (skipped when up to date)
	@bash scripts/bootstrap.sh

validate: install ## Check domain, stories, rules and NLU data for consistency
	$(RASA) data validate --domain domain --data data --config config.yml

train: install ## Train the model, only if config, domain or data changed
	$(VENV)/bin/bot train

test: install validate train ## Run the whole test suite (sets up what is missing first)
	$(PY) -m pytest $(PYTEST_ARGS)

faults: install train ## Crash and outage tests: SIGKILL, database and Redis cut, action server killed (minutes)
	$(PY) -m pytest -m faults tests/faults $(PYTEST_ARGS)

run: install ## Start the assistant locally: Rasa :5005, actions :5055, web chat page
	$(VENV)/bin/bot run

lint: install ## Lint and check formatting
	$(PY) -m ruff check bot actions channels handoff monitoring tests

lock: ## Re-resolve pyproject.toml into requirements.lock (needs the package registry)
	bash scripts/lock.sh

clean: ## Remove the virtual environment, models and local state
	rm -rf $(VENV) models var .pytest_cache
