"""Addressing a fax from any program: codes written in the document, and contacts.

``fonts`` reads what a PDF font's codes show (also CUPS's text-job fonts, which carry no
``/ToUnicode`` map), ``pagetext`` walks a page's content glyph by glyph, ``codes`` finds
the RightFax, Zetafax and pascom codes in that text, ``erase`` takes them out of the
page, and ``sections`` cuts a job into one fax per recipient section (mail merge).
``contacts`` resolves names through the address book, which ``cardfile`` fills from vCard
and CSV files.
"""
