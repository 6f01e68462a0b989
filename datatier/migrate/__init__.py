"""Migrations: compare a schema with a live database, then render and apply the changes."""

from datatier.migrate._introspect import EmptyDatabase, introspect, pull_schema_text
from datatier.migrate._plan import (
    DataLossCheck,
    InvalidRename,
    MigrationPlan,
    MigrationStep,
    RenameCandidate,
    plan_migration,
)

__all__ = [
    "DataLossCheck",
    "EmptyDatabase",
    "InvalidRename",
    "MigrationPlan",
    "MigrationStep",
    "RenameCandidate",
    "introspect",
    "plan_migration",
    "pull_schema_text",
]
