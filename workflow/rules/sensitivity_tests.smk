# Permutation tests, CR2 cluster-robust tests, likelihood-ratio tests and heterogeneity by
# site (issue 12, items 6-9): one job for both tables.


rule sensitivity_tests:
    """Permutation, CR2 and likelihood-ratio tests of the site difference and the dose slope; tau2 by site."""
    input:
        studies=rules.pool.output.studies,
        arms=rules.dose_response.output.arms,
        dose=rules.dose_response.output.table,
        code=code_of("../scripts/sensitivity_tests.py"),
    output:
        tests="results/tables/sensitivity_tests.csv",
        heterogeneity="results/tables/heterogeneity_by_site.csv",
    log:
        "results/logs/sensitivity_tests.log",
    benchmark:
        "results/benchmarks/sensitivity_tests.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        pooling=config["pooling"],
        dose=config["dose_response"],
        sensitivity=config["sensitivity"],
    script:
        "../scripts/sensitivity_tests.py"
