# The two newcomer commands are `make demo` and `make test`; each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test demo bench lint sandbox readme definitions dist clean

$(STAMP): requirements-dev.txt tap-planhat/pyproject.toml target-dust/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed: run make PYTHON=python3.12 (or another)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
		{ echo "Creating .venv failed; on Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./tap-planhat -e './target-dust[postgres]' -r requirements-dev.txt
	touch $@

install: $(STAMP)

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

demo: install
	$(BIN)/python -m sandbox.demo

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

sandbox: install
	$(BIN)/python -m sandbox

clean:
	rm -rf $(VENV) .meltano .target-dust output dist

readme: install
	$(BIN)/python -m tests.readme_settings

# Meltano Hub definitions (<plugin>/meltano-plugin.yml) and meltano.yml's entries, from --about.
definitions: install
	$(BIN)/python -m tools.plugin_definitions

# Wheels and sdists of both packages in dist/, as PyPI gets them.
dist: install
	$(BIN)/python -m build --installer uv --outdir dist tap-planhat
	$(BIN)/python -m build --installer uv --outdir dist target-dust
