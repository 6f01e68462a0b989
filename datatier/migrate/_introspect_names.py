"""Names for a pulled schema: database names made into schema identifiers, relation field names.

A table, column, enum or enum value whose database name is not a valid schema
identifier gets a sanitized name and keeps its database name with
``@map``/``@@map``; relation fields are named after the model they point to.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

from datatier.schema._catalog_rules import RESERVED_MODEL_NAMES

__all__ = ["NameScope", "camel", "claim_all", "claim_names", "model_name", "plural", "sanitize"]


def sanitize(name: str) -> str:
    """``name`` as a schema identifier: a letter first, then letters, digits and ``_``.

    Characters that cannot appear become ``_`` (runs of them one ``_``); a name that
    does not start with a letter gets a leading letter from what follows, or the prefix ``n``.
    """
    text = re.sub(r"[^\w]+", "_", name, flags=re.UNICODE)
    text = text.strip("_") or "n"
    if not text[0].isalpha():
        text = "n" + text if text[0].isdigit() else "n_" + text
    # Digits beyond ASCII are not identifier characters in the schema language.
    return "".join(c if c.isascii() or c.isalpha() else "_" for c in text)


def model_name(table: str) -> str:
    """The model name of a table: the table name, sanitized; reserved names get a suffix."""
    name = sanitize(table)
    return name + "_" if name in RESERVED_MODEL_NAMES else name


def camel(name: str) -> str:
    """``Order_item`` -> ``order_item``, ``OrderItem`` -> ``orderItem``: lower first letter only."""
    return name[:1].lower() + name[1:]


def plural(word: str) -> str:
    """English plural of an identifier's last word (``category`` -> ``categories``)."""
    lower = word.lower()
    if lower.endswith("s") and not lower.endswith("ss"):
        return word  # already a plural, as table names often are (`users`)
    if re.search(r"(s|x|z|ch|sh)$", lower):
        return word + "es"
    if re.search(r"[^aeiou]y$", lower):
        return word[:-1] + "ies"
    return word + "s"


class NameScope:
    """The names already taken in one block; ``claim`` hands out a free one."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = set(taken)

    def claim(self, wanted: str, fallback: str | None = None) -> str:
        """``wanted`` if free, else ``fallback`` if given and free, else ``wanted`` with a number."""
        for candidate in (wanted, fallback):
            if candidate is not None and candidate not in self._taken:
                self._taken.add(candidate)
                return candidate
        base = fallback or wanted
        n = 2
        while f"{base}{n}" in self._taken:
            n += 1
        self._taken.add(f"{base}{n}")
        return f"{base}{n}"


K = TypeVar("K", bound=Hashable)


def claim_all(
    scope: NameScope,
    keys: Sequence[K],
    make: Callable[[K], str],
    spelled: Callable[[K], str],
    hinted: Mapping[K, str] | None = None,
) -> dict[K, str]:
    """Schema names for database objects: names an existing schema gives first, then valid ones.

    So a column ``a_b`` stays ``a_b`` and a column ``a-b`` beside it becomes ``a_b2``
    (with ``@map``), never the other way round. ``make`` gives a key's wanted name,
    ``spelled`` its database name, ``hinted`` the names an existing schema uses.
    """
    hinted = hinted or {}
    claimed = {key: scope.claim(hinted[key]) for key in keys if key in hinted}
    made = {key: make(key) for key in keys}
    claimed.update(
        {
            key: scope.claim(made[key])
            for key in keys
            if key not in claimed and made[key] == spelled(key)
        }
    )
    claimed.update({key: scope.claim(made[key]) for key in keys if key not in claimed})
    return {key: claimed[key] for key in keys}


def claim_names(
    scope: NameScope, names: Sequence[str], hinted: Mapping[str, str] | None = None
) -> dict[str, str]:
    """:func:`claim_all` for plain database names (columns, enum values)."""
    return claim_all(scope, names, sanitize, str, hinted)
