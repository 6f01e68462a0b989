"""Runnable examples of datatier (a package, so tests and config can import them by module name)."""
