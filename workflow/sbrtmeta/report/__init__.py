"""Report: the Markdown writers: ``summary.md`` and its sections, ``methods.md`` and the PRISMA
checklist, written from the result tables and the config (no estimate computed here)."""
