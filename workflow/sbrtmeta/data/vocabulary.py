"""The controlled words of the data: sites, endpoints, designs, primaries."""

SITES = ("liver", "lung", "lymph node", "pelvic recurrence", "spine", "adrenal", "multiple")
ENDPOINTS = ("LC", "OS")
BASES = ("actuarial", "crude")
GROUPINGS = ("all", "dose arm", "histology subgroup")
PRIMARIES = ("crc", "sarcoma", "mixed", "other", "unspecified")
# The histology of a row's patients: a study of one primary, or mixed primaries.
HISTOLOGIES = ("colorectal", "sarcoma", "mixed")
PRIMARY_HISTOLOGY = {"crc": "colorectal", "sarcoma": "sarcoma"}

# Printed study-design labels → the design words used in config.
DESIGNS = {
    "retro": "retrospective",
    "p i": "phase I",
    "p ii": "phase II",
    "p i/ii": "phase I/II",
    "": "not reported",
}
DESIGN_WORDS = tuple(sorted(set(DESIGNS.values())))

# The printed outcome column of each endpoint in a raw extraction sheet.
ENDPOINT_COLUMNS = {"LC": "lc_printed", "OS": "os_printed"}

# The judgement of a risk-of-bias item or study the reviewers did not assess (sbrtmeta.data.risk_of_bias).
NOT_ASSESSED = "not assessed"
