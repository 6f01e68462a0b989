# mypy: ignore-errors
# Piccolo lives in bench/.peers, outside the venv mypy checks against, so its classes are
# Any to mypy; this module only declares them, piccolo_orm.py uses them.
"""Piccolo tables for the blog (``users``, ``Post``, ``Comment``, ``_PostToTag``, ``Category``), bound to one engine."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamp, Varchar
from piccolo.table import Table


def make_tables(engine: Any) -> SimpleNamespace:
    """The blog's tables, bound to ``engine`` (Piccolo binds a table to its engine when declared)."""

    class User(Table, tablename="users", db=engine):
        id = Varchar(primary_key=True)
        email = Varchar()

    class Post(Table, tablename="Post", db=engine):
        id = Serial(primary_key=True)
        authorId = ForeignKey(references=User)
        categoryId = Integer(null=True, default=None)
        title = Text()
        content = Text()
        status = Varchar()
        views = Integer()
        publishedAt = Timestamp(null=True, default=None)
        createdAt = Timestamp()
        updatedAt = Timestamp()

    class Comment(Table, tablename="Comment", db=engine):
        id = Serial(primary_key=True)
        postId = ForeignKey(references=Post)
        authorId = Varchar()
        parentId = Integer(null=True, default=None)
        content = Text()
        createdAt = Timestamp()

    # Piccolo wants a primary key column; the link table's "A" stands in for the pair.
    class PostToTag(Table, tablename="_PostToTag", db=engine):
        A = Integer(primary_key=True)
        B = Integer()

    class Category(Table, tablename="Category", db=engine):
        id = Serial(primary_key=True)
        name = Text()
        slug = Text()
        parentId = Integer(null=True, default=None)

    return SimpleNamespace(
        User=User, Post=Post, Comment=Comment, PostToTag=PostToTag, Category=Category
    )
