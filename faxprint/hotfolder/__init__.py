"""The hot folder: files dropped into a watched folder are faxed (``faxprint watch``)."""
