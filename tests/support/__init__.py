"""Helpers the tests load as modules or plugins (the recorder backend is a script)."""
