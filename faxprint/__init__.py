"""faxprint: a print-to-fax gateway for CUPS print servers and hot folders."""

from __future__ import annotations

__version__ = "0.1.0"
