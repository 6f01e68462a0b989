"""Migrations: compare a schema with a live database, then render and apply the changes."""
