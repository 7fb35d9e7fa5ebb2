# make        set up .venv from pyproject.toml and run the whole workflow
# make lint   ruff (check, format --check), snakefmt --check, snakemake --lint, lint-imports (layers)
# make test   set up .venv and run the tests (the linters of make lint among them: tests/test_lint.py, test_layers.py)
# make test-fast  the inner loop: every test but those that run Snakemake (marked workflow), < 2 min on 2 cores
# make fixtures  regenerate the metafor reference values with metafor 5.1-12 (tests/metafor/README says how
#               to install it into METAFOR_LIB from the public repository; the target checks the version it finds)
# make test-slurm  start a single-node SLURM here (installs Debian's slurm-wlm and munge; root), run the
#             robustness rules through --profile profiles/slurm and locally, check the tables are equal
# make bench  time the engine against metafor and statsmodels, permutest against metafor, and the workflow
#             (cold run, no-op, one criterion changed, a 10^5-row sheet) against metafor,
#             and the speed budgets the tests no longer assert (bench/speed_checks.py), and GOSH and
#             the multiverse against metafor's gosh() (bench/robustness_bench.py), and the wall time
#             with 1, 2 and 4 local jobs and GOSH at k = 30 on paper (bench/scaling_bench.py)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: all run lint test test-fast test-slurm fixtures bench clean
all: run

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[workflow,test,bench]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/snakemake

# snakemake --lint prints lints and fails on any. tests/test_lint.py and tests/test_layers.py run the
# same checks inside pytest, so `make test` (and .ci/run) runs them once, there, not also through make lint.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint
	PYTHONPATH=workflow $(BIN)/lint-imports --no-cache

# One pass, one pytest-xdist worker per core. The session's complete Snakemake runs are made once for all the
# workers (tests/session_runs.py): the controller starts them as the session starts, while the workers run the
# tests that need no run (tests/conftest.py sorts the workflow tests last).
test: $(VENV)/.installed
	$(BIN)/python -m pytest -n auto

# The inner loop: pyproject.toml's markers; tests/conftest.py refuses Snakemake in a test not marked workflow.
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not workflow" -n auto

# Not part of `make test`: it needs root and starts daemons (tests/slurm/run_slurm_test.sh says why it cannot).
$(VENV)/.slurm-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[slurm]'
	touch $@

test-slurm: $(VENV)/.slurm-installed
	PYTHON=$(BIN)/python bash tests/slurm/run_slurm_test.sh

# metafor 5.1-12 lives in its own R library (not Debian's 3.8-1): tests/metafor/README
METAFOR_LIB ?= /opt/R-metafor51
METAFOR_VERSION := 5.1-12
RSCRIPT := R_LIBS=$(METAFOR_LIB) Rscript

fixtures: $(VENV)/.installed
	$(RSCRIPT) tests/metafor/check_version.R $(METAFOR_VERSION)
	$(BIN)/snakemake results/tables/included.csv results/clean/outcomes.csv results/tables/dose_response_arms.csv \
	    results/tables/pooled_studies.csv
	$(BIN)/python tests/metafor/make_inputs.py results/tables/included.csv tests/fixtures/metafor_inputs.csv
	$(BIN)/python tests/metafor/make_asymmetric_inputs.py tests/fixtures/asymmetric_inputs.csv
	$(BIN)/python tests/metafor/make_glmm_inputs.py tests/fixtures/glmm_inputs_k200.csv
	$(BIN)/python tests/metafor/make_metareg_inputs.py results/tables/included.csv \
	    tests/fixtures/metareg_project_inputs.csv tests/fixtures/metareg_synthetic_inputs.csv
	$(BIN)/python tests/metafor/make_multilevel_inputs.py results/clean/outcomes.csv tests/fixtures/multilevel_inputs.csv
	$(BIN)/python tests/metafor/make_dose_response_inputs.py results/clean/outcomes.csv \
	    tests/fixtures/dose_response_inputs.csv results/tables/dose_response_arms.csv
	$(RSCRIPT) tests/metafor/make_fixtures.R tests/fixtures/metafor_inputs.csv tests/fixtures
	$(RSCRIPT) tests/metafor/make_glmm_fixtures.R tests/fixtures/metafor_inputs.csv \
	    tests/fixtures/glmm_inputs_k200.csv tests/fixtures/metafor_glmm.csv
	$(RSCRIPT) tests/metafor/make_metareg_fixtures.R tests/fixtures/metareg_project_inputs.csv \
	    tests/fixtures/metareg_synthetic_inputs.csv tests/fixtures/metafor_inputs.csv tests/fixtures
	$(RSCRIPT) tests/metafor/make_multilevel_fixtures.R tests/fixtures/multilevel_inputs.csv tests/fixtures
	$(RSCRIPT) tests/metafor/make_dose_response_fixtures.R tests/fixtures/dose_response_inputs.csv tests/fixtures
	$(RSCRIPT) tests/metafor/make_alpha_beta_fixtures.R tests/fixtures
	$(BIN)/python tests/metafor/make_curve_inputs.py results/clean/outcomes.csv config/config.yaml \
	    tests/fixtures/curve_inputs.csv tests/fixtures/dose_time_inputs.csv
	$(RSCRIPT) tests/metafor/make_curve_fixtures.R tests/fixtures/curve_inputs.csv tests/fixtures \
	    tests/fixtures/dose_time_inputs.csv
	$(RSCRIPT) tests/metafor/make_curve_bound_fixtures.R tests/fixtures/curve_inputs.csv tests/fixtures
	$(RSCRIPT) tests/metafor/make_sensitivity_fixtures.R tests/fixtures/metafor_inputs.csv \
	    tests/fixtures/asymmetric_inputs.csv tests/fixtures
	$(RSCRIPT) tests/metafor/make_edge_fixtures.R tests/fixtures
	$(RSCRIPT) tests/metafor/make_gosh_fixtures.R tests/fixtures/metafor_inputs.csv tests/fixtures
	$(BIN)/python tests/metafor/make_tau2_inputs.py tests/fixtures/tau2_synthetic_inputs.csv
	$(RSCRIPT) tests/metafor/make_tau2_fixtures.R tests/fixtures/metafor_inputs.csv \
	    tests/fixtures/tau2_synthetic_inputs.csv tests/fixtures/metafor_tau2.csv
	$(RSCRIPT) tests/metafor/make_prob_fixtures.R tests/fixtures/metafor_inputs.csv tests/fixtures/metafor_prob.csv
	$(RSCRIPT) tests/metafor/make_pi_fixtures.R tests/fixtures/metafor_inputs.csv tests/fixtures
	$(BIN)/python tests/metafor/make_sensitivity_study_inputs.py results/tables/included.csv \
	    tests/fixtures/sensitivity_study_inputs.csv
	$(RSCRIPT) tests/metafor/make_sensitivity_study_fixtures.R tests/fixtures/sensitivity_study_inputs.csv \
	    tests/fixtures/workflow_included.csv tests/fixtures
	$(BIN)/python tests/metafor/make_sensitivity_tests_inputs.py results/tables/pooled_studies.csv \
	    results/tables/dose_response_arms.csv tests/fixtures/sensitivity_tests_inputs.csv
	$(RSCRIPT) tests/metafor/make_permutation_fixtures.R tests/fixtures/sensitivity_tests_inputs.csv \
	    tests/fixtures/metafor_permutation.csv
	$(RSCRIPT) tests/metafor/make_sensitivity_tests_fixtures.R tests/fixtures/sensitivity_tests_inputs.csv \
	    tests/fixtures/metafor_sensitivity_tests.csv
	$(RSCRIPT) tests/metafor/make_hettest_fixtures.R tests/fixtures/sensitivity_tests_inputs.csv tests/fixtures
	$(BIN)/python tests/metafor/make_workflow_inputs.py results/tables/included.csv tests/fixtures/workflow_included.csv
	$(RSCRIPT) tests/metafor/make_workflow_fixtures.R tests/fixtures/workflow_included.csv tests/fixtures

bench: $(VENV)/.installed
	$(BIN)/python bench/run_benchmarks.py
	$(BIN)/python bench/permutest_bench.py
	$(BIN)/python bench/workflow_bench.py
	$(BIN)/python bench/speed_checks.py
	$(BIN)/python bench/robustness_bench.py
	$(BIN)/python bench/scaling_bench.py

clean:
	rm -rf results .snakemake
