# fedledger: the two user-facing targets are `make demo` and `make test`.
# Both install what is missing first (idempotent: stamps skip work already done).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test setup setup-ipfs setup-browser lint slither compile bench clean

demo: setup setup-ipfs
	$(BIN)/fedledger demo --workdir demo-work --replace --ipfs-per-node

test: setup setup-ipfs setup-browser lint slither
	$(BIN)/python -m pytest

setup: $(VENV)/.installed node_modules/.installed

setup-ipfs: ipfs-node/node_modules/.installed

# The explorer's browser tests drive Debian's Chromium (never a browser downloaded by a test
# tool). Installing it needs root; without it the browser tests fail and say so.
setup-browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is missing: run 'sudo apt-get install -y chromium' (the browser tests need /usr/bin/chromium)"; fi; }

# torch is installed first and pinned, so no dependency can pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

ipfs-node/node_modules/.installed: ipfs-node/package.json ipfs-node/package-lock.json
	# npm ci refuses this lockfile: an optional dependency of electron-eval points at a git tarball
	# that cannot be fetched here; npm install keeps the lockfile and skips that optional part.
	cd ipfs-node && npm install --no-audit --no-fund
	touch $@

# Slither 0.11.6 needs web3 < 8 and the project pins web3 8.0.0: it gets a virtualenv of its own.
SLITHER_VENV := .venv-slither
$(SLITHER_VENV)/.installed:
	test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install --quiet slither-analyzer==0.11.6 crytic-compile==0.4.2
	touch $@

# Fails on any High or Medium finding in contracts/ that scripts/slither_gate.py does not explain.
slither: setup $(SLITHER_VENV)/.installed
	$(BIN)/python scripts/slither_gate.py --slither $(SLITHER_VENV)/bin/slither

compile: setup
	$(BIN)/python scripts/compile.py

# ruff on everything, mypy on ledger/ (settings in pyproject.toml); part of `make test`.
lint: setup
	$(BIN)/ruff check ledger node scripts tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(SLITHER_VENV) node_modules ipfs-node/node_modules
