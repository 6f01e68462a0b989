# mypy: ignore-errors
# Tortoise ORM lives in bench/.peers, outside the venv mypy checks against, so its
# classes are Any to mypy; this module only declares them, tortoise_orm.py uses them.
"""Tortoise ORM models for the blog tables (``users``, ``Post``, ``Comment``, ``Tag``, ``Category``)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class User(Model):
    id = fields.CharField(primary_key=True, max_length=36)
    email = fields.CharField(max_length=255)

    class Meta:
        table = "users"


class Post(Model):
    id = fields.IntField(primary_key=True)
    author = fields.ForeignKeyField("models.User", related_name="posts", source_field="authorId")
    categoryId = fields.IntField(null=True)
    title = fields.TextField()
    content = fields.TextField()
    status = fields.CharField(max_length=16)
    views = fields.IntField()
    publishedAt = fields.DatetimeField(null=True)
    createdAt = fields.DatetimeField()
    updatedAt = fields.DatetimeField()
    # Prisma's implicit m:n table: "A" is the Post (first by name), "B" the Tag.
    tags = fields.ManyToManyField(
        "models.Tag", through="_PostToTag", forward_key="B", backward_key="A", related_name="posts"
    )

    class Meta:
        table = "Post"


class Tag(Model):
    id = fields.IntField(primary_key=True)
    name = fields.TextField()
    slug = fields.TextField()

    class Meta:
        table = "Tag"


class Category(Model):
    id = fields.IntField(primary_key=True)
    name = fields.TextField()
    slug = fields.CharField(max_length=255, unique=True)
    parentId = fields.IntField(null=True)

    class Meta:
        table = "Category"


class Comment(Model):
    id = fields.IntField(primary_key=True)
    post = fields.ForeignKeyField("models.Post", related_name="comments", source_field="postId")
    authorId = fields.CharField(max_length=36)
    parentId = fields.IntField(null=True)
    content = fields.TextField()
    createdAt = fields.DatetimeField()

    class Meta:
        table = "Comment"
