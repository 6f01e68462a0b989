"""Migrations: compare a schema with a live database, then render and apply the changes."""

from datatier.migrate._commands import (
    DeployReport,
    Project,
    ResetReport,
    StatusReport,
    deploy,
    open_project,
    reset,
    resolve,
    run_seed,
    status,
)
from datatier.migrate._dev import DevReport, DiffSource, dev, diff
from datatier.migrate._history import MigrationError
from datatier.migrate._introspect import EmptyDatabase, introspect, pull_schema_text
from datatier.migrate._plan import (
    DataLossCheck,
    InvalidRename,
    MigrationPlan,
    MigrationStep,
    RenameCandidate,
    plan_migration,
)
from datatier.migrate._push import DataLossError, PushReport, push
from datatier.migrate._rollback import RollbackReport, rollback

__all__ = [
    "DataLossCheck",
    "DataLossError",
    "DeployReport",
    "DevReport",
    "DiffSource",
    "EmptyDatabase",
    "InvalidRename",
    "MigrationError",
    "MigrationPlan",
    "MigrationStep",
    "Project",
    "PushReport",
    "RenameCandidate",
    "ResetReport",
    "RollbackReport",
    "StatusReport",
    "deploy",
    "dev",
    "diff",
    "introspect",
    "open_project",
    "plan_migration",
    "pull_schema_text",
    "push",
    "reset",
    "resolve",
    "rollback",
    "run_seed",
    "status",
]
