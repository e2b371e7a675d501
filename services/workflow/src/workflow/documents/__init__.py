"""The studio's printed documents: an invoice and its image detail sheet as PDF.

HTML templates (Jinja2) rendered to PDF by WeasyPrint. A document is made from its record
alone (the invoice, its payments, its session, the images' previews and the studio's
settings), with the PDF's dates taken from the record, so the same record always gives the same
bytes; each document made is recorded with its SHA-256 (`documents` collection), so a PDF sent
to a client can be proved to be the studio's later.
"""
