"""The GraphQL names of a model's root fields: ``user``, ``users``, ``usersCount``, ``createUser``.

Plurals follow English rules on the model name's last word; a model whose plural equals its
singular (``News``) gets ``List`` instead (``newsList``).
"""

from __future__ import annotations

import re

__all__ = ["lower_first", "plural", "plural_field", "upper_first"]

_IRREGULAR = {
    "person": "people",
    "man": "men",
    "woman": "women",
    "child": "children",
    "tooth": "teeth",
    "foot": "feet",
    "mouse": "mice",
    "goose": "geese",
    "ox": "oxen",
    "datum": "data",
    "medium": "media",
    "criterion": "criteria",
    "phenomenon": "phenomena",
    "analysis": "analyses",
    "index": "indices",
    "matrix": "matrices",
    "vertex": "vertices",
    "leaf": "leaves",
    "life": "lives",
    "knife": "knives",
    "wife": "wives",
    "half": "halves",
    "shelf": "shelves",
    "wolf": "wolves",
    "quiz": "quizzes",
}
_UNCOUNTABLE = frozenset(
    (
        "news",
        "data",
        "information",
        "equipment",
        "series",
        "species",
        "sheep",
        "fish",
        "deer",
        "money",
        "rice",
        "metadata",
        "feedback",
        "software",
        "hardware",
        "staff",
        "media",
        "settings",
        "analytics",
    )
)
_LAST_WORD = re.compile(r"([A-Z]?[a-z0-9]+|[A-Z]+(?![a-z]))$")


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def upper_first(name: str) -> str:
    return name[:1].upper() + name[1:]


def plural(word: str) -> str:
    """The English plural of ``word`` (only its last word changes: ``OrderItem`` -> ``OrderItems``)."""
    match = _LAST_WORD.search(word)
    if match is None:
        return word
    head, last = word[: match.start()], match.group()
    lower = last.lower()
    if lower in _UNCOUNTABLE or lower.endswith("news"):
        return word
    if lower in _IRREGULAR:
        replaced = _IRREGULAR[lower]
        return head + (last[0] + replaced[1:] if last[0].isupper() else replaced)
    if re.search(r"(s|x|z|ch|sh)$", lower):
        return word + "es"
    if re.search(r"[^aeiou]y$", lower):
        return word[:-1] + "ies"
    return word + "s"


def plural_field(model: str) -> str:
    """The list query's name: ``users`` for ``User``, ``newsList`` for ``News``."""
    singular = lower_first(model)
    many = lower_first(plural(model))
    return singular + "List" if many == singular else many
