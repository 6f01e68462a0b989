"""Migration folders on disk, laid out as Prisma lays them out, and their checksums.

``<schema dir>/migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql`` is the up
script Prisma Migrate also reads; datatier adds ``down.sql`` (the rollback)
and an optional ``data.py`` (``up(db)``/``down(db)``) beside it, which Prisma
ignores. ``migration_lock.toml`` names the provider the history was written for.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from datatier.errors import DatatierError

__all__ = [
    "DATA_FILE",
    "DOWN_FILE",
    "LOCK_FILE",
    "UP_FILE",
    "MigrationFolder",
    "canonical_provider",
    "check_lock",
    "checksum",
    "matches_checksum",
    "migrations_dir",
    "read_lock",
    "read_migrations",
    "render_lock",
    "write_lock",
    "write_migration",
]

UP_FILE = "migration.sql"
DOWN_FILE = "down.sql"
DATA_FILE = "data.py"
LOCK_FILE = "migration_lock.toml"
_TIMESTAMP = "%Y%m%d%H%M%S"
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_]+")
_LOCK_PROVIDER = re.compile(r'^\s*provider\s*=\s*"([^"]*)"\s*$', re.MULTILINE)
_MAX_NAME = 200  # Prisma truncates migration names to this many characters


@dataclass(frozen=True)
class MigrationFolder:
    """One migration folder: its name (the folder's), the up script, and what may sit beside it."""

    name: str
    path: Path
    up_sql: str
    checksum: str
    down_sql: str | None
    has_data: bool

    @property
    def data_path(self) -> Path:
        return self.path / DATA_FILE


def migrations_dir(schema_path: Path) -> Path:
    """The ``migrations`` folder of a schema: beside the file, or inside a folder of ``.prisma`` files."""
    return (schema_path if schema_path.is_dir() else schema_path.parent) / "migrations"


def checksum(script: bytes) -> str:
    """Prisma's checksum of a ``migration.sql``: the SHA-256 of its bytes, lowercase hex."""
    return hashlib.sha256(script).hexdigest()


def matches_checksum(script: bytes, recorded: str) -> bool:
    """Whether ``script`` is the one ``recorded`` was taken of, up to its line endings (as Prisma judges it)."""
    if checksum(script) == recorded:
        return True
    lf = script.replace(b"\r\n", b"\n")
    return recorded in (checksum(lf), checksum(lf.replace(b"\n", b"\r\n")))


def read_migrations(directory: Path) -> list[MigrationFolder]:
    """Every migration folder under ``directory``, oldest first (by name); none when it does not exist.

    A folder without ``migration.sql`` is an error that names it: Prisma refuses such a history too.
    """
    if not directory.is_dir():
        return []
    folders = []
    for path in sorted(p for p in directory.iterdir() if p.is_dir()):
        if path.name.startswith((".", "_")):
            continue
        up = path / UP_FILE
        if not up.is_file():
            raise DatatierError(
                f"{path}: a migration folder must hold {UP_FILE}; add it, or remove the folder"
            )
        raw = up.read_bytes()
        down = path / DOWN_FILE
        folders.append(
            MigrationFolder(
                name=path.name,
                path=path,
                up_sql=_decode(raw, up),
                checksum=checksum(raw),
                down_sql=_decode(down.read_bytes(), down) if down.is_file() else None,
                has_data=(path / DATA_FILE).is_file(),
            )
        )
    return folders


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DatatierError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def write_migration(
    directory: Path,
    name: str,
    up_sql: str,
    down_sql: str,
    *,
    now: datetime | None = None,
) -> MigrationFolder:
    """Write ``<directory>/<timestamp>_<name>/`` with ``migration.sql`` and ``down.sql``.

    The timestamp is UTC (``now`` for tests); it moves on by a second while a
    folder of that name exists, so migrations keep their order.
    """
    slug = _NAME_CHARS.sub("_", name.strip()).strip("_")[:_MAX_NAME]
    if not slug:
        raise DatatierError(
            f"migration name {name!r} has no letters or digits; pass --name with a short description"
        )
    stamp = (now or datetime.now(UTC)).replace(microsecond=0)
    existing = read_migrations(directory)
    latest = existing[-1].name.partition("_")[0] if existing else ""
    while True:
        candidate = f"{stamp.strftime(_TIMESTAMP)}_{slug}"
        if stamp.strftime(_TIMESTAMP) > latest and not (directory / candidate).exists():
            break
        stamp += timedelta(seconds=1)
    path = directory / candidate
    path.mkdir(parents=True)
    (path / UP_FILE).write_bytes(up_sql.encode("utf-8"))
    (path / DOWN_FILE).write_bytes(down_sql.encode("utf-8"))
    raw = up_sql.encode("utf-8")
    return MigrationFolder(candidate, path, up_sql, checksum(raw), down_sql, has_data=False)


def render_lock(provider: str) -> str:
    """``migration_lock.toml`` as Prisma writes it."""
    return (
        "# Please do not edit this file manually\n"
        "# It should be added in your version-control system (e.g., Git)\n"
        f'provider = "{provider}"\n'
    )


def read_lock(directory: Path) -> str | None:
    """The provider ``migration_lock.toml`` names, or None when there is no lock file."""
    path = directory / LOCK_FILE
    if not path.is_file():
        return None
    match = _LOCK_PROVIDER.search(path.read_text(encoding="utf-8"))
    if match is None:
        raise DatatierError(
            f'{path}: no `provider = "..."` line; restore the file from version control '
            "or delete it (the next `migrate dev` writes it again)"
        )
    return match.group(1)


def write_lock(directory: Path, provider: str) -> None:
    """Write ``migration_lock.toml`` unless it already names ``provider``."""
    if read_lock(directory) == provider:
        return
    directory.mkdir(parents=True, exist_ok=True)
    (directory / LOCK_FILE).write_text(render_lock(provider), encoding="utf-8")


def check_lock(directory: Path, provider: str) -> None:
    """Refuse a history written for another provider (Prisma's P3019), naming both."""
    locked = read_lock(directory)
    if locked is not None and canonical_provider(locked) != canonical_provider(provider):
        raise DatatierError(
            f"the migrations in {directory} were written for {locked} ({LOCK_FILE}), "
            f"but the database is {provider}; use a {locked} database, or start a new history "
            f"for {provider} (move the migrations folder away and run `datatier migrate dev`)"
        )


def canonical_provider(provider: str) -> str:
    """``postgres`` spelled as ``postgresql``; other providers unchanged."""
    return "postgresql" if provider == "postgres" else provider
