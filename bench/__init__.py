"""faxprint's benchmarks against the simplest alternatives: ``python -m bench``."""
