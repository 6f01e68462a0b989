"""What each provider accepts: providers, native types, referential actions, index types, defaults."""

from __future__ import annotations

from collections.abc import Sequence

from datatier.schema._ir import ReferentialAction, ScalarType

__all__ = [
    "DEFAULT_FUNCTIONS",
    "INDEX_ALGORITHMS",
    "KNOWN_PREVIEW_FEATURES",
    "NATIVE_TYPES",
    "PROVIDERS",
    "PROVIDER_ALIASES",
    "REFERENTIAL_ACTIONS",
    "RESERVED_MODEL_NAMES",
    "RETIRED_PREVIEW_FEATURES",
    "SCALAR_LIST_PROVIDERS",
    "native_argument_problem",
]

PROVIDER_ALIASES = {"postgres": "postgresql"}
PROVIDERS = ("postgresql", "sqlite", "mysql", "sqlserver", "mongodb", "cockroachdb")
SCALAR_LIST_PROVIDERS = frozenset(("postgresql", "cockroachdb", "mongodb"))

_ALL_ACTIONS = frozenset(ReferentialAction)
REFERENTIAL_ACTIONS: dict[str, frozenset[ReferentialAction]] = {
    "postgresql": _ALL_ACTIONS,
    "sqlite": _ALL_ACTIONS,
    "mysql": _ALL_ACTIONS,
    "cockroachdb": _ALL_ACTIONS,
    "sqlserver": _ALL_ACTIONS - {ReferentialAction.RESTRICT},
    "mongodb": _ALL_ACTIONS - {ReferentialAction.SET_DEFAULT},
}

# Native types by provider: name -> (scalar types it fits, most arguments it takes).
S = ScalarType
NATIVE_TYPES: dict[str, dict[str, tuple[frozenset[ScalarType], int]]] = {
    "postgresql": {
        "Text": (frozenset({S.STRING}), 0),
        "Char": (frozenset({S.STRING}), 1),
        "VarChar": (frozenset({S.STRING}), 1),
        "Bit": (frozenset({S.STRING}), 1),
        "VarBit": (frozenset({S.STRING}), 1),
        "Uuid": (frozenset({S.STRING}), 0),
        "Xml": (frozenset({S.STRING}), 0),
        "Inet": (frozenset({S.STRING}), 0),
        "Citext": (frozenset({S.STRING}), 0),
        "Boolean": (frozenset({S.BOOLEAN}), 0),
        "Integer": (frozenset({S.INT}), 0),
        "SmallInt": (frozenset({S.INT}), 0),
        "Oid": (frozenset({S.INT}), 0),
        "BigInt": (frozenset({S.BIGINT}), 0),
        "DoublePrecision": (frozenset({S.FLOAT}), 0),
        "Real": (frozenset({S.FLOAT}), 0),
        "Decimal": (frozenset({S.DECIMAL}), 2),
        "Money": (frozenset({S.DECIMAL}), 0),
        "Timestamp": (frozenset({S.DATETIME}), 1),
        "Timestamptz": (frozenset({S.DATETIME}), 1),
        "Date": (frozenset({S.DATETIME}), 0),
        "Time": (frozenset({S.DATETIME}), 1),
        "Timetz": (frozenset({S.DATETIME}), 1),
        "Json": (frozenset({S.JSON}), 0),
        "JsonB": (frozenset({S.JSON}), 0),
        "ByteA": (frozenset({S.BYTES}), 0),
    },
    "sqlite": {},
}

INDEX_ALGORITHMS: dict[str, frozenset[str]] = {
    "postgresql": frozenset(("BTree", "Hash", "Gist", "Gin", "SpGist", "Brin")),
    "cockroachdb": frozenset(("BTree", "Gin")),
}

# Default functions: name -> scalar types it can fill (None: any type).
DEFAULT_FUNCTIONS: dict[str, frozenset[ScalarType] | None] = {
    "autoincrement": frozenset({S.INT, S.BIGINT}),
    "uuid": frozenset({S.STRING}),
    "cuid": frozenset({S.STRING}),
    "nanoid": frozenset({S.STRING}),
    "ulid": frozenset({S.STRING}),
    "now": frozenset({S.DATETIME}),
    "dbgenerated": None,
    "sequence": frozenset({S.INT, S.BIGINT}),
    "auto": None,
}

KNOWN_PREVIEW_FEATURES = frozenset(
    (
        "driverAdapters",
        "fullTextSearchPostgres",
        "fullTextIndex",
        "multiSchema",
        "nativeDistinct",
        "postgresqlExtensions",
        "relationJoins",
        "views",
        "strictUndefinedChecks",
        "typedSql",
        "prismaSchemaFolder",
        "omitApi",
        "queryCompiler",
        "schemaEngineDriverAdapters",
        "shardKeys",
        "partialIndexes",
    )
)
# Features that older releases knew and later ones folded in or dropped: a warning, never an error.
RETIRED_PREVIEW_FEATURES = frozenset(
    (
        "metrics",
        "fullTextSearch",
        "tracing",
        "interactiveTransactions",
        "extendedWhereUnique",
        "clientExtensions",
        "fieldReference",
        "filteredRelationCount",
        "orderByNulls",
        "jsonProtocol",
        "deno",
        "improvedQueryRaw",
        "referentialIntegrity",
        "referentialActions",
        "namedConstraints",
        "orderByRelation",
        "orderByAggregateGroup",
        "selectRelationCount",
        "napi",
        "nApi",
        "dataProxy",
        "microsoftSqlServer",
        "mongoDb",
        "uncheckedScalarInputs",
        "groupBy",
        "createMany",
        "atomicNumberOperations",
        "aggregateApi",
        "distinct",
        "connectOrCreate",
        "transactionApi",
        "nativeTypes",
        "cockroachdb",
        "filterJson",
        "improvedQueryRaw",
        "omitApi",
        "extendedIndexes",
        "middlewares",
        "reactNative",
    )
)

# Names a model or enum cannot take: the generated client's own class, the scalar types,
# and the words JavaScript reserves (Prisma's client is generated as JavaScript).
RESERVED_MODEL_NAMES = frozenset(
    (
        "PrismaClient",
        "String",
        "Boolean",
        "Int",
        "BigInt",
        "Float",
        "Decimal",
        "DateTime",
        "Json",
        "Bytes",
        *[
            "async",
            "await",
            "break",
            "case",
            "catch",
            "class",
            "const",
            "continue",
            "debugger",
            "default",
            "delete",
            "do",
            "else",
            "enum",
            "export",
            "extends",
            "false",
            "finally",
            "for",
            "function",
            "if",
            "implements",
            "import",
            "in",
            "instanceof",
            "interface",
            "let",
            "new",
            "null",
            "package",
            "private",
            "protected",
            "public",
            "return",
            "super",
            "switch",
            "this",
            "throw",
            "true",
            "try",
            "typeof",
            "var",
            "void",
            "while",
            "with",
            "yield",
        ],
    )
)


def native_argument_problem(type_name: str, arguments: Sequence[str]) -> str | None:
    """Why the numbers given to a native type are out of its range (None when they fit)."""
    if not all(a.isdigit() for a in arguments):
        return "its arguments are whole numbers of 0 or more"
    values = [int(a) for a in arguments]
    if not values:
        return None
    if type_name in ("Timestamp", "Timestamptz", "Time", "Timetz") and values[0] > 6:
        return "the precision of fractional seconds ranges from 0 to 6"
    if type_name in ("Bit", "VarBit") and values[0] < 1:
        return "the length must be at least 1"
    if type_name == "Decimal":
        if len(values) != 2:
            return "give both the precision and the scale, e.g. `Decimal(10, 2)`"
        precision, scale = values
        if not 1 <= precision <= 1000:
            return "the precision ranges from 1 to 1000"
        if scale > precision:
            return "the scale cannot exceed the precision"
    return None
