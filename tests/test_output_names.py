"""Output names that do not depend on config (issue 26): Snakemake compares a job's params, input set
and code with the last run's only when every output has metadata. A figure named after a config value
(dose_response_LC_24m.png from dose_response.timepoint_months) was a new output after a change of that
value, so `snakemake -n results/tables/dose_response.csv` said "Nothing to be done". Such figures go
into folder outputs (``cell_figures``). So do the figures once named by ``figures.formats`` (risk of bias,
weighted risk of bias, leave-one-out, flow diagram: issue 23 item 5): after a change of formats a table of
their rules asked for by name was checked for changed params only once a run had made the new format's
files. Now no output name holds a config value: the formats are in the drawing rules' params only."""

import re
from pathlib import Path

RULES = Path(__file__).resolve().parents[1] / "workflow" / "rules"
# f-string fields an output name may hold: a fixed list's item (name, of report.smk's HTML_TABLES), the report's
# format (of a folder's pattern, not a file name)
ALLOWED_FIELDS = {"name", "report_format()"}


def output_sections(text: str) -> list[str]:
    """The text of every ``output:`` section of a rules file."""
    sections, current = [], None
    for line in text.splitlines():
        if re.fullmatch(r"    output:\s*", line):
            current = []
            sections.append(current)
        elif current is not None and (re.match(r"    \S", line) or re.match(r"\S", line)):
            current = None
        elif current is not None:
            current.append(line)
    return ["\n".join(s) for s in sections]


def fields_of(section: str) -> set[str]:
    """The fields ``{...}`` of the f-strings of a section (not the wildcards ``{{...}}``)."""
    return set(re.findall(r"(?<!\{)\{([^{}]+)\}(?!\})", " ".join(re.findall(r'f"[^"]*"', section))))


def test_output_sections_are_found():
    sections = output_sections((RULES / "dose.smk").read_text(encoding="utf-8"))
    assert sections and 'table="results/tables/dose_response.csv"' in sections[0]


def test_no_output_name_is_built_from_config():
    for path in sorted(RULES.glob("*.smk")):
        for section in output_sections(path.read_text(encoding="utf-8")):
            uses = re.findall(r"config\[[^\n]*?\](?:\[[^\n]*?\])*", section)
            assert uses == [], (path.name, uses)
            assert fields_of(section) <= ALLOWED_FIELDS, (path.name, fields_of(section))


def test_the_old_dose_response_figure_name_is_caught():
    old = """    output:
        table="results/tables/dose_response.csv",
        figures=reported(
            [f"results/figures/dose_response_{DOSE_STEM}.{ext}" for ext in config["figures"]["formats"]],
        ),
    log:
"""
    (section,) = output_sections(old)
    assert fields_of(section) - ALLOWED_FIELDS == {"DOSE_STEM", "ext"}


def test_a_figure_named_by_formats_is_caught():
    """The old flow-diagram output: a file per format of figures.formats."""
    old = """    output:
        reported(
            [f"results/figures/flow_diagram.{ext}" for ext in config["figures"]["formats"]],
        ),
    log:
"""
    (section,) = output_sections(old)
    assert re.findall(r"config\[[^\n]*?\](?:\[[^\n]*?\])*", section) == ['config["figures"]["formats"]']
    assert fields_of(section) - ALLOWED_FIELDS == {"ext"}
