"""Typing tests of the generated client: checked by mypy and pyright (tests/test_codegen_typing.py)."""
