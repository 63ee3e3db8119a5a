"""CUPS specifics: argv, option quoting, exit statuses, PPD."""
