"""``results/report/report.docx``: the report a co-author or a journal opens in Word, built with
python-docx from the same tables and texts as summary.md: the headline table
(:func:`sbrtmeta.report.headline.headline_table`), the summary of findings
(:func:`sbrtmeta.report.certainty_section.summary_of_findings_table`), methods.md, the figures with
captions, the included studies and the per-study exclusions (:mod:`sbrtmeta.report.study_lists`)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

import docx
import pandas as pd
from docx.enum.section import WD_ORIENT
from docx.shared import Cm, Pt

from sbrtmeta.plots.labels import level_text

TABLE_FONT = Pt(8)
FIGURE_WIDTH = Cm(20)
FIGURE_MAX_HEIGHT = Cm(14)  # a landscape page less its margins and the caption
# What each kind of figure shows (the captions of workflow/report/*.rst, in a sentence), by file-name prefix.
FIGURE_NOTES = {
    "flow_diagram": "Rows and studies extracted, excluded by the first criterion they failed, and included per site.",
    "forest_": "Each study's rate with its {level} CI and weight; per site the pooled rate, its {level} CI and "
    "prediction interval.",
    "funnel_": "Each study's rate against its sample size, per site, with the pooled rate; small-study tests in the "
    "panel.",
    "dose_response": "Each arm's rate against its BED10 (bubble area: sample size) with the fitted dose-response "
    "curve and its confidence band.",
    "curve_": "The pooled curve over time with its confidence band, and the per-time-point pooled rates.",
}
INLINE = re.compile(r"(\*\*[^*]+\*\*|`[^`]+`)")  # bold and code spans of the Markdown writers


@dataclass
class DocxTable:
    """A table of the docx: its caption, its text (one column per header), and the notes printed under it."""

    caption: str
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)


@dataclass
class DocxFigure:
    """A figure of the docx: its caption and its PNG (other formats cannot be embedded: ``path`` None)."""

    caption: str
    path: str | None


def _runs(paragraph, text: str) -> None:
    """``text`` into ``paragraph``, its ``**bold**`` spans bold and ```code``` spans in a fixed-width font."""
    for part in INLINE.split(text):
        if part.startswith("**") and part.endswith("**") and len(part) > 4:
            paragraph.add_run(part[2:-2]).bold = True
        elif part.startswith("`") and part.endswith("`") and len(part) > 2:
            paragraph.add_run(part[1:-1]).font.name = "Courier New"
        elif part:
            paragraph.add_run(part)


def add_markdown(document, text: str, shift: int = 1) -> None:
    """The Markdown the report's writers print (headings, paragraphs, ``- `` lists, pipe tables, bold, code)
    into ``document``, headings ``shift`` levels down (methods.md's title becomes a section)."""
    lines, table = text.splitlines(), []
    for i, line in enumerate([*lines, ""]):
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in table if row[:2] != "|-"]
            add_table(document, DocxTable("", pd.DataFrame(cells[1:], columns=cells[0])))
            table = []
        heading = re.match(r"(#+) (.*)", line)
        if heading:
            document.add_heading(heading.group(2), level=min(len(heading.group(1)) - 1 + shift, 9))
        elif line.startswith("- "):
            _runs(document.add_paragraph(style="List Bullet"), line[2:])
        elif line.strip() and i < len(lines):
            _runs(document.add_paragraph(), line)


def add_table(document, table: DocxTable) -> None:
    """A caption, then the table (a header row and one row per row of the frame, small type), then its notes."""
    if table.caption:
        document.add_paragraph(table.caption, style="Caption")
    grid = document.add_table(rows=1, cols=len(table.frame.columns), style="Table Grid")
    for cell, name in zip(grid.rows[0].cells, table.frame.columns, strict=True):
        cell.text = str(name)
        cell.paragraphs[0].runs[0].bold = True
    for row in table.frame.itertuples(index=False):
        for cell, value in zip(grid.add_row().cells, row, strict=True):
            cell.text = "" if value is None else str(value)
    for row in grid.rows:
        for cell in row.cells:
            for run in (run for p in cell.paragraphs for run in p.runs):
                run.font.size = TABLE_FONT
    for note in table.notes:
        document.add_paragraph(note).runs[0].font.size = TABLE_FONT


def add_figure(document, figure: DocxFigure) -> None:
    """The PNG at the text width (scaled down to fit the page's height), its caption under it; a figure
    without a PNG is named with the reason."""
    if figure.path is None:
        document.add_paragraph(f"{figure.caption} (not embedded: no PNG made; config figures.formats).")
        return
    shape = document.add_picture(figure.path, width=FIGURE_WIDTH)
    if shape.height > FIGURE_MAX_HEIGHT:
        shape.width = int(shape.width * FIGURE_MAX_HEIGHT / shape.height)
        shape.height = FIGURE_MAX_HEIGHT
    document.add_paragraph(figure.caption, style="Caption")


def _landscape(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))


def docx_figures(figures: list[tuple[str, str]], level: float = 0.95) -> list[DocxFigure]:
    """The figures of ``figures`` (``[(title, path)]``, :func:`sbrtmeta.report.summary.figure_list`) whose kind
    is in :data:`FIGURE_NOTES`, numbered, each caption its title and what it shows (intervals at ``level``)."""
    out = []
    for title, path in figures:
        stem = path.replace("\\", "/").rpartition("/")[2]
        note = next((text for prefix, text in FIGURE_NOTES.items() if stem.startswith(prefix)), None)
        if note is not None:
            caption = f"Figure {len(out) + 1}. {title}. {note.format(level=level_text(level))}"
            out.append(DocxFigure(caption, path if path.endswith(".png") else None))
    return out


def without_empty_funnels(figures: list[tuple[str, str]], pooled: pd.DataFrame) -> tuple[list, list[str]]:
    """``figures`` less the funnel plots of an endpoint × time point with no cell of two or more studies (the
    funnel step draws a message there, not a plot), and a sentence naming those left out."""
    pooled_cells = {(r.endpoint, float(r.timepoint_months)) for r in pooled.itertuples(index=False) if r.k >= 2}
    kept, left_out = [], []
    for title, path in figures:
        cell = re.fullmatch(r"funnel_(\w+?)_(\d+(?:\.\d+)?)m\.\w+", path.replace("\\", "/").rpartition("/")[2])
        if cell and (cell.group(1), float(cell.group(2))) not in pooled_cells:
            left_out.append(title.partition(": ")[2] or title)
        else:
            kept.append((title, path))
    note = [f"No funnel plot for {', '.join(left_out)}: no cell there has two or more studies."] if left_out else []
    return kept, note


def write_docx(
    path: str,
    title: str,
    intro: list[str],
    sections: list[tuple[str, list]],
) -> None:
    """The document at ``path``: ``title``, the paragraphs of ``intro``, then each ``(heading, items)`` section,
    whose items are :class:`DocxTable`, :class:`DocxFigure` or Markdown text. Landscape A4-like pages, so
    the wide tables keep readable columns."""
    document = docx.Document()
    _landscape(document)
    document.core_properties.title = title
    document.add_heading(title, level=0)
    for text in intro:
        _runs(document.add_paragraph(), text)
    for heading, items in sections:
        document.add_heading(heading, level=1)
        for item in items:
            if isinstance(item, DocxTable):
                add_table(document, item)
            elif isinstance(item, DocxFigure):
                add_figure(document, item)
            else:
                add_markdown(document, str(item))
    buffer = io.BytesIO()
    document.save(buffer)
    with open(path, "wb") as out:
        out.write(_without_times(buffer.getvalue()))


ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def _without_times(package: bytes) -> bytes:
    """The .docx (a zip) with every entry stamped :data:`ZIP_EPOCH` instead of the time of the run, so that two
    runs of the same results write the same bytes (python-docx's own core properties carry a fixed date)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            stamped = zipfile.ZipInfo(entry.filename, date_time=ZIP_EPOCH)
            stamped.compress_type, stamped.external_attr = entry.compress_type, entry.external_attr
            target.writestr(stamped, source.read(entry))
    return out.getvalue()


def docx_tables(path: str) -> list[pd.DataFrame]:
    """Every table of the docx at ``path`` as text (first row the header): what a test compares with the CSVs."""
    out = []
    for table in docx.Document(path).tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        out.append(pd.DataFrame(rows[1:], columns=rows[0]))
    return out
