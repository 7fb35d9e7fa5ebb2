# make        set up .venv from pyproject.toml and run the whole workflow
# make test   set up .venv and run the tests
# make fixtures  regenerate the metafor reference values (needs Debian's r-cran-metafor, r-cran-lme4)
# make bench  time the engine against metafor and statsmodels
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: all run test fixtures bench clean
all: run

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/snakemake

test: $(VENV)/.installed
	$(BIN)/python -m pytest

fixtures: $(VENV)/.installed
	$(BIN)/snakemake results/tables/included.csv
	$(BIN)/python tests/metafor/make_inputs.py results/tables/included.csv tests/fixtures/metafor_inputs.csv
	Rscript tests/metafor/make_fixtures.R tests/fixtures/metafor_inputs.csv tests/fixtures/metafor_rma.csv

bench: $(VENV)/.installed
	$(BIN)/python bench/run_benchmarks.py

clean:
	rm -rf results .snakemake
