# One entry point for every routine task. `make demo` and `make test` set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
PACKAGES := messages edge cloud hinode simulators
LINTED := $(PACKAGES) tests bench

.PHONY: setup system-deps demo test test-fast lint format bench clean

$(UV):
	$(PYTHON) -m pip install --quiet --user uv || $(PYTHON) -m pip install --quiet uv

setup: $(UV)
	$(UV) sync --frozen

system-deps:
	./ops/dev/system-deps.sh

demo: setup
	$(VENV)/bin/hinode demo

# pytest exits 5 when it collected no test: that is a failure here, not a pass.
test: setup system-deps
	@set +e; $(VENV)/bin/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: no tests ran" >&2; exit 1; fi; exit $$rc

test-fast: setup
	$(VENV)/bin/pytest -m "not slow and not integration" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff check --fix $(LINTED)
	$(VENV)/bin/ruff format $(LINTED)

bench: setup system-deps
	@for bench in bench/*.py; do echo "== $$bench"; $(VENV)/bin/python $$bench || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
