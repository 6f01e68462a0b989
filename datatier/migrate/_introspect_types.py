"""Column types and defaults read back into the schema language, per database.

A :class:`ColumnReader` turns one catalog column into the field type a schema
would declare for it (scalar, enum or ``Unsupported``, a list or not, with a
``@db.*`` native type only where it differs from the scalar's default) and its
default into the text of a ``@default(...)`` argument. Databases differ by
subclass. Pure: no I/O.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from datatier.migrate._catalog import Catalog, Column, Table
from datatier.schema._ir import ScalarType

__all__ = [
    "ColumnReader",
    "EnumNames",
    "FieldType",
    "PostgresColumns",
    "SqliteColumns",
    "column_reader",
    "column_reader_class",
    "string_literal",
]


# (database schema, enum name) -> (enum name in the schema, {label: value name})
EnumNames = dict[tuple[str, str], tuple[str, dict[str, str]]]


@dataclass(frozen=True)
class FieldType:
    """What a column reads as: ``type`` is a scalar or enum name, or the text of ``Unsupported``."""

    type: str
    kind: str  # "scalar", "enum" or "unsupported"
    native: str | None = None  # "VarChar(255)", without the "@db."
    is_list: bool = False
    enum_key: tuple[str, str] | None = None  # an enum's (database schema, name)

    @property
    def scalar(self) -> ScalarType | None:
        return ScalarType(self.type) if self.kind == "scalar" else None

    def render(self, optional: bool) -> str:
        """The type as a field declares it: ``String?``, ``Int[]``, ``Unsupported("x")``."""
        base = (
            f"Unsupported({string_literal(self.type)})" if self.kind == "unsupported" else self.type
        )
        if self.is_list:
            return base + "[]"
        return base + ("?" if optional else "")


def string_literal(text: str) -> str:
    """A schema string literal (JSON's escapes are the schema language's)."""
    return json.dumps(text, ensure_ascii=False)


def _db_generated(expression: str) -> str:
    return f"dbgenerated({string_literal(expression)})"


def _unquote_sql(text: str) -> str | None:
    """The value of a whole SQL string literal ``'it''s'``; None if ``text`` is not one."""
    match = re.fullmatch(r"'((?:[^']|'')*)'", text)
    return match[1].replace("''", "'") if match else None


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class ColumnReader:
    """A database's column types and defaults as schema text; ``enum_names`` maps enum db names."""

    provider: ClassVar[str]
    has_enum_types: ClassVar[bool] = False  # enums live in the database, not only in the schema

    def __init__(self, catalogs: Mapping[str, Catalog], enum_names: EnumNames) -> None:
        self.catalogs = catalogs
        self.enum_names = enum_names

    def field_type(self, column: Column, db_schema: str) -> FieldType:
        """The type of ``column`` of a table in ``db_schema``."""
        raise NotImplementedError

    def is_autoincrement(self, db_schema: str, table: Table, column: Column) -> bool:
        raise NotImplementedError

    def nullable(self, table: Table, column: Column) -> bool:
        """Whether the column can hold NULL (the field is optional)."""
        return column.nullable

    def implied(self, column: Column, default: str) -> bool:
        """Whether the database would have ``default`` even where a schema does not write it."""
        return False

    def untraced_autoincrement(self, table: Table, column: Column) -> bool:
        """Whether ``autoincrement()`` on this column would leave no trace in the database."""
        return False

    def predicate(self, text: str) -> str:
        """A partial index's predicate as a schema would write it."""
        return text

    def default(self, db_schema: str, table: Table, column: Column, type_: FieldType) -> str | None:
        """The argument of ``@default(...)`` for ``column``, or None when it has no default."""
        if self.is_autoincrement(db_schema, table, column):
            return "autoincrement()"
        text = column.default
        if text is None:
            return None
        if type_.is_list:
            items = self.list_items(text)
            if items is None:
                return _db_generated(text)
            values = [self.literal(item, type_) for item in items]
            if any(v is None for v in values):
                return _db_generated(text)
            return "[" + ", ".join(v for v in values if v is not None) + "]"
        if type_.scalar is ScalarType.DATETIME and self.is_now(text):
            return "now()"
        value = self.literal(text, type_)
        return value if value is not None else _db_generated(text)

    def is_now(self, text: str) -> bool:
        return text.upper() in ("CURRENT_TIMESTAMP", "NOW()")

    def list_items(self, text: str) -> list[str] | None:
        return None

    def strip_cast(self, text: str) -> str:
        return text

    def peel(self, text: str) -> str:
        """A value without the parentheses and casts around it: ``(-1)::integer`` -> ``-1``."""
        while True:
            if _enclosed(text, "(", ")"):
                text = text[1:-1].strip()
                continue
            stripped = self.strip_cast(text)
            if stripped == text:
                return text
            text = stripped

    def literal(self, text: str, type_: FieldType) -> str | None:
        """One default value as a schema literal of ``type_``; None when it is not a plain value."""
        text = self.peel(text.strip())
        quoted = _unquote_sql(text)
        if type_.kind == "enum":
            if quoted is None:
                return None
            if type_.enum_key is None:
                return None
            return self.enum_names[type_.enum_key][1].get(quoted)
        scalar = type_.scalar
        if scalar is None:
            return None
        if scalar is ScalarType.STRING:
            return string_literal(quoted) if quoted is not None else None
        if scalar is ScalarType.BOOLEAN:
            word = (quoted if quoted is not None else text).lower()
            return {"true": "true", "false": "false", "t": "true", "f": "false"}.get(word)
        if scalar in (ScalarType.INT, ScalarType.BIGINT, ScalarType.FLOAT, ScalarType.DECIMAL):
            number = quoted if quoted is not None else text
            if not _NUMBER.fullmatch(number):
                return None
            if scalar in (ScalarType.INT, ScalarType.BIGINT) and not re.fullmatch(
                r"[+-]?\d+", number
            ):
                return None
            return number.lstrip("+")
        if scalar is ScalarType.DATETIME:
            return self.datetime_literal(quoted) if quoted is not None else None
        if scalar is ScalarType.JSON:
            return self.json_literal(text, quoted)
        if scalar is ScalarType.BYTES:
            return self.bytes_literal(quoted) if quoted is not None else None
        return None

    def datetime_literal(self, text: str) -> str | None:
        # "2020-01-01 10:20:30.123 +00:00", "2020-01-01 10:20:30+02", "2020-01-01"
        compact = re.sub(r"\s+([+-]\d\d(?::?\d\d)?)$", r"\1", text.strip())
        try:
            value = datetime.fromisoformat(compact)
        except ValueError:
            return None
        if value.tzinfo is None:
            iso = value.isoformat() + "Z"
        else:
            iso = value.isoformat().replace("+00:00", "Z")
        return string_literal(iso)

    def json_literal(self, text: str, quoted: str | None) -> str | None:
        value = quoted if quoted is not None else text
        try:
            json.loads(value)
        except ValueError:
            return None
        return string_literal(value)

    def bytes_literal(self, text: str) -> str | None:
        raise NotImplementedError


def _closing(text: str, start: int) -> int:
    """The index of the bracket that closes ``text[start]`` (quotes respected), or -1."""
    opening = text[start]
    closing = {"(": ")", "[": "]"}[opening]
    depth = 0
    quote = False
    for i in range(start, len(text)):
        char = text[i]
        if char == "'":
            quote = not quote
        elif not quote and char == opening:
            depth += 1
        elif not quote and char == closing:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _enclosed(text: str, opening: str, closing: str) -> bool:
    """Whether ``text`` is one bracketed group: ``(a + b)`` yes, ``(a) + (b)`` no."""
    return (
        text.startswith(opening) and text.endswith(closing) and _closing(text, 0) == len(text) - 1
    )


def _array_items(body: str) -> list[str] | None:
    """The items of a PostgreSQL array literal's body (``a,"b,c"``).

    None when an item is NULL or the array has more than one dimension.
    """
    if re.search(r"[{}]", re.sub(r'"(?:[^"\\]|\\.)*"', "", body)):
        return None  # a multi-dimensional array
    items: list[str] = []
    for match in re.finditer(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^,"{}]*))\s*(?:,|$)', body):
        if match.end() == match.start():
            break
        quoted, bare = match[1], match[2]
        if quoted is None and (bare is None or bare.upper() == "NULL"):
            return None
        items.append(re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare.strip())
    return items if "".join(body.split()) else []


def _split_top_level(text: str) -> list[str]:
    """Split ``a, 'b,c', f(d, e)`` at the commas outside quotes and parentheses."""
    items: list[str] = []
    depth = 0
    quote = False
    current = ""
    for char in text:
        if char == "'":
            quote = not quote
        elif not quote and char in "([":
            depth += 1
        elif not quote and char in ")]":
            depth -= 1
        elif not quote and depth == 0 and char == ",":
            items.append(current.strip())
            current = ""
            continue
        current += char
    if current.strip():
        items.append(current.strip())
    return items


# format_type() spellings -> (scalar, native type or None where it is the scalar's default)
_PG_SIMPLE: dict[str, tuple[ScalarType, str | None]] = {
    "text": (ScalarType.STRING, None),
    "uuid": (ScalarType.STRING, "Uuid"),
    "xml": (ScalarType.STRING, "Xml"),
    "citext": (ScalarType.STRING, "Citext"),
    "inet": (ScalarType.STRING, "Inet"),
    "character varying": (ScalarType.STRING, "VarChar"),
    "character": (ScalarType.STRING, "Char"),
    "bit": (ScalarType.STRING, "Bit"),
    "bit varying": (ScalarType.STRING, "VarBit"),
    "boolean": (ScalarType.BOOLEAN, None),
    "integer": (ScalarType.INT, None),
    "smallint": (ScalarType.INT, "SmallInt"),
    "oid": (ScalarType.INT, "Oid"),
    "bigint": (ScalarType.BIGINT, None),
    "double precision": (ScalarType.FLOAT, None),
    "real": (ScalarType.FLOAT, "Real"),
    "numeric": (ScalarType.DECIMAL, "Decimal"),
    "money": (ScalarType.DECIMAL, "Money"),
    "timestamp without time zone": (ScalarType.DATETIME, "Timestamp"),
    "timestamp with time zone": (ScalarType.DATETIME, "Timestamptz"),
    "time without time zone": (ScalarType.DATETIME, "Time"),
    "time with time zone": (ScalarType.DATETIME, "Timetz"),
    "date": (ScalarType.DATETIME, "Date"),
    "jsonb": (ScalarType.JSON, None),
    "json": (ScalarType.JSON, "Json"),
    "bytea": (ScalarType.BYTES, None),
}

# Sized spellings whose arguments are the native type's: "character varying(255)",
# "timestamp(3) without time zone", "numeric(10,2)".
_PG_SIZED = re.compile(r"^(?P<base>[a-z ]+?)\((?P<args>[\d, ]+)\)(?P<rest>[a-z ]*)$")

# Sized types that are the scalar's default and need no @db attribute.
_PG_DEFAULT_SIZED = {
    ("timestamp without time zone", "3"): ScalarType.DATETIME,
    ("numeric", "65,30"): ScalarType.DECIMAL,
}


_IDENT = r'(?:"(?:[^"]|"")*"|[A-Za-z_][\w ]*)'
_CAST = re.compile(rf"(.*?)::{_IDENT}(?:\.{_IDENT})?(?:\([\d, ]*\))?[\w ]*(?:\[\])*", re.DOTALL)


_TYPE_NAME = re.compile(r'(?:("(?:[^"]|"")*"|[^".]+)\.)?("(?:[^"]|"")*"|[^".]+)')


def _unquote_ident(text: str) -> str:
    return text[1:-1].replace('""', '"') if text.startswith('"') else text


def _type_key(spelled: str, db_schema: str) -> tuple[str, str]:
    """``"Role"`` -> (db_schema, "Role"); ``billing."Plan"`` -> ("billing", "Plan")."""
    match = _TYPE_NAME.fullmatch(spelled)
    if match is None:
        return (db_schema, spelled)
    schema = _unquote_ident(match[1]) if match[1] else db_schema
    return (schema, _unquote_ident(match[2]))


class PostgresColumns(ColumnReader):
    """PostgreSQL: ``format_type`` spellings, enums, arrays, serial sequences, cast defaults."""

    provider = "postgresql"
    has_enum_types = True

    def field_type(self, column: Column, db_schema: str) -> FieldType:
        spelled = column.type
        is_list = spelled.endswith("[]")
        base = spelled[:-2] if is_list else spelled
        enum_key = _type_key(base, db_schema)
        if enum_key in self.enum_names:
            return FieldType(self.enum_names[enum_key][0], "enum", None, is_list, enum_key)
        if base in _PG_SIMPLE:
            scalar, native = _PG_SIMPLE[base]
            return FieldType(scalar.value, "scalar", native, is_list)
        sized = _PG_SIZED.match(base)
        if sized:
            name = (sized["base"].strip() + " " + sized["rest"].strip()).strip()
            args = sized["args"].replace(" ", "")
            if (name, args) in _PG_DEFAULT_SIZED:
                return FieldType(_PG_DEFAULT_SIZED[(name, args)].value, "scalar", None, is_list)
            if name in _PG_SIMPLE and _PG_SIMPLE[name][1] is not None:
                scalar, native = _PG_SIMPLE[name]
                return FieldType(scalar.value, "scalar", f"{native}({args})", is_list)
        return FieldType(base, "unsupported", None, is_list)

    def is_autoincrement(self, db_schema: str, table: Table, column: Column) -> bool:
        if column.identity is not None:
            return True
        default = column.default or ""
        match = re.fullmatch(r"nextval\('(.+)'::regclass\)", default)
        if not match:
            return False
        name = match[1]
        name = name[1:-1].replace('""', '"') if name.startswith('"') else name
        owner = f"{table.name}.{column.name}"
        sequences = self.catalogs[db_schema].sequences
        return any(s.name == name and s.owned_by == owner for s in sequences)

    def strip_cast(self, text: str) -> str:
        # 'x'::text, 'new'::"order-status", (0.5)::double precision, '2020-01-01'::timestamp
        match = _CAST.fullmatch(text)
        if match is None:
            return text
        inner = match[1].strip()
        while _enclosed(inner, "(", ")"):
            inner = inner[1:-1].strip()
        if _unquote_sql(inner) is not None or _NUMBER.fullmatch(inner):
            return inner
        return text

    def predicate(self, text: str) -> str:
        # pg_get_expr wraps the whole predicate in parentheses; schemas do not.
        return text[1:-1] if _enclosed(text, "(", ")") else text

    def list_items(self, text: str) -> list[str] | None:
        if text.startswith("ARRAY["):
            end = _closing(text, 5)
            rest = text[end + 1 :]
            if end < 0 or (rest and not rest.startswith("::")):
                return None
            return _split_top_level(text[6:end])
        match = re.fullmatch(r"'\{(.*)\}'::.+", text, re.DOTALL)
        if match is None:
            return None
        # An array literal '{a,"b c"}': its items as SQL string literals.
        items = _array_items(match[1].replace("''", "'"))
        if items is None:
            return None
        return ["'" + item.replace("'", "''") + "'" for item in items]

    def datetime_literal(self, text: str) -> str | None:
        if re.fullmatch(r"\d\d:\d\d.*", text):
            return None  # a time of day: dbgenerated
        return super().datetime_literal(text)

    def bytes_literal(self, text: str) -> str | None:
        if not re.fullmatch(r"\\x(?:[0-9a-fA-F]{2})*", text):
            return None
        return string_literal(base64.b64encode(bytes.fromhex(text[2:])).decode())


_SQLITE_TYPES: dict[str, ScalarType] = {
    "TEXT": ScalarType.STRING,
    "BOOLEAN": ScalarType.BOOLEAN,
    "INTEGER": ScalarType.INT,
    "INT": ScalarType.INT,
    "BIGINT": ScalarType.BIGINT,
    "REAL": ScalarType.FLOAT,
    "DOUBLE": ScalarType.FLOAT,
    "FLOAT": ScalarType.FLOAT,
    "DECIMAL": ScalarType.DECIMAL,
    "NUMERIC": ScalarType.DECIMAL,
    "DATETIME": ScalarType.DATETIME,
    "DATE": ScalarType.DATETIME,
    "JSONB": ScalarType.JSON,
    "JSON": ScalarType.JSON,
    "BLOB": ScalarType.BYTES,
}


def _is_rowid_alias(table: Table, column: Column) -> bool:
    """``id INTEGER PRIMARY KEY`` written without AUTOINCREMENT: SQLite numbers its rows."""
    pk = table.primary_key
    return (
        pk is not None
        and pk.columns == (column.name,)
        and column.type == "INTEGER"
        and not column.autoincrement
        and "WITHOUT ROWID" not in table.options
    )


class SqliteColumns(ColumnReader):
    """SQLite: declared types, ``AUTOINCREMENT`` keys, defaults as written in the DDL."""

    provider = "sqlite"

    def field_type(self, column: Column, db_schema: str) -> FieldType:
        scalar = _SQLITE_TYPES.get(column.type)
        if scalar is None and re.fullmatch(r"(VAR)?CHAR(\(\d+\))?|CLOB|VARCHAR", column.type):
            scalar = ScalarType.STRING
        if scalar is None:
            return FieldType(column.type or "BLOB", "unsupported")
        return FieldType(scalar.value, "scalar")

    def is_autoincrement(self, db_schema: str, table: Table, column: Column) -> bool:
        # Every single Int id is AUTOINCREMENT on SQLite; a written default says more.
        if column.default is not None:
            return False
        return column.autoincrement or _is_rowid_alias(table, column)

    def implied(self, column: Column, default: str) -> bool:
        # Prisma makes every single Int id AUTOINCREMENT, with or without the default.
        return default == "autoincrement()" and column.autoincrement

    def untraced_autoincrement(self, table: Table, column: Column) -> bool:
        # Only an INTEGER key numbers rows; on a BIGINT key Prisma writes nothing for it.
        pk = table.primary_key
        return pk is not None and pk.columns == (column.name,) and column.type != "INTEGER"

    def nullable(self, table: Table, column: Column) -> bool:
        # SQLite reports an INTEGER PRIMARY KEY as nullable, but it is the rowid: never NULL.
        return column.nullable and not _is_rowid_alias(table, column)

    def bytes_literal(self, text: str) -> str | None:
        if not re.fullmatch(r"(?:[0-9a-fA-F]{2})*", text):
            return None
        return string_literal(base64.b64encode(bytes.fromhex(text)).decode())


def column_reader_class(provider: str) -> type[ColumnReader]:
    """The reader class for ``provider`` (``postgresql`` or ``sqlite``)."""
    readers: dict[str, type[ColumnReader]] = {
        "postgresql": PostgresColumns,
        "sqlite": SqliteColumns,
    }
    if provider not in readers:
        raise ValueError(f"db pull supports postgresql and sqlite, not {provider}")
    return readers[provider]


def column_reader(
    provider: str, catalogs: Mapping[str, Catalog], enum_names: EnumNames
) -> ColumnReader:
    """The reader for ``provider`` (``postgresql`` or ``sqlite``)."""
    return column_reader_class(provider)(catalogs, enum_names)
