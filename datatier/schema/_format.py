"""``datatier format``: lays a schema out byte for byte as Prisma's formatter (``prisma format``) does.

The layout rules, learnt from Prisma's formatter and checked against it:

- Members of a block form tables whose columns (name, type, attributes; or
  ``key``, ``= value``) are aligned; a blank line starts a new table, comments
  do not. Runs of blank lines become one; blank lines at a block's start and end go.
- Field attributes are sorted (``@id @unique @default @updatedAt @index
  @fulltext @map @relation @ignore``, then the rest in written order); block
  attributes likewise, moved to the block's end after one blank line, each
  taking along the comment lines directly above it.
- Enum value attributes keep their order and are written without a space between.
- Trailing comments follow the last column after one space, unaligned; comment
  text is kept as written, trailing spaces included. Text after ``{`` is dropped.
- Each block ends with a blank line when anything follows it.
- When the schema resolves, missing relation fields are added first
  (see ``_relations``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from datatier.errors import SchemaError
from datatier.schema._ast import (
    Argument,
    ArrayExpr,
    Attribute,
    Block,
    Comment,
    ConstantExpr,
    EnumValueDecl,
    Expr,
    FieldDecl,
    FieldType,
    FunctionCall,
    Member,
    NumberExpr,
    ObjectExpr,
    Property,
    SchemaFile,
    StringExpr,
)
from datatier.schema._parser import parse_schema_text

__all__ = ["format_schema_text"]

_INDENT = "  "
_ATTRIBUTE_ORDER = (
    "id",
    "unique",
    "default",
    "updatedAt",
    "index",
    "fulltext",
    "map",
    "relation",
    "ignore",
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_STRING = re.compile(r'"(?:[^"\\\r\n]|\\.)*"')


def format_schema_text(text: str, path: str = "schema.prisma") -> str:
    """The schema ``text`` as Prisma's formatter writes it; raises ``SchemaError`` on syntax errors."""
    schema = _parse(text, path)
    completed = _complete_relations(schema)
    if completed != text:
        schema = _parse(completed, path)
    return _Renderer(schema).render()


def _parse(text: str, path: str) -> SchemaFile:
    schema, diagnostics = parse_schema_text(path, text)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise SchemaError(errors)
    return schema


# -- expressions ---------------------------------------------------------------------


def render_expr(expr: Expr) -> str:
    """An expression in its canonical spelling: ``[a, b]``, ``name: value``, ``f(x)``."""
    if isinstance(expr, StringExpr):
        return f'"{expr.raw}"'
    if isinstance(expr, NumberExpr):
        return expr.text
    if isinstance(expr, ArrayExpr):
        return "[" + ", ".join(render_expr(item) for item in expr.items) + "]"
    if isinstance(expr, FunctionCall):
        return expr.name + _render_args(expr.args)
    if isinstance(expr, ObjectExpr):
        return "{ " + ", ".join(_render_arg(entry) for entry in expr.entries) + " }"
    return expr.name


def _render_args(args: Sequence[Argument]) -> str:
    return "(" + ", ".join(_render_arg(arg) for arg in args) + ")"


def _render_arg(arg: Argument) -> str:
    value = render_expr(arg.value)
    return value if arg.name is None else f"{arg.name}: {value}"


def _render_attribute(attribute: Attribute) -> str:
    prefix = "@@" if attribute.is_block else "@"
    return prefix + attribute.name + (_render_args(attribute.args) if attribute.has_parens else "")


def _rank(attribute: Attribute) -> int:
    """Where Prisma's formatter puts an attribute among its siblings (the sort is stable)."""
    name = attribute.name
    return _ATTRIBUTE_ORDER.index(name) if name in _ATTRIBUTE_ORDER else len(_ATTRIBUTE_ORDER)


# -- tables ----------------------------------------------------------------------------


@dataclass
class _Row:
    """A table row: aligned ``columns`` then an unaligned ``suffix`` (a comment); or raw text."""

    columns: list[str] = field(default_factory=list)
    suffix: str = ""
    raw: str | None = None


class _Table:
    """Rows whose columns are aligned when rendered; widths count UTF-8 bytes, as Prisma's do."""

    def __init__(self) -> None:
        self.rows: list[_Row] = []

    def add(self, columns: list[str], suffix: str = "") -> None:
        self.rows.append(_Row(columns, suffix))

    def blank(self) -> None:
        self.rows.append(_Row())

    def raw(self, text: str) -> None:
        self.rows.append(_Row(raw=text))

    def comments(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.add([], line)

    def render(self, out: list[str], indent: str) -> None:
        widths: list[int] = []
        for row in self.rows:
            while row.columns and row.columns[-1] == "":
                row.columns.pop()
            for index, column in enumerate(row.columns):
                size = _width(column)
                if index == len(widths):
                    widths.append(size)
                elif size > widths[index]:
                    widths[index] = size
        for row in self.rows:
            if row.raw is not None:
                out.append(indent + row.raw + "\n")
                continue
            parts: list[str] = []
            last = len(row.columns) - 1
            for index, column in enumerate(row.columns):
                parts.append(column)
                if index < last:
                    parts.append(" " * (widths[index] - _width(column) + 1))
            if row.suffix:
                if row.columns:
                    parts.append(" ")
                parts.append(row.suffix)
            out.append((indent + "".join(parts) if parts else "") + "\n")
        self.rows = []


def _width(text: str) -> int:
    return len(text.encode("utf-8"))


# -- the layout of lines -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Empty:
    """One or more blank lines."""


@dataclass(frozen=True, slots=True)
class _Comments:
    """Consecutive ``//`` or ``///`` lines, each as written from its slashes on."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    """A member on one line, with the comment that ends its line."""

    member: Member
    comment: str


@dataclass(frozen=True, slots=True)
class _Raw:
    """A line Prisma's formatter does not understand and keeps (a member spread over lines)."""

    text: str


_Event = _Empty | _Comments | _Entry | _Raw
_E = TypeVar("_E", Block | _Event, _Event)


class _Renderer:
    def __init__(self, schema: SchemaFile) -> None:
        self.text = schema.text
        self.blocks = schema.blocks
        self.line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(self.text)]
        self.lines = _LINE_BREAK.split(self.text)
        if len(self.lines) > 1 and self.lines[-1] == "":
            self.lines.pop()  # the text ends with a line break, not with an empty line

    def line_of(self, offset: int) -> int:
        """The 0-based line holding ``offset``."""
        return bisect_right(self.line_starts, offset) - 1

    def trailing_comment(self, member: Member) -> str | None:
        """The comment ending ``member``'s line (``""`` if none); None if Prisma keeps the line as is."""
        end = _content_end(member)
        if "/*" in _STRING.sub("", self.text[member.span.start : end]):
            return None
        line = self.line_of(end - 1)
        rest = self.lines[line][end - self.line_starts[line] :].lstrip(" \t")
        if rest.startswith("/*"):
            close = rest.find("*/")
            if close < 0 or rest[close + 2 :].strip(" \t"):
                return None
            return rest[: close + 2]
        return rest if rest.startswith("//") else ""

    def comments_at(self, offset: int) -> tuple[list[str], int] | None:
        """The rows of the comments starting at ``offset`` and the line they end on, if any start there."""
        text = self.text
        rows: list[str] = []
        position = offset
        while True:
            while position < len(text) and text[position] in " \t":
                position += 1
            if text.startswith("//", position):
                line = self.line_of(position)
                rows.append(self.lines[line][position - self.line_starts[line] :])
                position += len(rows[-1])
                break
            if not text.startswith("/*", position):
                break
            close = text.find("*/", position + 2)
            rows.extend(_block_comment_rows(text[position + 2 : close]))
            position = close + 2
        return (rows, self.line_of(position - 1)) if rows else None

    # -- top level

    def render(self) -> str:
        out: list[str] = []
        events = _merge_blanks(self._top_events())
        while events and isinstance(events[0], _Empty):
            events.pop(0)
        for index, event in enumerate(events):
            if isinstance(event, Block):
                self._render_block(event, out)
            elif isinstance(event, _Comments):
                table = _Table()
                table.comments(event.lines)
                table.render(out, "")
            elif isinstance(event, _Empty):
                if index + 1 < len(events):
                    out.append("\n")
            else:
                assert isinstance(event, _Raw)
                out.append(event.text + "\n")
        result = "".join(out)
        return result if result.endswith("\n") else result + "\n"

    def _top_events(self) -> Iterator[Block | _Event]:
        starts = {self.line_of(block.span.start): block for block in self.blocks}
        pending: list[str] = []
        line = 0
        while line < len(self.lines):
            block = starts.get(line)
            comments = None if block is not None else self.comments_at(self.line_starts[line])
            if comments is not None:
                pending.extend(comments[0])
                line = comments[1] + 1
                continue
            if pending:
                yield _Comments(tuple(pending))
                pending = []
            if block is not None:
                yield block
                line = self.line_of(block.span.end - 1)
                comments = self.comments_at(block.span.end)
                if comments is not None:
                    pending.extend(comments[0])
                    line = comments[1]
                elif line + 1 < len(self.lines):
                    yield _Empty()
            else:
                stripped = self.lines[line].lstrip(" \t")
                yield _Raw(stripped) if stripped else _Empty()
            line += 1
        if pending:
            yield _Comments(tuple(pending))

    # -- blocks

    def _block_events(self, block: Block) -> Iterator[_Event]:
        first = self.line_of(self.text.index("{", block.name_span.end)) + 1
        last = self.line_of(block.span.end - 1)
        members = {
            self.line_of(m.span.start): m for m in block.members if not isinstance(m, Comment)
        }
        pending: list[str] = []
        line = first
        while line < last:
            member = members.get(line)
            comments = None if member is not None else self.comments_at(self.line_starts[line])
            if comments is not None:
                pending.extend(comments[0])
                line = comments[1] + 1
                continue
            if pending:
                yield _Comments(tuple(pending))
                pending = []
            end = line if member is None else self.line_of(_content_end(member) - 1)
            comment = None if member is None or end != line else self.trailing_comment(member)
            if member is not None and comment is not None:
                yield _Entry(member, comment)
            else:
                for inner in range(line, end + 1):
                    text = self.lines[inner].lstrip(" \t")
                    yield _Raw(text) if text else _Empty()
            line = end + 1
        if pending:
            yield _Comments(tuple(pending))

    def _render_block(self, block: Block, out: list[str]) -> None:
        out.append(f"{block.kind} {block.name} {{\n")
        events = _merge_blanks(self._block_events(block))
        table = _Table()
        attributes: list[tuple[_Comments | None, Attribute, str]] = []
        position = 0
        while position < len(events) and isinstance(events[position], _Empty):
            position += 1
        while position < len(events):
            event = events[position]
            position += 1
            after_blank = False
            if isinstance(event, _Empty):
                after_blank = True
                if position == len(events):
                    break
                event = events[position]
                position += 1
                if not isinstance(event, _Comments) and not _is_block_attribute(event):
                    table.render(out, _INDENT)
                    table.blank()
            following = events[position] if position < len(events) else None
            if isinstance(event, _Comments):
                if isinstance(following, _Entry) and isinstance(following.member, Attribute):
                    attributes.append((event, following.member, following.comment))
                    position += 1
                    continue
                if after_blank:
                    table.render(out, _INDENT)
                    table.blank()
                table.comments(event.lines)
            elif isinstance(event, _Raw):
                table.raw(event.text)
            elif isinstance(event, _Entry) and isinstance(event.member, Attribute):
                attributes.append((None, event.member, event.comment))
            elif isinstance(event, _Entry):
                table.add(_columns(event.member, self.text), event.comment)
        table.render(out, _INDENT)
        if attributes:
            table.blank()
            for comments, attribute, comment in sorted(attributes, key=lambda a: _rank(a[1])):
                if comments is not None:
                    table.comments(comments.lines)
                table.add([_render_attribute(attribute)], comment)
            table.render(out, _INDENT)
        out.append("}\n")


def _content_end(member: Member) -> int:
    """Where ``member``'s own text ends, before any comment on its line."""
    if isinstance(member, FieldDecl):
        ends = [member.name_span.end, *(a.span.end for a in member.attributes)]
        if member.type is not None:
            ends.append(member.type.span.end)
        return max(ends)
    if isinstance(member, EnumValueDecl):
        return max([member.span.start + len(member.name), *(a.span.end for a in member.attributes)])
    if isinstance(member, Property):
        return member.value.span.end
    return member.span.end


def _block_comment_rows(inner: str) -> list[str]:
    """A ``/* ... */`` comment as Prisma rewrites it: ``/**``, one `` * line`` per non-empty line, `` */``."""
    rows = ["/**"]
    for line in inner.splitlines():
        line = line.strip()
        if line.startswith("*"):
            line = line[1:].lstrip()
        if line:
            rows.append(" * " + line)
    rows.append(" */")
    return rows


def _merge_blanks(events: Iterator[_E]) -> list[_E]:
    """The events with each run of blank lines made one, as Prisma's grammar reads them."""
    merged: list[_E] = []
    for event in events:
        if not (isinstance(event, _Empty) and merged and isinstance(merged[-1], _Empty)):
            merged.append(event)
    return merged


def _is_block_attribute(event: object) -> bool:
    return isinstance(event, _Entry) and isinstance(event.member, Attribute)


def _columns(member: Member, text: str) -> list[str]:
    if isinstance(member, FieldDecl):
        kind = "" if member.type is None else _render_type(member.type, text)
        attributes = " ".join(_render_attribute(a) for a in sorted(member.attributes, key=_rank))
        return [member.name, kind, attributes]
    if isinstance(member, EnumValueDecl):
        return [member.name, "".join(_render_attribute(a) for a in member.attributes)]
    if isinstance(member, Property):
        return [member.name, "= " + render_expr(member.value)]
    raise AssertionError(f"not a table member: {member!r}")


def _render_type(kind: FieldType, text: str) -> str:
    if kind.unsupported is not None:
        written = text[kind.span.start : kind.span.end]
        base = written[: written.rindex(")") + 1]
    else:
        base = kind.name
    return base + ("[]" if kind.is_list else "") + ("?" if kind.optional else "")


# -- relation completion ---------------------------------------------------------------
#
# Before laying out, Prisma's formatter completes relations when the schema resolves
# (every type known, no duplicate names): a back-relation field missing on the other
# model, a missing ``@relation(fields: ..., references: ...)`` or its missing
# arguments, and the foreign-key scalar fields. The additions are spliced into the
# text just before the model's ``}`` (or after the type or inside ``@relation(...)``)
# and the layout rules above then align them.

_SCALARS = frozenset(
    (
        "String",
        "Boolean",
        "Int",
        "BigInt",
        "Float",
        "Decimal",
        "DateTime",
        "Json",
        "Bytes",
        "Unsupported",
    )
)


@dataclass(frozen=True, slots=True)
class _RelationField:
    model: Block
    field: FieldDecl
    target: Block
    name: str | None
    relation: Attribute | None


def _complete_relations(schema: SchemaFile) -> str:
    """The schema text with the relation fields and arguments Prisma's formatter would add."""
    models = {b.name: b for b in schema.blocks if b.kind == "model"}
    if not _resolves(schema):
        return schema.text
    relation_fields = [
        _RelationField(model, f, models[f.type.name], _relation_name(f), _relation_attribute(f))
        for model in models.values()
        for f in _fields(model)
        if f.type is not None and f.type.name in models
    ]
    insertions: list[tuple[int, str]] = []
    paired: set[int] = set()
    for index, forward in enumerate(relation_fields):
        if index in paired:
            continue
        opposite = next(
            (
                other
                for other_index, other in enumerate(relation_fields)
                if other_index != index
                and other_index not in paired
                and other.model is forward.target
                and other.target is forward.model
                and other.name == forward.name
            ),
            None,
        )
        paired.add(index)
        if opposite is not None:
            paired.add(relation_fields.index(opposite))
            if forward.field.type is not None and forward.field.type.is_list:
                forward, opposite = opposite, forward
            if forward.field.type is None or forward.field.type.is_list:
                continue  # many-to-many: nothing to add
            one_to_one = opposite.field.type is not None and not opposite.field.type.is_list
            if one_to_one and _argument(forward.relation, "fields") is None:
                if _argument(opposite.relation, "fields") is None:
                    continue  # one-to-one with no side holding the key: Prisma asks the user
                forward, opposite = opposite, forward
        kind = forward.field.type
        assert kind is not None
        if opposite is None and kind.is_list:
            insertions.extend(_forward_side(schema.text, forward))
        else:
            insertions.extend(
                _referencing_side(schema.text, forward, back_missing=opposite is None)
            )
    if not insertions:
        return schema.text
    insertions.sort(key=lambda insertion: insertion[0])
    parts: list[str] = []
    last = 0
    for position, content in insertions:
        parts.append(schema.text[last:position])
        parts.append(content)
        last = position
    parts.append(schema.text[last:])
    return "".join(parts)


def _forward_side(text: str, back: _RelationField) -> list[tuple[int, str]]:
    """A list field with no opposite: the model it names gets the relation field and its key."""
    holder, referenced = back.target, back.model
    key = _first_unique(referenced)
    scalars = _inferred_scalars(holder, referenced, key, None)
    arity = "?" if any(optional for _, _, optional, _ in scalars) or not scalars else ""
    name = _camel(referenced.name)
    end = holder.span.end - 1
    insertions = [
        (
            end,
            f"{name} {referenced.name}{arity} @relation({_fields_arg(scalars)}, "
            f"{_references_arg(key)})\n",
        )
    ]
    insertions.extend(_scalar_insertions(holder, scalars, text))
    return insertions


def _referencing_side(
    text: str, forward: _RelationField, *, back_missing: bool
) -> list[tuple[int, str]]:
    """A relation field holding the key: its back field, ``@relation`` and scalars if missing."""
    insertions: list[tuple[int, str]] = []
    holder, referenced = forward.model, forward.target
    kind = forward.field.type
    assert kind is not None
    if back_missing:
        ignore = "@ignore" if any(a.name == "ignore" for a in _block_attributes(holder)) else ""
        insertions.append(
            (referenced.span.end - 1, f"{_plural(_camel(holder.name))} {holder.name}[] {ignore}\n")
        )
    written_fields = _argument(forward.relation, "fields")
    written_references = _argument(forward.relation, "references")
    key = _references(referenced, written_references)
    scalars = _inferred_scalars(holder, referenced, _first_unique(referenced), kind)
    if forward.relation is None:
        position = kind.span.end
        while position < len(text) and text[position] in "[]?!":
            position += 1
        insertions.append((position, f" @relation({_fields_arg(scalars)}, {_references_arg(key)})"))
    else:
        extra = []
        if written_fields is None:
            extra.append(_fields_arg(scalars))
        if written_references is None:
            extra.append(_references_arg(key))
        if extra:
            if forward.relation.args:
                insertions.append((forward.relation.span.end - 1, ", " + ", ".join(extra)))
            else:
                insertions.append((forward.relation.span.end, "(" + ", ".join(extra) + ")"))
    if written_fields is None:
        insertions.extend(_scalar_insertions(holder, scalars, text))
    return insertions


_Scalar = tuple[str, str, bool, str]  # name, type, optional, native type attribute


def _inferred_scalars(
    holder: Block, referenced: Block, key: list[FieldDecl], relation_type: FieldType | None
) -> list[_Scalar]:
    """The key fields Prisma infers for ``holder``: ``<model><Field>`` per field of ``key``."""
    scalars = []
    for field_decl in key:
        assert field_decl.type is not None
        name = _lower_first(referenced.name) + field_decl.name[:1].upper() + field_decl.name[1:]
        existing = next((f for f in _fields(holder) if f.name == name), None)
        if existing is not None and existing.type is not None:
            optional = existing.type.optional
            type_name = existing.type.name
        else:
            optional = relation_type is None or relation_type.optional
            type_name = field_decl.type.name
        native = next((a for a in field_decl.attributes if a.name.startswith("db.")), None)
        scalars.append(
            (name, type_name, optional, "" if native is None else _render_attribute(native))
        )
    return scalars


def _scalar_insertions(holder: Block, scalars: list[_Scalar], text: str) -> list[tuple[int, str]]:
    existing = {f.name for f in _fields(holder)}
    insertions = []
    for name, type_name, optional, native in scalars:
        if name in existing:
            continue
        if type_name not in _SCALARS:
            break
        insertions.append(
            (holder.span.end - 1, f"{name} {type_name}{'?' if optional else ''} {native}\n")
        )
    return insertions


def _fields_arg(scalars: list[_Scalar]) -> str:
    return "fields: [" + ", ".join(name for name, _, _, _ in scalars) + "]"


def _references_arg(key: list[FieldDecl]) -> str:
    return "references: [" + ", ".join(f.name for f in key) + "]"


def _references(referenced: Block, written: Expr | None) -> list[FieldDecl]:
    if isinstance(written, ArrayExpr):
        by_name = {f.name: f for f in _fields(referenced)}
        names = [item.name for item in written.items if isinstance(item, ConstantExpr)]
        return [by_name[n] for n in names if n in by_name]
    return _first_unique(referenced)


def _first_unique(model: Block) -> list[FieldDecl]:
    """The model's primary key, else its first unique field or ``@@unique``: what Prisma references."""
    fields = {f.name: f for f in _fields(model)}
    for wanted in ("id", "unique"):
        for f in fields.values():
            if any(a.name == wanted for a in f.attributes):
                return [f]
        for attribute in _block_attributes(model):
            if attribute.name == wanted and attribute.args:
                value = attribute.args[0].value
                if isinstance(value, ArrayExpr):
                    names = [i.name for i in value.items if isinstance(i, ConstantExpr)]
                    if all(n in fields for n in names):
                        return [fields[n] for n in names]
    return []


def _resolves(schema: SchemaFile) -> bool:
    """Whether the schema would pass Prisma's name resolution (the formatter's condition)."""
    names = [b.name for b in schema.blocks if b.kind not in ("datasource", "generator")]
    if len(names) != len(set(names)):
        return False
    known = _SCALARS | set(names)
    for block in schema.blocks:
        fields = _fields(block)
        if len({f.name for f in fields}) != len(fields):
            return False
        if any(f.type is None or f.type.name not in known for f in fields):
            return False
    return True


def _fields(block: Block) -> list[FieldDecl]:
    return [m for m in block.members if isinstance(m, FieldDecl)]


def _block_attributes(block: Block) -> list[Attribute]:
    return [m for m in block.members if isinstance(m, Attribute)]


def _relation_attribute(field_decl: FieldDecl) -> Attribute | None:
    return next((a for a in field_decl.attributes if a.name == "relation"), None)


def _relation_name(field_decl: FieldDecl) -> str | None:
    relation = _relation_attribute(field_decl)
    named = _argument(relation, "name")
    return named.value if isinstance(named, StringExpr) else None


def _argument(attribute: Attribute | None, name: str) -> Expr | None:
    if attribute is None:
        return None
    for index, argument in enumerate(attribute.args):
        if argument.name == name or (argument.name is None and index == 0 and name == "name"):
            return argument.value
    return None


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _camel(name: str) -> str:
    words = [w for w in re.split(r"[_\-\s]+", name) if w]
    if not words:
        return name
    return _lower_first(words[0]) + "".join(w[:1].upper() + w[1:] for w in words[1:])


def _plural(word: str) -> str:
    """English plural of an identifier's last word, as the Inflector crate Prisma uses makes it."""
    lower = word.lower()
    if re.search(r"(s|x|z|ch|sh)$", lower):
        return word + "es"
    if re.search(r"[^aeiou]y$", lower):
        return word[:-1] + "ies"
    return word + "s"
