# Quick start: `make run` starts the bot, `make test` runs the checks. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test demo lint check bench catalogs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m bot run

demo: $(STAMP)
	$(PY) -m bot demo

check: $(STAMP)
	$(PY) -m bot check

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(STAMP) lint
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

# After changing a template's words or a rubric label: extract, merge into every catalog, pre-fill
# Traditional Chinese with OpenCC, then list what still needs a translator (CONTRIBUTING.md).
catalogs: $(STAMP)
	$(PY) tools/catalogs.py update
	$(PY) tools/catalogs.py check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
