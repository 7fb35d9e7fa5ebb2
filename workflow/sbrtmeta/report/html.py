"""The HTML report's pages (``snakemake --report report.html``): summary.md, methods.md and the PRISMA checklist
rendered as HTML (markdown-it-py: CommonMark with tables), each main table of results/tables/ as an HTML table of
the CSV's cells as printed, and the landing page's answer (summary.md up to its second section: the title, a
synthetic-data warning if any, the headline table and its sentences), which workflow/report/workflow.rst includes.
The report shows an HTML result inline (in a frame), where it offers a Markdown file only as a download."""

from __future__ import annotations

from html import escape

import pandas as pd
from markdown_it import MarkdownIt

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 14px; line-height: 1.45; margin: 1.2em 2em;
       color: #1f2328; max-width: 1400px; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; margin-top: 1.6em; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1.1em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; } tr:nth-child(even) td { background: #fafafa; }
blockquote { border-left: 4px solid #d97706; background: #fffbeb; margin: 0.8em 0; padding: 0.4em 1em; }
.figure-ref { color: #57606a; font-style: italic; }
td.short, th { white-space: nowrap; } td.long { min-width: 32em; }
"""
# the same look inside the report's landing page, whose own style resets headings, lists and tables; there the
# answer takes the page's width from its top (the report centres a narrow column beside the rule graph, which
# goes below it)
ANSWER_STYLE = """
div.h-screen:has(.sbrt-answer) { align-items: flex-start; justify-content: flex-start; }
div.h-screen:has(.sbrt-answer) > div { flex-wrap: wrap; }
div:has(> .prose .sbrt-answer) { flex: 1 1 100%; }
.prose:has(.sbrt-answer) { max-width: 100%; }
.sbrt-answer table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; }
.sbrt-answer th, .sbrt-answer td { border: 1px solid #d0d7de; padding: 3px 7px; text-align: left; }
.sbrt-answer th { background: #f3f4f6; font-weight: 600; }
.sbrt-answer h1 { font-size: 1.5em; font-weight: 600; margin: 0.6em 0; }
.sbrt-answer h2 { font-size: 1.25em; font-weight: 600; margin: 0.9em 0 0.4em; }
.sbrt-answer p { margin: 0.5em 0; }
.sbrt-answer ul { list-style: disc; padding-left: 1.5em; margin: 0.5em 0; }
.sbrt-answer blockquote { border-left: 4px solid #d97706; background: #fffbeb; margin: 0.8em 0; padding: 0.4em 1em; }
"""


def _figure_as_words(self, tokens, idx, options, env) -> str:
    """An image of the Markdown (a figure) as its title and file: the report shows every figure under its kind."""
    token = tokens[idx]
    title = self.renderInlineAsText(token.children or [], options, env)
    path = str(token.attrGet("src") or "").removeprefix("../")
    return (
        f'<span class="figure-ref">{escape(title)}: in this report under its kind (file results/{escape(path)})</span>'
    )


def _figure_link_open(self, tokens, idx, options, env) -> str:
    """A link to a figure file (``../figures/...``, which the report does not hold at that path) as words."""
    href = str(tokens[idx].attrGet("href") or "")
    is_figure = href.startswith("../figures/")
    env.setdefault("figure_links", []).append(is_figure)
    if is_figure:
        return f'<span class="figure-ref" title="results/{escape(href.removeprefix("../"))}">'
    return self.renderToken(tokens, idx, options, env)


def _figure_link_close(self, tokens, idx, options, env) -> str:
    return "</span>" if env["figure_links"].pop() else self.renderToken(tokens, idx, options, env)


def markdown_html(text: str) -> str:
    """``text`` (Markdown) as an HTML fragment; raw HTML in it is escaped, figures are named (not shown: the
    report shows each under its kind)."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("image", _figure_as_words)
    md.add_render_rule("link_open", _figure_link_open)
    md.add_render_rule("link_close", _figure_link_close)
    return md.render(text, {})


def page(title: str, body: str) -> str:
    """A standalone HTML page (UTF-8, the report's style) around ``body``."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def markdown_page(text: str, title: str) -> str:
    """A Markdown file (summary.md, methods.md, the PRISMA checklist) as an HTML page."""
    return page(title, markdown_html(text))


LONG = 60  # characters from which a column's cells wrap (the others stay on one line: a row per line)


def _table_html(frame: pd.DataFrame) -> str:
    """``frame`` as an HTML table, cells as text; a column with a cell of :data:`LONG` characters or more wraps
    in a wide cell, the others keep their cells on one line."""
    cells = frame.astype(str)
    long = {c for c in cells if cells[c].str.len().max() >= LONG} if len(cells) else set()
    head = "".join(f"<th>{escape(str(c))}</th>" for c in cells)
    rows = "".join(
        "<tr>"
        + "".join(f'<td class="{"long" if c in long else "short"}">{escape(v)}</td>' for c, v in zip(cells, row))
        + "</tr>\n"
        for row in cells.itertuples(index=False)
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>"


def table_page(frame: pd.DataFrame, title: str, note: str = "") -> str:
    """A result table as an HTML page: every cell as the CSV prints it (read the CSV as text)."""
    table = _table_html(frame)
    intro = f"<h1>{escape(title)}</h1>\n" + (f"<p>{escape(note)}</p>\n" if note else "")
    return page(title, intro + table + "\n")


def answer_markdown(summary: str) -> str:
    """summary.md up to its second section: the title, any warning, and the answer (the headline table and its
    sentences)."""
    lines, sections = [], 0
    for line in summary.splitlines():
        sections += line.startswith("## ")
        if sections > 1:
            break
        lines.append(line)
    return "\n".join(lines).rstrip() + "\n"


def answer_fragment(summary: str) -> str:
    """:func:`answer_markdown` as an HTML fragment with its own style, for the report's landing page (docutils'
    ``raw`` directive includes it in workflow/report/workflow.rst)."""
    body = markdown_html(answer_markdown(summary))
    return f'<style>{ANSWER_STYLE}</style>\n<div class="sbrt-answer">\n{body}</div>\n'
