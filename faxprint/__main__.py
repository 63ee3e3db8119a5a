"""Run the command line: ``python -m faxprint``."""

from __future__ import annotations

import sys

from faxprint.cli import main

sys.exit(main())
