"""Data: the extraction sheets and what is read from them.

Schemas of the printed and tidy sheets, the controlled vocabulary, the readers of CSV and
xlsx files, the parsers of printed cells (counts, rates, follow-up) and dose strings, the
cleanup that applies the corrections ledger, and the inclusion criteria. Every bad cell
becomes an :class:`~sbrtmeta.data.errors.InputError` naming file, row, column and value.
Nothing here fits a model or imports another layer of the package.
"""
