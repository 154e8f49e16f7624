# Set-up and checks. Everything installs into ./.venv; torch is pinned to the
# CPU build (constraints.txt) on every pip call.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --disable-pip-version-check -c constraints.txt
# The CPU wheel of torch. Elsewhere, point pip at PyTorch's CPU index, e.g.
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
TORCH_FLAGS := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)
QUESTION ?= Why did EleutherAI take GPT-J offline?

.PHONY: setup demo chat test test-fast test-dev lint typecheck bench eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-run pip only when the project's requirements change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check torch==2.13.0 $(TORCH_FLAGS)
	$(PIP) -e ".[dev]"
	touch $@

setup: $(VENV)/.installed  ## install into .venv (torch CPU first)

demo: setup  ## ingest the bundled corpus if needed, then answer a sample question
	$(BIN)/kb ask "$(QUESTION)"

chat: setup  ## interactive questions
	$(BIN)/kb chat

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

test: setup lint typecheck  ## install, lint, type-check and run the test suite
	$(BIN)/python -m pytest -q

# The edit-run loop: no real embedding model, Chroma server or Discord emulator
# (markers from tests/conftest.py). CI runs `make test`, which runs everything.
test-fast: setup  ## the fast tier of the tests (well under a minute)
	$(BIN)/python -m pytest -q -m "not slow and not server and not discord"

# While changing the answerer: every test but the held-out bars, whose failure messages
# would show a test or holdout figure (settings are chosen on the dev split only).
test-dev: setup  ## every test except those that evaluate the test and holdout splits
	$(BIN)/python -m pytest -q -m "not test_split"

$(VENV)/.installed-bench: $(VENV)/.installed
	$(PIP) -e ".[dev,bench]"
	touch $@

bench: $(VENV)/.installed-bench  ## performance benchmarks (prints tables)
	$(BIN)/python benchmarks/run.py

eval: setup  ## answer quality on the bundled question set
	$(BIN)/kb eval qa

clean:
	rm -rf $(VENV) .kb .pytest_cache .mypy_cache .ruff_cache
