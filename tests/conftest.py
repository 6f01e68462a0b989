"""Loads datatier's test harness (fixtures ``pg_url``, ``redis_url``, ``sqlite_url``, ``sql_backend``)."""

pytest_plugins = ["tests.harness.plugin"]
