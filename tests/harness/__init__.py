"""datatier's test harness: real PostgreSQL and Redis servers, fresh databases per test, backend contracts.

The fixtures live in ``tests.harness.plugin`` (loaded by ``tests/conftest.py``);
the modules here hold the plain functions and types those fixtures are built from.
"""
