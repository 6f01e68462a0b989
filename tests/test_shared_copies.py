"""The repository keeps copies of the team's shared example schemas so its tests run anywhere;
where the shared folder is present, the copies must equal it."""

from __future__ import annotations

import pytest

from tests.harness.golden import SHARED_COPIES, shared_dir


def test_copies_match_the_shared_examples() -> None:
    originals = shared_dir() / "schemas"
    if not originals.is_dir():
        pytest.skip(f"{originals} is not here to compare with")
    names = sorted(p.name for p in originals.glob("*.prisma"))
    assert names == sorted(p.name for p in SHARED_COPIES.glob("*.prisma"))
    for name in names:
        assert (SHARED_COPIES / name).read_bytes() == (originals / name).read_bytes(), name
