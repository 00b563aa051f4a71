# The two commands a new machine needs:  `make dev`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: dev test lint install bench bench-procurement bench-payroll clean

$(BIN)/finsync: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

install: $(BIN)/finsync

dev: install           ## install, then run the whole local stack in the foreground
	$(BIN)/finsync dev

test: install          ## install, then run every test
	$(BIN)/pytest -q

lint: install          ## the quality gate CI runs after the tests
	$(BIN)/ruff check .
	$(BIN)/mypy .

bench: install
	$(BIN)/python bench/expense_throughput.py

bench-procurement: install
	$(BIN)/python bench/procurement_throughput.py

bench-payroll: install
	$(BIN)/python bench/payroll_run.py

clean:
	rm -rf $(VENV) .finsync
