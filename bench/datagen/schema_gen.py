"""A deterministic generator of large, valid Prisma schemas for the schema workloads.

``render_schema()`` returns the same text on every run (fixed seed): 300 models with
a realistic mix of scalar types, optional fields, enums with defaults, unique
constraints, indexes, mapped names, doc comments and every relation kind Prisma
has (1:n, 1:1, implicit m:n, self-relations). The committed copy lives in
``bench/data/schema_300.prisma``; ``python -m bench.datagen.schema_gen`` rewrites it.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

SEED = 20_240_611
MODEL_COUNT = 300
ENUM_COUNT = 36
DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "schema_300.prisma"

# fmt: off
_PREFIXES = (
    "Account", "Billing", "Catalog", "Customer", "Delivery", "Event", "Finance", "Growth",
    "Inventory", "Ledger", "Media", "Order", "Partner", "Payment", "Product", "Review",
    "Shipping", "Store", "Support", "Team", "Travel", "User", "Vendor", "Warehouse",
)
_NOUNS = (
    "Address", "Asset", "Batch", "Budget", "Campaign", "Channel", "Comment", "Contract",
    "Device", "Draft", "Entry", "Export", "Feed", "Grant", "Import", "Invoice", "Item",
    "Label", "Note", "Policy", "Profile", "Quota", "Record", "Report", "Rule", "Session",
    "Slot", "Snapshot", "Task", "Ticket", "Token", "Visit",
)
_ENUM_SUFFIXES = ("Status", "Kind", "Level", "Stage", "Tier", "Mode")
_ENUM_VALUES = (
    "ACTIVE", "ARCHIVED", "BLOCKED", "CLOSED", "DRAFT", "EXPIRED", "FAILED", "HIGH",
    "LOW", "MEDIUM", "NEW", "OPEN", "PAUSED", "PENDING", "PUBLISHED", "REJECTED",
    "RESOLVED", "REVIEW", "SCHEDULED", "SENT",
)

ScalarName = Literal[
    "String", "Int", "BigInt", "Float", "Decimal", "DateTime", "Boolean", "Json", "Bytes"
]

# Field name -> scalar type: the pool each model draws its own columns from.
_SCALARS: tuple[tuple[str, ScalarName], ...] = (
    ("title", "String"), ("name", "String"), ("slug", "String"), ("email", "String"),
    ("code", "String"), ("summary", "String"), ("description", "String"), ("locale", "String"),
    ("currency", "String"), ("externalRef", "String"), ("phone", "String"), ("url", "String"),
    ("position", "Int"), ("quantity", "Int"), ("attempts", "Int"), ("version", "Int"),
    ("priority", "Int"), ("sizeBytes", "BigInt"), ("sequenceNo", "BigInt"),
    ("score", "Float"), ("latitude", "Float"), ("longitude", "Float"), ("weight", "Float"),
    ("amount", "Decimal"), ("taxRate", "Decimal"), ("balance", "Decimal"),
    ("publishedAt", "DateTime"), ("expiresAt", "DateTime"), ("startsAt", "DateTime"),
    ("endsAt", "DateTime"), ("lastSeenAt", "DateTime"), ("deletedAt", "DateTime"),
    ("isActive", "Boolean"), ("isPublic", "Boolean"), ("verified", "Boolean"),
    ("archived", "Boolean"), ("metadata", "Json"), ("settings", "Json"), ("payload", "Json"),
    ("checksum", "Bytes"), ("thumbnail", "Bytes"),
)
# fmt: on
_UNIQUE_TYPES = ("String", "Int", "BigInt")
_DEFAULTS: dict[str, tuple[str, ...]] = {
    "String": ('""', '"n/a"', '"en"'),
    "Int": ("0", "1", "10"),
    "BigInt": ("0",),
    "Float": ("0", "1.5"),
    "Decimal": ("0", "19.99"),
    "Boolean": ("false", "true"),
    "DateTime": ("now()",),
    "Json": ('"{}"',),
}
_NATIVE: dict[str, tuple[str, ...]] = {
    "String": ("@db.VarChar(255)", "@db.Text", "@db.VarChar(64)"),
    "Decimal": ("@db.Decimal(12, 2)", "@db.Decimal(18, 6)"),
    "DateTime": ("@db.Timestamptz(6)",),
    "Json": ("@db.JsonB",),
}
_DOCS = (
    "Owned by the {area} team.",
    "Written once, read often; keep it narrow.",
    "Soft-deleted rows keep their history.",
    "Mirrors the upstream {area} API.",
    "One row per {noun} and tenant.",
    "Shown in the admin console.",
)

IdKind = Literal["int", "bigint", "cuid", "uuid"]
_ID_FIELDS: dict[IdKind, tuple[str, str]] = {
    "int": ("Int", "@id @default(autoincrement())"),
    "bigint": ("BigInt", "@id @default(autoincrement())"),
    "cuid": ("String", "@id @default(cuid())"),
    "uuid": ("String", "@id @default(uuid())"),
}


@dataclass
class _Field:
    name: str
    type: str
    attributes: list[str] = field(default_factory=list)
    doc: str | None = None
    foreign_key: bool = False


@dataclass
class _Model:
    name: str
    id_kind: IdKind
    table: str | None
    doc: str | None
    fields: list[_Field] = field(default_factory=list)
    block: list[str] = field(default_factory=list)

    def free_name(self, base: str) -> str:
        """``base``, or ``base`` with the smallest numeric suffix not yet taken in this model."""
        taken = {f.name for f in self.fields}
        name, n = base, 2
        while name in taken:
            name, n = f"{base}{n}", n + 1
        return name


@dataclass(frozen=True)
class _Relation:
    kind: Literal["1:n", "1:1", "m:n", "self"]
    parent: int  # index of the model that is referenced (the "one" side)
    child: int  # index of the model that holds the foreign key
    optional: bool
    on_delete: str | None


@dataclass(frozen=True)
class SchemaStats:
    """Counts that describe a generated schema."""

    models: int
    fields: int
    enums: int
    relations: dict[str, int]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _lower_first(name: str) -> str:
    return name[0].lower() + name[1:]


def _plural(name: str) -> str:
    if name.endswith("y") and not name.endswith(("ay", "ey", "oy")):
        return name[:-1] + "ies"
    if name.endswith(("s", "x", "ch", "sh")):
        return name + "es"
    return name + "s"


class _Generator:
    def __init__(self, seed: int, model_count: int) -> None:
        self.rng = random.Random(seed)
        self.model_count = model_count
        self.models: list[_Model] = []
        self.enums: list[tuple[str, list[str], str | None]] = []
        self.relations: list[_Relation] = []

    def run(self) -> str:
        self._plan_enums()
        self._plan_models()
        self._plan_relations()
        self._add_scalars()
        self._add_relations()
        self._add_block_attributes()
        return self._render()

    # -- planning --------------------------------------------------------------------------

    def _plan_enums(self) -> None:
        names = [p + s for p in _PREFIXES for s in _ENUM_SUFFIXES]
        for name in self.rng.sample(names, ENUM_COUNT):
            values = sorted(self.rng.sample(_ENUM_VALUES, self.rng.randint(3, 7)))
            mapped = _snake(name) if self.rng.random() < 0.2 else None
            self.enums.append((name, values, mapped))

    def _plan_models(self) -> None:
        names = [p + n for p in _PREFIXES for n in _NOUNS]
        kinds: tuple[IdKind, ...] = ("int", "int", "int", "int", "cuid", "cuid", "uuid", "bigint")
        for name in self.rng.sample(names, self.model_count):
            table = _snake(_plural(name)) if self.rng.random() < 0.35 else None
            doc = None
            if self.rng.random() < 0.5:
                area = _snake(name).split("_")[0]
                doc = self.rng.choice(_DOCS).format(area=area, noun=_snake(name).split("_")[-1])
            model = _Model(name, self.rng.choice(kinds), table, doc)
            id_type, id_attrs = _ID_FIELDS[model.id_kind]
            model.fields.append(_Field("id", id_type, [id_attrs]))
            self.models.append(model)

    def _plan_relations(self) -> None:
        rng, n = self.rng, self.model_count
        for child in range(1, n):
            for _ in range(rng.choice((0, 1, 1, 1, 2, 2))):
                optional = rng.random() < 0.3
                actions = ("SetNull", None) if optional else ("Cascade", "Restrict", None, None)
                parent = rng.randrange(n - 1)  # any other model; self-relations come below
                parent += parent >= child
                self.relations.append(
                    _Relation("1:n", parent, child, optional, rng.choice(actions))
                )
        for _ in range(30):
            parent, child = rng.sample(range(n), 2)
            self.relations.append(_Relation("1:1", parent, child, True, None))
        for _ in range(25):
            a, b = rng.sample(range(n), 2)
            self.relations.append(_Relation("m:n", a, b, False, None))
        for model in rng.sample(range(n), 15):
            self.relations.append(_Relation("self", model, model, True, "SetNull"))

    # -- fields ----------------------------------------------------------------------------

    def _add_scalars(self) -> None:
        rng = self.rng
        enum_users = list(range(self.model_count))
        rng.shuffle(enum_users)
        # Every enum is used at least once; then about a third of the models get one more.
        enum_of: dict[int, list[int]] = {}
        for enum_index in range(len(self.enums)):
            enum_of.setdefault(enum_users[enum_index], []).append(enum_index)
        for model_index in range(self.model_count):
            if rng.random() < 0.35:
                enum_of.setdefault(model_index, []).append(rng.randrange(len(self.enums)))

        for index, model in enumerate(self.models):
            for name, scalar in rng.sample(_SCALARS, rng.randint(4, 8)):
                model.fields.append(self._scalar_field(name, scalar))
            for enum_index in enum_of.get(index, []):
                enum_name, values, _ = self.enums[enum_index]
                fname = model.free_name(
                    _lower_first(enum_name.removeprefix(self._prefix(enum_name)))
                )
                attrs = [f"@default({rng.choice(values)})"]
                if rng.random() < 0.2:
                    attrs.append(f'@map("{_snake(fname)}")')
                model.fields.append(_Field(fname, enum_name, attrs))
            if rng.random() < 0.15:
                model.fields.append(_Field(model.free_name("tags"), "String[]"))
            if rng.random() < 0.8:
                model.fields.append(_Field("createdAt", "DateTime", ["@default(now())"]))
                model.fields.append(_Field("updatedAt", "DateTime", ["@updatedAt"]))

    @staticmethod
    def _prefix(name: str) -> str:
        return next(p for p in _PREFIXES if name.startswith(p))

    def _scalar_field(self, name: str, scalar: ScalarName) -> _Field:
        rng = self.rng
        optional = scalar != "Boolean" and rng.random() < 0.3
        attrs: list[str] = []
        if scalar in _UNIQUE_TYPES and rng.random() < 0.1:
            attrs.append("@unique")
        elif not optional and scalar in _DEFAULTS and rng.random() < 0.3:
            attrs.append(f"@default({rng.choice(_DEFAULTS[scalar])})")
        if rng.random() < 0.15 and _snake(name) != name:
            attrs.append(f'@map("{_snake(name)}")')
        if scalar in _NATIVE and rng.random() < 0.2:
            attrs.append(rng.choice(_NATIVE[scalar]))
        doc = None
        if rng.random() < 0.08:
            doc = f"The {_snake(name).replace('_', ' ')}, as the client sent it."
        return _Field(name, scalar + ("?" if optional else ""), attrs, doc)

    def _add_relations(self) -> None:
        pairs: dict[tuple[int, int], int] = {}
        for rel in self.relations:
            key = (min(rel.parent, rel.child), max(rel.parent, rel.child))
            pairs[key] = pairs.get(key, 0) + 1
        for number, rel in enumerate(self.relations, start=1):
            key = (min(rel.parent, rel.child), max(rel.parent, rel.child))
            name = None
            if rel.kind == "self" or pairs[key] > 1:
                name = f'"{self.models[rel.child].name}_{self.models[rel.parent].name}_{number}"'
            if rel.kind == "m:n":
                self._add_many_to_many(rel, name)
            else:
                self._add_foreign_key(rel, name)

    def _add_foreign_key(self, rel: _Relation, name: str | None) -> None:
        parent, child = self.models[rel.parent], self.models[rel.child]
        base = "parent" if rel.kind == "self" else _lower_first(parent.name)
        rel_field = child.free_name(base)
        fk_field = child.free_name(rel_field + "Id")
        fk_type = _ID_FIELDS[parent.id_kind][0]
        fk_attrs = ["@unique"] if rel.kind == "1:1" else []
        if self.rng.random() < 0.2:
            fk_attrs.append(f'@map("{_snake(fk_field)}")')
        optional = "?" if rel.optional else ""
        args = [name] if name else []
        args += [f"fields: [{fk_field}]", "references: [id]"]
        if rel.on_delete:
            args.append(f"onDelete: {rel.on_delete}")
        child.fields.append(_Field(fk_field, fk_type + optional, fk_attrs, foreign_key=True))
        child.fields.append(
            _Field(rel_field, parent.name + optional, [f"@relation({', '.join(args)})"])
        )
        if rel.kind != "1:1" and self.rng.random() < 0.6:
            child.block.append(f"@@index([{fk_field}])")
        if rel.kind == "self":
            back, back_type = parent.free_name("children"), parent.name + "[]"
        elif rel.kind == "1:1":
            back, back_type = parent.free_name(_lower_first(child.name)), child.name + "?"
        else:
            back, back_type = parent.free_name(_lower_first(_plural(child.name))), child.name + "[]"
        parent.fields.append(_Field(back, back_type, [f"@relation({name})"] if name else []))

    def _add_many_to_many(self, rel: _Relation, name: str | None) -> None:
        a, b = self.models[rel.parent], self.models[rel.child]
        attrs = [f"@relation({name})"] if name else []
        a.fields.append(_Field(a.free_name(_lower_first(_plural(b.name))), b.name + "[]", attrs))
        b.fields.append(_Field(b.free_name(_lower_first(_plural(a.name))), a.name + "[]", attrs))

    def _add_block_attributes(self) -> None:
        rng = self.rng
        for model in self.models:
            plain = [
                f.name
                for f in model.fields
                if f.type.rstrip("?") in ("String", "Int", "DateTime")
                and not f.foreign_key
                and not any(a.startswith(("@id", "@unique", "@relation")) for a in f.attributes)
            ]
            if len(plain) >= 2 and rng.random() < 0.12:
                model.block.append(f"@@unique([{', '.join(rng.sample(plain, 2))}])")
            if plain and rng.random() < 0.4:
                columns = rng.sample(plain, min(len(plain), rng.randint(1, 2)))
                model.block.append(f"@@index([{', '.join(columns)}])")
            if model.table:
                model.block.append(f'@@map("{model.table}")')

    # -- rendering -------------------------------------------------------------------------

    def _render(self) -> str:
        out = [
            f"// Generated by bench/datagen/schema_gen.py (seed {SEED}); do not edit by hand.",
            "// A large, realistic schema for datatier's schema benchmarks.",
            "",
            "datasource db {",
            '  provider = "postgresql"',
            "}",
            "",
            "generator client {",
            '  provider = "datatier"',
            "}",
        ]
        for name, values, mapped in self.enums:
            out += ["", f"/// Values of {_snake(name).replace('_', ' ')}.", f"enum {name} {{"]
            out += [f"  {value}" for value in values]
            if mapped:
                out += ["", f'  @@map("{mapped}")']
            out.append("}")
        for model in self.models:
            out.append("")
            if model.doc:
                out.append(f"/// {model.doc}")
            out.append(f"model {model.name} {{")
            name_width = max(len(f.name) for f in model.fields)
            type_width = max(len(f.type) for f in model.fields)
            for f in model.fields:
                if f.doc:
                    out.append(f"  /// {f.doc}")
                line = f"  {f.name.ljust(name_width)} {f.type.ljust(type_width)} {' '.join(f.attributes)}"
                out.append(line.rstrip())
            if model.block:
                out.append("")
                out += [f"  {attr}" for attr in model.block]
            out.append("}")
        return "\n".join(out) + "\n"

    def stats(self) -> SchemaStats:
        kinds: dict[str, int] = {}
        for rel in self.relations:
            kinds[rel.kind] = kinds.get(rel.kind, 0) + 1
        fields = sum(len(m.fields) for m in self.models)
        return SchemaStats(len(self.models), fields, len(self.enums), kinds)


def render_schema(seed: int = SEED, model_count: int = MODEL_COUNT) -> str:
    """The generated schema text; the same for the same arguments."""
    return _Generator(seed, model_count).run()


def schema_stats(seed: int = SEED, model_count: int = MODEL_COUNT) -> SchemaStats:
    """How many models, fields, enums and relations ``render_schema`` puts in its schema."""
    generator = _Generator(seed, model_count)
    generator.run()
    return generator.stats()


def main(argv: list[str] | None = None) -> int:
    """Write the schema to ``bench/data/schema_300.prisma`` (or the path given) and print its counts."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else DATA_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_schema(), encoding="utf-8")
    print(f"wrote {target}: {schema_stats()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
