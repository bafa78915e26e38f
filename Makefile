PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[all]"
	touch $(STAMP)

# The default model ships inside the package: the demo runs offline on a fresh machine.
demo: install
	$(BIN)/python -m cutkit.demo $(DEMO_ARGS)

# The page's browser test needs Debian's chromium (BSD-3-Clause) and Playwright for Python (Apache-2.0):
# browser_deps.sh installs them when it can and never fails; without them that test skips and says why.
test: install
	VENV=$(VENV) bash scripts/browser_deps.sh
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

bench: install
	$(BIN)/python benchmarks/remove_speed.py

clean:
	rm -rf $(VENV) demo-output
