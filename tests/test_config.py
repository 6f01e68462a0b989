"""Configuration sources and their precedence, schema lookup, URL resolution and provider rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from datatier.config import (
    Config,
    check_provider,
    find_schema,
    load_config,
    mask_url,
    provider_for_url,
    resolve_url,
)
from datatier.errors import ConfigError, ProviderMismatch, SchemaNotFound
from datatier.schema._ir import UrlSource


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- load_config: sources and precedence -------------------------------------------------


def test_no_sources_gives_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path, {})
    assert config.schema is None
    assert config.url is None
    assert dict(config.extra) == {}


def test_pyproject_tool_table_is_read(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.datatier]\nurl = "postgresql://h/db"\n')
    config = load_config(tmp_path, {})
    assert config.url == "postgresql://h/db"
    assert config.origin["url"] == str(tmp_path / "pyproject.toml")


def test_pyproject_without_datatier_table_is_ignored(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.ruff]\nline-length = 1\n')
    assert load_config(tmp_path, {}).url is None


def test_datatier_toml_wins_over_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.datatier]\nurl = "postgresql://py/db"\nschema = "a.prisma"\n')
    write(tmp_path / "datatier.toml", 'url = "postgresql://toml/db"\n')
    config = load_config(tmp_path, {})
    assert config.url == "postgresql://toml/db"
    assert config.schema == tmp_path / "a.prisma"  # keys not in datatier.toml still come from pyproject


def test_environment_wins_over_files(tmp_path: Path) -> None:
    write(tmp_path / "datatier.toml", 'url = "postgresql://toml/db"\nschema = "a.prisma"\n')
    env = {"DATABASE_URL": "postgresql://env/db", "DATATIER_SCHEMA": "env/schema.prisma"}
    config = load_config(tmp_path, env)
    assert config.url == "postgresql://env/db"
    assert config.schema == tmp_path / "env" / "schema.prisma"
    assert config.origin == {"url": "DATABASE_URL", "schema": "DATATIER_SCHEMA"}


def test_empty_environment_variables_count_as_unset(tmp_path: Path) -> None:
    write(tmp_path / "datatier.toml", 'url = "postgresql://toml/db"\n')
    assert load_config(tmp_path, {"DATABASE_URL": "", "DATATIER_SCHEMA": ""}).url == "postgresql://toml/db"


def test_flags_win_over_everything(tmp_path: Path) -> None:
    write(tmp_path / "datatier.toml", 'url = "postgresql://toml/db"\nschema = "a.prisma"\n')
    env = {"DATABASE_URL": "postgresql://env/db", "DATATIER_SCHEMA": "env.prisma"}
    config = load_config(tmp_path, env, schema="flag.prisma", url="file:flag.db")
    assert config.url == "file:flag.db"
    assert config.schema == tmp_path / "flag.prisma"
    assert config.origin == {"url": "--url", "schema": "--schema"}


def test_relative_schema_in_config_file_is_relative_to_that_file(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / "datatier.toml", 'schema = "../shared/schema.prisma"\n')
    assert load_config(project, {}).schema == tmp_path / "shared" / "schema.prisma"


def test_absolute_schema_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "s.prisma"
    assert load_config(tmp_path / "cwd", {}, schema=str(target)).schema == target


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(tmp_path, {})
    with pytest.raises(AttributeError):
        config.url = "x"  # type: ignore[misc]


# --- config file errors --------------------------------------------------------------------


def test_unknown_key_names_file_and_suggests_near_miss(tmp_path: Path) -> None:
    path = write(tmp_path / "datatier.toml", 'shema = "x.prisma"\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, {})
    assert str(path) in info.value.message
    assert "'shema'" in info.value.message
    assert "did you mean 'schema'?" in info.value.message


def test_unknown_key_without_near_miss_lists_known_keys(tmp_path: Path) -> None:
    write(tmp_path / "datatier.toml", "colour = 1\n")
    with pytest.raises(ConfigError, match=r"known keys: cache, schema, seed, server, url"):
        load_config(tmp_path, {})


def test_unknown_key_in_pyproject_is_named_with_its_table(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[tool.datatier]\nulr = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, {})
    assert info.value.message.startswith(f"{path}: unknown key tool.datatier.'ulr'")
    assert "did you mean 'url'?" in info.value.message


@pytest.mark.parametrize(
    ("text", "key", "got"),
    [("url = 5\n", "url", "int"), ("schema = true\n", "schema", "bool"), ("[url]\nx = 1\n", "url", "dict")],
)
def test_wrong_value_type_names_file_key_and_type(tmp_path: Path, text: str, key: str, got: str) -> None:
    path = write(tmp_path / "datatier.toml", text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, {})
    assert info.value.message == f"{path}: {key} must be a string, not {got}"


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "datatier.toml", "url = \n")
    with pytest.raises(ConfigError, match=r"not valid TOML") as info:
        load_config(tmp_path, {})
    assert str(path) in info.value.message


def test_tool_datatier_that_is_not_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool]\ndatatier = "x"\n')
    with pytest.raises(ConfigError, match=r"\[tool\.datatier\] must be a table"):
        load_config(tmp_path, {})


def test_config_error_has_stable_code() -> None:
    assert ConfigError.code == "config_invalid"
    assert ProviderMismatch.code == "provider_mismatch"


# --- find_schema ---------------------------------------------------------------------------


def test_find_schema_prefers_root_schema_file(tmp_path: Path) -> None:
    write(tmp_path / "schema.prisma", "")
    write(tmp_path / "prisma" / "schema.prisma", "")
    assert find_schema(Config(), tmp_path) == tmp_path / "schema.prisma"


def test_find_schema_falls_back_to_prisma_folder(tmp_path: Path) -> None:
    write(tmp_path / "prisma" / "schema.prisma", "")
    assert find_schema(Config(), tmp_path) == tmp_path / "prisma" / "schema.prisma"


def test_find_schema_explicit_value_wins(tmp_path: Path) -> None:
    write(tmp_path / "schema.prisma", "")
    other = write(tmp_path / "db" / "main.prisma", "")
    config = load_config(tmp_path, {}, schema="db/main.prisma")
    assert find_schema(config, tmp_path) == other


def test_find_schema_accepts_a_folder_of_prisma_files(tmp_path: Path) -> None:
    write(tmp_path / "models" / "user.prisma", "")
    config = load_config(tmp_path, {}, schema="models")
    assert find_schema(config, tmp_path) == tmp_path / "models"


def test_find_schema_rejects_a_folder_without_prisma_files(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SchemaNotFound, match=r"from --schema"):
        find_schema(load_config(tmp_path, {}, schema="empty"), tmp_path)


def test_find_schema_missing_explicit_names_its_source(tmp_path: Path) -> None:
    config = load_config(tmp_path, {"DATATIER_SCHEMA": "nope.prisma"})
    with pytest.raises(SchemaNotFound) as info:
        find_schema(config, tmp_path)
    assert str(tmp_path / "nope.prisma") in info.value.message
    assert "DATATIER_SCHEMA" in info.value.message


def test_find_schema_missing_lists_places_and_suggests_flag(tmp_path: Path) -> None:
    with pytest.raises(SchemaNotFound) as info:
        find_schema(Config(), tmp_path)
    message = info.value.message
    assert str(tmp_path / "schema.prisma") in message
    assert str(tmp_path / "prisma" / "schema.prisma") in message
    assert "--schema" in message
    assert info.value.code == "schema_not_found"


# --- resolve_url ---------------------------------------------------------------------------


PG = "postgresql://u@h/db"


def test_url_flag_wins(tmp_path: Path) -> None:
    config = load_config(tmp_path, {"DATABASE_URL": "postgresql://env/db"}, url="postgresql://flag/db")
    source = UrlSource(value="postgresql://schema/db")
    assert resolve_url(config, {"DATABASE_URL": "postgresql://env/db"}, source, tmp_path / "s.prisma") == (
        "postgresql://flag/db"
    )


def test_database_url_wins_over_config_file_and_datasource(tmp_path: Path) -> None:
    write(tmp_path / "datatier.toml", 'url = "postgresql://file/db"\n')
    env = {"DATABASE_URL": "postgresql://env/db"}
    config = load_config(tmp_path, env)
    assert resolve_url(config, env, UrlSource(value=PG), tmp_path / "s.prisma") == "postgresql://env/db"


def test_database_url_is_honoured_even_when_config_built_without_env(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://env/db"}
    assert resolve_url(Config(), env, UrlSource(value=PG), tmp_path / "s.prisma") == "postgresql://env/db"


def test_config_file_wins_over_datasource(tmp_path: Path) -> None:
    write(tmp_path / "datatier.toml", 'url = "postgresql://file/db"\n')
    config = load_config(tmp_path, {})
    assert resolve_url(config, {}, UrlSource(value=PG), tmp_path / "s.prisma") == "postgresql://file/db"


def test_datasource_literal_is_last(tmp_path: Path) -> None:
    assert resolve_url(Config(), {}, UrlSource(value=PG), tmp_path / "s.prisma") == PG


def test_datasource_env_is_resolved(tmp_path: Path) -> None:
    env = {"MY_DB": "postgresql://from/env"}
    assert resolve_url(Config(), env, UrlSource(env="MY_DB"), tmp_path / "s.prisma") == "postgresql://from/env"


def test_datasource_env_missing_names_variable_and_line(tmp_path: Path) -> None:
    schema = tmp_path / "schema.prisma"
    with pytest.raises(ConfigError) as info:
        resolve_url(Config(), {}, UrlSource(env="MY_DB"), schema, datasource_line=3)
    message = info.value.message
    assert message.startswith(f"{schema}:3: environment variable MY_DB is not set")
    assert 'env("MY_DB")' in message


def test_datasource_env_missing_without_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"environment variable MY_DB is not set"):
        resolve_url(Config(), {}, UrlSource(env="MY_DB"), tmp_path / "s.prisma")


def test_datasource_env_empty_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"MY_DB is empty"):
        resolve_url(Config(), {"MY_DB": " "}, UrlSource(env="MY_DB"), tmp_path / "s.prisma")


@pytest.mark.parametrize("source", [None, UrlSource()])
def test_no_url_anywhere_says_how_to_give_one(tmp_path: Path, source: UrlSource | None) -> None:
    with pytest.raises(ConfigError, match=r"no database URL: pass --url, set DATABASE_URL"):
        resolve_url(Config(), {}, source, tmp_path / "s.prisma")


@pytest.mark.parametrize(
    ("url", "relative"),
    [
        ("file:./dev.db", "dev.db"),
        ("file:dev.db", "dev.db"),
        ("file:../data/dev.db", "../data/dev.db"),
        ("sqlite:dev.db", "dev.db"),
        ("sqlite:///dev.db", "dev.db"),
    ],
)
def test_relative_sqlite_path_is_relative_to_schema_file(tmp_path: Path, url: str, relative: str) -> None:
    schema = write(tmp_path / "prisma" / "schema.prisma", "")
    expected = Path(os.path.normpath(tmp_path / "prisma" / relative))
    assert resolve_url(Config(), {}, UrlSource(value=url), schema) == f"file:{expected.as_posix()}"


def test_relative_sqlite_path_in_folder_schema_is_relative_to_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "schema"
    write(folder / "a.prisma", "")
    assert resolve_url(Config(), {}, UrlSource(value="file:dev.db"), folder) == f"file:{folder}/dev.db"


def test_relative_sqlite_url_from_any_source_follows_the_schema(tmp_path: Path) -> None:
    schema = tmp_path / "prisma" / "schema.prisma"
    config = load_config(tmp_path, {}, url="file:./x.db")
    assert resolve_url(config, {}, None, schema) == f"file:{tmp_path}/prisma/x.db"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("file:/abs/dev.db", "/abs/dev.db"),
        ("file:///abs/dev.db", "/abs/dev.db"),
        ("file://localhost/abs/dev.db", "/abs/dev.db"),
        ("sqlite:////abs/dev.db", "/abs/dev.db"),
        ("sqlite:/abs/dev.db", "/abs/dev.db"),
        ("FILE:/abs/dev.db", "/abs/dev.db"),
    ],
)
def test_absolute_sqlite_spellings_are_normalized(tmp_path: Path, url: str, path: str) -> None:
    assert resolve_url(Config(url=url), {}, None, tmp_path / "s.prisma") == f"file:{path}"


def test_sqlite_query_string_is_kept(tmp_path: Path) -> None:
    url = "file:./dev.db?connection_limit=1&mode=rwc"
    result = resolve_url(Config(url=url), {}, None, tmp_path / "s.prisma")
    assert result == f"file:{tmp_path}/dev.db?connection_limit=1&mode=rwc"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "file::memory:", "file::memory:?cache=shared"])
def test_in_memory_sqlite(tmp_path: Path, url: str) -> None:
    result = resolve_url(Config(url=url), {}, None, tmp_path / "s.prisma")
    assert result.startswith("file::memory:")


def test_sqlite_url_with_a_host_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot name a host \('server'\)"):
        resolve_url(Config(url="file://server/share/x.db"), {}, None, tmp_path / "s.prisma")


def test_postgres_url_is_returned_unchanged(tmp_path: Path) -> None:
    url = "postgres://u:p@h:5433/db?sslmode=disable"
    assert resolve_url(Config(url=url), {}, None, tmp_path / "s.prisma") == url


def test_unsupported_url_scheme_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"scheme 'mongodb'"):
        resolve_url(Config(url="mongodb://h/db"), {}, None, tmp_path / "s.prisma")


# --- provider rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("postgresql://h/db", "postgresql"),
        ("postgres://h/db", "postgresql"),
        ("POSTGRESQL://h/db", "postgresql"),
        ("file:./dev.db", "sqlite"),
        ("sqlite:///dev.db", "sqlite"),
        ("mysql://h/db", "mysql"),
    ],
)
def test_provider_for_url(url: str, provider: str) -> None:
    assert provider_for_url(url) == provider


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mongodb://u:secret@h/db", "scheme 'mongodb'"),
        ("sqlserver://h", "scheme 'sqlserver'"),
        ("localhost/db", "no scheme"),
        ("", "no scheme"),
    ],
)
def test_provider_for_bad_url(url: str, shown: str) -> None:
    with pytest.raises(ConfigError) as info:
        provider_for_url(url)
    message = info.value.message
    assert shown in message
    assert "accepted: postgresql:, postgres:, file:, sqlite:, mysql:" in message
    assert "secret" not in message


@pytest.mark.parametrize(
    ("declared", "url", "runs_on"),
    [
        ("postgresql", "postgresql://h/db", "postgresql"),
        ("postgres", "postgres://h/db", "postgresql"),
        ("sqlite", "file:dev.db", "sqlite"),
        ("mysql", "mysql://h/db", "mysql"),
    ],
)
def test_matching_provider_runs_even_when_not_portable(declared: str, url: str, runs_on: str) -> None:
    assert check_provider(declared, False, url) == runs_on


@pytest.mark.parametrize(
    ("declared", "url", "runs_on"),
    [
        ("postgresql", "file:dev.db", "sqlite"),
        ("sqlite", "postgresql://h/db", "postgresql"),
        ("sqlite", "postgres://h/db", "postgresql"),
        ("mysql", "file:dev.db", "sqlite"),
    ],
)
def test_portable_schema_runs_where_the_url_points(declared: str, url: str, runs_on: str) -> None:
    assert check_provider(declared, True, url) == runs_on


def test_provider_specific_schema_on_another_database_is_a_mismatch() -> None:
    with pytest.raises(ProviderMismatch) as info:
        check_provider("postgresql", False, "file:/tmp/dev.db")
    message = info.value.message
    assert 'declares provider "postgresql"' in message
    assert "file:/tmp/dev.db is a sqlite URL" in message
    assert "provider-specific features (native types or scalar lists)" in message


def test_mismatch_masks_the_password() -> None:
    with pytest.raises(ProviderMismatch) as info:
        check_provider("sqlite", False, "postgresql://admin:hunter2@db.example/app")
    assert "hunter2" not in info.value.message
    assert "postgresql://admin:***@db.example/app" in info.value.message


def test_portable_schema_still_cannot_run_on_mysql_unless_declared() -> None:
    with pytest.raises(ProviderMismatch, match=r'provider = "mysql"'):
        check_provider("postgresql", True, "mysql://h/db")


def test_check_provider_rejects_unsupported_urls() -> None:
    with pytest.raises(ConfigError, match=r"scheme 'redis'"):
        check_provider("postgresql", True, "redis://h")


# --- mask_url ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u:p%40ss@h/db?sslmode=require", "postgresql://u:***@h/db?sslmode=require"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://u:@h/db", "postgresql://u:@h/db"),
        ("postgresql://h/db?user=u&password=pw&x=1", "postgresql://h/db?user=u&password=***&x=1"),
        ("redis://:secret@h:6379/0", "redis://:***@h:6379/0"),
        ("file:/tmp/dev.db", "file:/tmp/dev.db"),
        ("host=h password=pw dbname=d", "host=h password=*** dbname=d"),
        ("not a url", "not a url"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
