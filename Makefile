# The two entry points of the README: `make reproduce` and `make test`.
# Both create .venv with the pinned dependencies first (nothing to install by hand).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

.PHONY: setup reproduce test clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

reproduce: setup
	$(BIN)/snakemake --cores $(CORES)
	@echo "figures: figures/fig1.pdf ... figures/fig6.pdf, figures/table1.md, figures/report.html"

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .snakemake results logs
