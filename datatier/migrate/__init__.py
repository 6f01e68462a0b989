"""Migrations: compare a schema with a live database, then render and apply the changes."""

from datatier.migrate._introspect import EmptyDatabase, introspect, pull_schema_text

__all__ = ["EmptyDatabase", "introspect", "pull_schema_text"]
