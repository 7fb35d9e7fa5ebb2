"""Report: the Markdown summary written from the result tables, and the step runner
(logging, one-line input errors, deterministic CSV writing) that every workflow script uses.
"""
