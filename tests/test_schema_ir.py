"""The resolved IR of the project's schemas: names, relations, actions, keys, defaults, docs.

The blog schema ships inside the package (``datatier/demo/schema.prisma``); the shop
schema is the repository's copy of the shared examples.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import datatier.demo
from datatier.errors import SchemaError
from datatier.schema import (
    DefaultValue,
    Extension,
    ForeignKey,
    IndexField,
    JoinTable,
    ReferentialAction,
    Schema,
    load_schema,
    validate_schema_text,
)
from tests.harness.golden import SHARED_COPIES

BLOG = Path(datatier.demo.__file__).parent / "schema.prisma"


@pytest.fixture(scope="module")
def blog() -> Schema:
    return load_schema(BLOG)


@pytest.fixture(scope="module")
def shop() -> Schema:
    return load_schema(SHARED_COPIES / "shop.prisma")


def blog_on(provider: str) -> Schema:
    text = BLOG.read_text().replace('provider = "postgresql"', f'provider = "{provider}"')
    return validate_schema_text(text, str(BLOG))


# -- blog ------------------------------------------------------------------------------


def test_blog_models_and_table_names(blog: Schema) -> None:
    assert blog.provider == "postgresql"
    assert [(m.name, m.db_name) for m in blog.models] == [
        ("User", "users"),
        ("UserProfile", "user_profiles"),
        ("UserSession", "user_sessions"),
        ("Category", "Category"),
        ("Tag", "Tag"),
        ("Post", "Post"),
        ("Comment", "Comment"),
    ]
    assert [(e.name, [v.name for v in e.values]) for e in blog.enums] == [
        ("Role", ["USER", "EDITOR", "ADMIN"]),
        ("PostStatus", ["DRAFT", "PUBLISHED", "ARCHIVED"]),
    ]


def test_blog_relation_kinds(blog: Schema) -> None:
    kinds = {r.name: r.kind for r in blog.relations}
    assert kinds == {
        "UserToUserProfile": "one_to_one",
        "UserToUserSession": "one_to_many",
        "authored": "one_to_many",
        "CommentToUser": "one_to_many",
        "CategoryTree": "one_to_many",
        "CategoryToPost": "one_to_many",
        "PostToTag": "many_to_many",
        "CommentToPost": "one_to_many",
        "Thread": "one_to_many",
    }


def test_one_to_one_links_both_sides(blog: Schema) -> None:
    (relation,) = [r for r in blog.relations if r.name == "UserToUserProfile"]
    assert (relation.referencing_model, relation.referencing_field) == ("UserProfile", "user")
    assert (relation.referenced_model, relation.referenced_field) == ("User", "profile")
    assert (relation.fields, relation.references) == (("userId",), ("id",))
    assert relation.on_delete is ReferentialAction.CASCADE  # written
    assert relation.on_update is ReferentialAction.CASCADE  # Prisma's default
    assert blog.model("User").field("profile").relation_name == "UserToUserProfile"
    assert blog.model("UserProfile").field("user").relation_name == "UserToUserProfile"
    assert not blog.model("User").field("profile").is_required


def test_implicit_many_to_many_join_table(blog: Schema) -> None:
    (relation,) = [r for r in blog.relations if r.kind == "many_to_many"]
    assert relation.name == "PostToTag"
    assert relation.join_table == JoinTable(
        table="_PostToTag", relation_name="PostToTag", model_a="Post", model_b="Tag"
    )
    assert {relation.referencing_model, relation.referenced_model} == {"Post", "Tag"}
    assert (relation.fields, relation.references) == ((), ())
    assert relation.on_delete is None
    assert blog.join_tables == (relation.join_table,)
    assert blog.model("Post").field("tags").relation_name == "PostToTag"
    assert blog.model("Tag").field("posts").relation_name == "PostToTag"


@pytest.mark.parametrize(
    ("name", "model", "parent", "children"),
    [
        ("CategoryTree", "Category", "parent", "children"),
        ("Thread", "Comment", "parent", "replies"),
    ],
)
def test_self_relations(blog: Schema, name: str, model: str, parent: str, children: str) -> None:
    (relation,) = [r for r in blog.relations if r.name == name]
    assert relation.is_self_relation
    assert relation.kind == "one_to_many"
    assert (relation.referencing_model, relation.referencing_field) == (model, parent)
    assert (relation.referenced_model, relation.referenced_field) == (model, children)
    assert (relation.fields, relation.references) == (("parentId",), ("id",))


@pytest.mark.parametrize(
    ("name", "on_delete"),
    [
        ("authored", ReferentialAction.RESTRICT),  # required, nothing written
        ("CommentToUser", ReferentialAction.RESTRICT),
        ("CategoryToPost", ReferentialAction.SET_NULL),  # optional, nothing written
        ("Thread", ReferentialAction.SET_NULL),
        ("CategoryTree", ReferentialAction.SET_NULL),  # written
        ("CommentToPost", ReferentialAction.CASCADE),  # written
        ("UserToUserSession", ReferentialAction.CASCADE),
    ],
)
def test_effective_referential_actions(
    blog: Schema, name: str, on_delete: ReferentialAction
) -> None:
    (relation,) = [r for r in blog.relations if r.name == name]
    assert relation.on_delete is on_delete
    assert relation.on_update is ReferentialAction.CASCADE


def test_field_keeps_the_action_as_written(blog: Schema) -> None:
    post = blog.model("Post")
    assert post.field("author").relation_on_delete is None
    assert blog.model("Comment").field("post").relation_on_delete is ReferentialAction.CASCADE


def test_foreign_keys(blog: Schema) -> None:
    post = blog.model("Post")
    assert post.foreign_keys == (
        ForeignKey(
            db_name="Post_authorId_fkey",
            columns=("authorId",),
            referenced_table="users",
            referenced_columns=("id",),
            on_delete=ReferentialAction.RESTRICT,
            on_update=ReferentialAction.CASCADE,
        ),
        ForeignKey(
            db_name="Post_categoryId_fkey",
            columns=("categoryId",),
            referenced_table="Category",
            referenced_columns=("id",),
            on_delete=ReferentialAction.SET_NULL,
            on_update=ReferentialAction.CASCADE,
        ),
    )
    # A mapped table names its constraints after the table, not the model.
    (profile_fk,) = blog.model("UserProfile").foreign_keys
    assert profile_fk.db_name == "user_profiles_userId_fkey"
    assert profile_fk.on_delete is ReferentialAction.CASCADE


def test_indexes_and_unique_names(blog: Schema) -> None:
    post = blog.model("Post")
    assert [(i.kind, i.db_name, i.fields) for i in post.indexes] == [
        (
            "normal",
            "Post_authorId_createdAt_idx",
            (IndexField("authorId", "authorId"), IndexField("createdAt", "createdAt", sort="Desc")),
        ),
        (
            "normal",
            "Post_status_publishedAt_idx",
            (IndexField("status", "status"), IndexField("publishedAt", "publishedAt")),
        ),
    ]
    (email,) = blog.model("User").indexes
    assert (email.kind, email.db_name, email.from_field_attribute) == (
        "unique",
        "users_email_key",
        True,
    )
    assert [i.db_name for i in blog.model("Tag").indexes] == ["Tag_name_key", "Tag_slug_key"]
    assert [(i.kind, i.db_name) for i in blog.model("UserSession").indexes] == [
        ("unique", "user_sessions_token_key"),
        ("normal", "user_sessions_userId_idx"),
    ]


def test_primary_key_names_on_postgresql_and_sqlite(blog: Schema) -> None:
    pk = blog.model("User").primary_key
    assert pk is not None
    assert (pk.db_name, pk.fields) == ("users_pkey", (IndexField("id", "id"),))
    post_pk = blog.model("Post").primary_key
    assert post_pk is not None
    assert post_pk.db_name == "Post_pkey"
    on_sqlite = blog_on("sqlite")
    assert on_sqlite.provider == "sqlite"
    assert all(m.primary_key is not None for m in on_sqlite.models)
    assert [m.primary_key.db_name for m in on_sqlite.models if m.primary_key] == [None] * 7
    # Other constraint names do not change with the provider.
    assert on_sqlite.model("Post").foreign_keys[0].db_name == "Post_authorId_fkey"


def test_defaults(blog: Schema) -> None:
    user = blog.model("User")
    assert user.field("id").default == DefaultValue("function", name="uuid", args=(4,))
    assert user.field("role").default == DefaultValue("literal", value="USER")
    assert user.field("createdAt").default == DefaultValue("function", name="now")
    assert blog.model("UserSession").field("id").default == DefaultValue(
        "function", name="cuid", args=(1,)
    )
    post = blog.model("Post")
    assert post.field("id").default == DefaultValue("function", name="autoincrement")
    assert post.field("id").is_autoincrement
    assert post.field("status").default == DefaultValue("literal", value="DRAFT")
    assert post.field("views").default == DefaultValue("literal", value=0)
    assert blog.model("UserProfile").field("preferences").default == DefaultValue(
        "literal", value="{}"
    )
    assert user.field("name").default is None


def test_updated_at_and_field_kinds(blog: Schema) -> None:
    user = blog.model("User")
    assert user.field("updatedAt").is_updated_at
    assert not user.field("createdAt").is_updated_at
    assert [(f.name, f.kind, f.type, f.is_required, f.is_list) for f in user.fields] == [
        ("id", "scalar", "String", True, False),
        ("email", "scalar", "String", True, False),
        ("name", "scalar", "String", False, False),
        ("role", "enum", "Role", True, False),
        ("profile", "object", "UserProfile", False, False),
        ("sessions", "object", "UserSession", True, True),
        ("posts", "object", "Post", True, True),
        ("comments", "object", "Comment", True, True),
        ("createdAt", "scalar", "DateTime", True, False),
        ("updatedAt", "scalar", "DateTime", True, False),
    ]
    assert user.field("id").is_id and user.field("email").is_unique


def test_documentation(blog: Schema) -> None:
    assert blog.model("User").documentation == "A person who can sign in."
    assert blog.model("Post").documentation is None


def test_documentation_from_several_lines_and_fields() -> None:
    schema = validate_schema_text(
        'datasource db {\n  provider = "sqlite"\n}\n'
        "/// First line.\n///   Second line.  \nmodel A {\n  /// The key.\n  id Int @id\n"
        "  /* Block doc. */\n  n  Int\n}\n"
    )
    model = schema.model("A")
    assert model.documentation == "First line.\nSecond line."
    assert model.field("id").documentation == "The key."
    assert model.field("n").documentation == "Block doc."


def test_ir_is_frozen(blog: Schema) -> None:
    user = blog.model("User")
    with pytest.raises(dataclasses.FrozenInstanceError):
        user.db_name = "people"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        user.field("id").name = "key"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        blog.relations[0].on_delete = ReferentialAction.NO_ACTION  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        blog.models = ()  # type: ignore[misc]
    assert isinstance(blog.models, tuple) and isinstance(user.fields, tuple)


LONG_TABLE = "AVeryLong" + "VeryLong" * 7 + "TableName"  # 74 characters


def _long(provider: str) -> Schema:
    return validate_schema_text(
        f'datasource db {{\n  provider = "{provider}"\n}}\n\n'
        f"model {LONG_TABLE} {{\n  id   Int @id\n  some Int\n\n  @@index([some])\n}}\n"
    )


def test_long_index_name_is_trimmed_to_63_on_postgresql() -> None:
    model = _long("postgresql").models[0]
    (index,) = model.indexes
    # As Prisma does: `{table}_{columns}` cut to leave room for `_idx`.
    assert index.db_name == f"{LONG_TABLE}_some"[:59] + "_idx"
    assert len(index.db_name) == 63
    assert index.db_name.startswith("AVeryLongVeryLong")
    assert model.primary_key is not None
    assert model.primary_key.db_name == LONG_TABLE[:58] + "_pkey"
    assert len(model.primary_key.db_name) == 63


def test_long_index_name_is_kept_on_sqlite() -> None:
    (index,) = _long("sqlite").models[0].indexes
    assert index.db_name == f"{LONG_TABLE}_some_idx"


def test_blog_is_portable(blog: Schema) -> None:
    assert blog.is_portable


def test_native_type_is_not_portable() -> None:
    text = BLOG.read_text().replace(
        "  name      String?\n", "  name      String?       @db.VarChar(100)\n"
    )
    schema = validate_schema_text(text)
    assert schema.model("User").field("name").native_type is not None
    assert schema.model("User").field("name").native_type.name == "VarChar"  # type: ignore[union-attr]
    assert schema.model("User").field("name").native_type.args == ("100",)  # type: ignore[union-attr]
    assert not schema.is_portable


def test_scalar_list_is_not_portable() -> None:
    text = BLOG.read_text().replace(
        "  name      String?\n", "  name      String?\n  aliases String[]\n"
    )
    schema = validate_schema_text(text)
    assert schema.model("User").field("aliases").is_list
    assert not schema.is_portable


def test_packaged_demo_is_the_shared_blog(blog: Schema) -> None:
    shared = load_schema(SHARED_COPIES / "blog.prisma")
    assert shared.models == blog.models
    assert shared.relations == blog.relations
    assert shared.enums == blog.enums


# -- shop ------------------------------------------------------------------------------


def test_shop_on_sqlite(shop: Schema) -> None:
    assert shop.provider == "sqlite"
    assert [m.name for m in shop.models] == [
        "Customer",
        "Category",
        "Product",
        "Collection",
        "ProductCollection",
        "Order",
        "OrderItem",
    ]
    assert all(m.db_name == m.name for m in shop.models)
    assert all(m.primary_key is not None and m.primary_key.db_name is None for m in shop.models)
    assert shop.join_tables == ()
    assert shop.is_portable


def test_shop_compound_id_and_explicit_many_to_many(shop: Schema) -> None:
    link = shop.model("ProductCollection")
    assert link.primary_key is not None
    assert [f.name for f in link.primary_key.fields] == ["productId", "collectionId"]
    assert [(fk.db_name, fk.on_delete) for fk in link.foreign_keys] == [
        ("ProductCollection_productId_fkey", ReferentialAction.CASCADE),
        ("ProductCollection_collectionId_fkey", ReferentialAction.CASCADE),
    ]
    kinds = {r.name: r.kind for r in shop.relations}
    assert kinds["ProductToProductCollection"] == "one_to_many"
    assert kinds["CollectionToProductCollection"] == "one_to_many"


def test_shop_actions_and_names(shop: Schema) -> None:
    actions = {r.name: r.on_delete for r in shop.relations}
    assert actions == {
        "CustomerToOrder": ReferentialAction.RESTRICT,
        "Subcategories": ReferentialAction.SET_NULL,
        "CategoryToProduct": ReferentialAction.RESTRICT,  # written
        "OrderItemToProduct": ReferentialAction.RESTRICT,
        "ProductToProductCollection": ReferentialAction.CASCADE,
        "CollectionToProductCollection": ReferentialAction.CASCADE,
        "OrderToOrderItem": ReferentialAction.CASCADE,
    }
    (unique,) = shop.model("OrderItem").indexes
    assert (unique.kind, unique.db_name, [f.name for f in unique.fields]) == (
        "unique",
        "OrderItem_orderId_productId_key",
        ["orderId", "productId"],
    )
    assert [i.db_name for i in shop.model("Order").indexes] == ["Order_customerId_createdAt_idx"]
    assert shop.model("Product").field("price").type == "Decimal"


_EXTENSIONS_GENERATOR = (
    'generator client {\n  provider        = "prisma-client-js"\n'
    '  previewFeatures = ["postgresqlExtensions"]\n}\n'
)


def test_datasource_extensions_are_structured() -> None:
    schema = validate_schema_text(
        _EXTENSIONS_GENERATOR + 'datasource db {\n  provider   = "postgresql"\n'
        '  extensions = [citext, uuidOssp(map: "uuid-ossp", schema: "ext", version: "1.1")]\n}\n'
    )
    assert schema.datasource is not None
    assert schema.datasource.extensions == (
        Extension("citext", "citext"),
        Extension("uuidOssp", "uuid-ossp", "ext", "1.1"),
    )


def test_extension_with_an_unknown_argument_is_an_error() -> None:
    with pytest.raises(SchemaError) as caught:
        validate_schema_text(
            _EXTENSIONS_GENERATOR + 'datasource db {\n  provider   = "postgresql"\n'
            '  extensions = [citext(owner: "me")]\n}\n'
        )
    (error,) = caught.value.diagnostics
    assert error.message == 'unexpected argument "me" for extension `citext`'
    assert error.span is not None and (error.span.line, error.span.column) == (7, 24)


def test_extensions_need_the_preview_feature() -> None:
    with pytest.raises(SchemaError) as caught:
        validate_schema_text(
            'datasource db {\n  provider = "postgresql"\n  extensions = [citext]\n}\n'
        )
    (error,) = caught.value.diagnostics
    assert error.message == "`extensions` needs the `postgresqlExtensions` preview feature"
