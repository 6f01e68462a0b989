"""The public API is what ``datatier.__all__`` names; everything it names exists and is exported."""

from __future__ import annotations

import datatier
import datatier.errors
import datatier.schema


def test_all_names_exist() -> None:
    for module in (datatier, datatier.schema, datatier.errors):
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert missing == [], module.__name__


def test_every_public_error_is_exported_at_the_top() -> None:
    errors = {
        name
        for name in datatier.errors.__all__
        if isinstance(getattr(datatier.errors, name), type)
        and issubclass(getattr(datatier.errors, name), Exception)
    }
    assert errors <= set(datatier.__all__)


def test_every_error_has_a_stable_code() -> None:
    codes: dict[str, str] = {}
    for name in datatier.errors.__all__:
        value = getattr(datatier.errors, name)
        if isinstance(value, type) and issubclass(value, datatier.errors.DatatierError):
            assert value.code and value.code == value.code.lower(), name
            codes.setdefault(value.code, name)
    assert len(codes) == len(
        [
            n
            for n in datatier.errors.__all__
            if isinstance(getattr(datatier.errors, n), type)
            and issubclass(getattr(datatier.errors, n), datatier.errors.DatatierError)
        ]
    )


def test_top_level_exports_are_sorted_and_unique() -> None:
    assert list(datatier.__all__) == sorted(set(datatier.__all__))
