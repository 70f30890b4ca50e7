# The two entry points of the README: `make reproduce` and `make test`.
# Both create .venv with the pinned dependencies first (nothing to install by hand).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

# Every workflow command runs under the project lock (.project.lock, flock): a second run is refused,
# and a Snakemake lock left by a killed run is removed automatically (workflow/scripts/run_locked.py).
LOCKED = $(BIN)/python workflow/scripts/run_locked.py

# The workflow config that `dvc repro` runs (config/active.yaml); `make pull` touches its outputs.
ACTIVE_CONFIG = $(shell sed -n 's/^configfile: *//p' config/active.yaml)

.PHONY: setup reproduce sensitivity test repro pull clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

reproduce: setup
	$(LOCKED) $(BIN)/snakemake --cores $(CORES)
	@echo "figures: figures/fig1.pdf ... figures/fig6.pdf, figures/table1.md, figures/report.html"

# The sensitivity study (config/sensitivity.yaml) on top of the default study: figures/figS1.pdf, figures/sensitivity.md.
sensitivity: setup
	$(LOCKED) $(BIN)/snakemake --cores $(CORES) --configfile config/config.yaml config/sensitivity.yaml
	@echo "sensitivity: figures/figS1.pdf, figures/sensitivity.md"

test: setup
	$(BIN)/python -m pytest

# DVC: run the stale stages of dvc.yaml (each calls Snakemake) on config/active.yaml's config.
repro: setup
	PATH="$(abspath $(BIN)):$$PATH" $(LOCKED) $(BIN)/dvc repro

# DVC: fetch the artifacts of dvc.lock from the remote, then mark them up to date for Snakemake
# (DVC does not restore modification times; --touch sets them in DAG order, recomputing nothing).
# `make pull REMOTE=https://...` reads a published remote (HTTP, read-only; or s3://, ssh://, a path)
# instead of the default one: it is recorded as remote `published` in .dvc/config.local (not committed).
REMOTE ?=
pull: | $(STAMP)
ifneq ($(REMOTE),)
	$(BIN)/dvc remote add --local --force published $(REMOTE)
	$(BIN)/dvc pull --remote published
else
	$(BIN)/dvc pull
endif
	$(LOCKED) $(BIN)/snakemake --touch --cores 1 --configfile '$(ACTIVE_CONFIG)'

# Keeps results/metrics.json: it is committed with dvc.lock (the reference run's headline numbers).
clean:
	rm -rf $(VENV) .snakemake logs $(filter-out results/metrics.json,$(wildcard results/*))
