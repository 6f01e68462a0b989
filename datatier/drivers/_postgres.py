"""The PostgreSQL driver: asyncpg connections in datatier's own pool, errors as datatier errors.

Built for the by-id read: a statement is one ``Bind/Execute`` round trip on a statement
asyncpg prepared the first time it saw the SQL text (its per-connection statement
cache), rows are asyncpg ``Record`` objects returned as they come (sequences, no
per-row copy), and with no listener registered no clock is read.

Measured here (PostgreSQL 15 on the same host; 2 CPUs shared with other work at a load
of ~4, so absolute numbers are noisy; 40 interleaved batches of 300 calls of
``SELECT id, name, email, created FROM t WHERE id = $1``, µs per call, min / median):

- raw asyncpg, explicit ``PreparedStatement.fetch``      90 / 116
- raw asyncpg, ``Connection.fetch`` (statement cache)    94 / 120
- this driver, ``conn.fetch`` on a held connection       96 / 122
- this driver, pool lease + ``conn.fetch``               98 / 123   (lease alone: 1.4 µs)

So the driver calls ``Connection.fetch`` and lets asyncpg's statement cache hold the
prepared statements: an explicit prepare is no faster, and asyncpg's cache already
re-prepares a statement that a schema change invalidated, which a dict of our own would
have to redo. A transaction is BEGIN and COMMIT as plain simple-protocol statements, one
round trip each, as asyncpg's ``Transaction`` does (measured equal: 301 / 473 µs against
366 / 482 µs for a transaction around the read above).

Session settings (``search_path`` from Prisma's ``?schema=``, ``statement_timeout``,
``DateStyle``) go in the startup packet, so a new connection costs no extra round trip for
them. json and jsonb come back as text (asyncpg's default codec), which the engine parses
itself.

``timestamp`` and ``timestamptz`` travel as text and come back as aware datetimes in UTC
(a ``timestamp`` holds UTC, as Prisma stores it). asyncpg's binary decoder builds each
value from a timedelta (0.44 µs here); ``datetime.fromisoformat`` on the text takes 0.11
µs, and the engine then needs no conversion of its own: a page of 50 posts with three
timestamps each decodes about 100 µs faster. A parameter for a ``timestamp`` is written
in UTC (an aware datetime is converted, a naive one is taken as UTC).
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Sequence
from datetime import UTC, date, datetime
from time import perf_counter
from types import TracebackType
from typing import Any, Literal, cast

import asyncpg

from datatier.drivers._pool import Pool, PooledDriver
from datatier.drivers._protocol import (
    IsolationLevel,
    Row,
    StatementEvent,
    StatementListener,
)
from datatier.drivers._url import PostgresTarget
from datatier.errors import (
    ConnectionFailed,
    ConnectionLost,
    DatatierError,
    ForeignKeyViolation,
    NullViolation,
    QueryError,
    QueryTimeout,
    TransactionConflict,
    UniqueViolation,
)

__all__ = ["PostgresConnection", "PostgresDriver", "set_timestamp_codecs"]

# The engine's statements with nested includes are long; asyncpg would not cache a
# statement over 15 KiB by default and would re-parse it on every call.
_MAX_CACHED_STATEMENT = 256 * 1024
_STATEMENT_CACHE_SIZE = 1024

_BEGIN: dict[IsolationLevel | None, str] = {
    None: "BEGIN",
    "read_uncommitted": "BEGIN ISOLATION LEVEL READ UNCOMMITTED",
    "read_committed": "BEGIN ISOLATION LEVEL READ COMMITTED",
    "repeatable_read": "BEGIN ISOLATION LEVEL REPEATABLE READ",
    "serializable": "BEGIN ISOLATION LEVEL SERIALIZABLE",
}


class PostgresDriver(PooledDriver["PostgresConnection"]):
    """A pool of asyncpg connections to one PostgreSQL database."""

    provider: Literal["postgresql", "sqlite"] = "postgresql"

    def __init__(
        self,
        target: PostgresTarget,
        *,
        pool_size: int,
        acquire_timeout: float,
        statement_timeout: float | None,
        connect_timeout: float,
    ) -> None:
        self._target = target
        self._statement_timeout = statement_timeout
        self._connect_timeout = connect_timeout
        self._listeners: list[StatementListener] = []
        # ISO is the text that the timestamp decoders read (and PostgreSQL's default)
        settings = {"search_path": _quote_ident(target.schema), "DateStyle": "ISO, YMD"}
        if statement_timeout is not None:
            settings["statement_timeout"] = str(max(1, round(statement_timeout * 1000)))
        self._settings = settings
        self._pool: Pool[PostgresConnection] = Pool(
            self._open, size=pool_size, timeout=acquire_timeout
        )

    async def _open(self) -> PostgresConnection:
        target = self._target
        try:
            raw = await asyncpg.connect(
                target.dsn,
                timeout=self._connect_timeout,
                server_settings=self._settings,
                # Behind PgBouncer in transaction mode a prepared statement may sit on another
                # server connection next time; asyncpg then prepares unnamed statements.
                statement_cache_size=0 if target.pgbouncer else _STATEMENT_CACHE_SIZE,
                max_cacheable_statement_size=_MAX_CACHED_STATEMENT,
            )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            raise ConnectionFailed(_connect_reason(e, target, self._connect_timeout)) from None
        try:
            await set_timestamp_codecs(raw)
        except BaseException:
            raw.terminate()
            raise
        return PostgresConnection(
            raw,
            self._listeners,
            target.where,
            self._statement_timeout,
            prepare=not target.pgbouncer,
        )


class PostgresConnection:
    """One asyncpg connection: statements, transactions, and errors translated."""

    __slots__ = (
        "_broken",
        "_depth",
        "_listeners",
        "_prepare",
        "_prepared",
        "_raw",
        "_timeout",
        "_where",
    )

    def __init__(
        self,
        raw: asyncpg.Connection,
        listeners: list[StatementListener],
        where: str,
        statement_timeout: float | None,
        *,
        prepare: bool = True,
    ) -> None:
        self._raw = raw
        self._listeners = listeners  # the driver's list, shared: a listener added later counts
        self._where = where
        self._timeout = statement_timeout
        self._depth = 0
        self._broken = False
        self._prepare = prepare
        # SQL text -> its prepared statement on this connection (oldest first, bounded)
        self._prepared: dict[str, Any] = {}

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """All rows of a query, as asyncpg records (sequences indexed by column position).

        Each statement is prepared once per connection and then run through its prepared
        statement object, which skips asyncpg's per-call statement-cache lookup.
        """
        if self._listeners:
            result: list[Row] = await self._observed(_FETCH, sql, args)
            return result
        statement = self._prepared.get(sql)
        try:
            if statement is None:
                if not self._prepare:
                    return cast("list[Row]", await self._raw.fetch(sql, *args))
                statement = await self._prepared_statement(sql)
            return cast("list[Row]", await statement.fetch(*args))
        except (asyncpg.InvalidCachedStatementError, asyncpg.OutdatedSchemaCacheError) as e:
            # The schema changed under the statement (a migration): prepare it again, once,
            # unless a transaction is open (its snapshot would keep failing).
            self._prepared.pop(sql, None)
            if self._raw.is_in_transaction():
                raise self._error(e) from e
            try:
                return cast("list[Row]", await self._raw.fetch(sql, *args))
            except Exception as again:
                raise self._error(again) from again
        except Exception as e:
            raise self._error(e) from e

    async def _prepared_statement(self, sql: str) -> Any:
        prepared = self._prepared
        if len(prepared) >= _STATEMENT_CACHE_SIZE:
            # asyncpg closes the dropped statement on the server once nothing refers to it
            del prepared[next(iter(prepared))]
        statement = prepared[sql] = await self._raw.prepare(sql)
        return statement

    async def fetch_named(
        self, sql: str, args: Sequence[Any] = ()
    ) -> tuple[tuple[str, ...], list[Row]]:
        """The column names and rows of a query (for raw SQL, whose columns nobody knows)."""
        rows = await self.fetch(sql, args)
        names: tuple[str, ...] = tuple(rows[0].keys()) if rows else ()  # type: ignore[attr-defined]
        return names, rows

    async def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        if self._listeners:
            result: Row | None = await self._observed(_FETCH_ONE, sql, args)
            return result
        try:
            return cast("Row | None", await self._raw.fetchrow(sql, *args))
        except Exception as e:
            raise self._error(e) from e

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run a statement (without ``args``, several separated by ``;``); the rows it changed."""
        if self._listeners:
            result: int = await self._observed(_EXECUTE, sql, args)
            return result
        try:
            return _affected(await self._raw.execute(sql, *args))
        except Exception as e:
            raise self._error(e) from e

    async def execute_many(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        """Run one statement per argument tuple, pipelined in one round trip."""
        if self._listeners:
            await self._observed(_EXECUTE_MANY, sql, args)
            return
        try:
            await self._raw.executemany(sql, args)
        except Exception as e:
            raise self._error(e) from e

    def transaction(self, *, isolation_level: IsolationLevel | None = None) -> _Transaction:
        """BEGIN [ISOLATION LEVEL ...] ... COMMIT, or a savepoint inside an open transaction."""
        return _Transaction(self, isolation_level)

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    # -- the pool's side (see _pool.Pooled) --

    def alive(self) -> bool:
        return not self._broken and not self._raw.is_closed()

    def reset(self, *, interrupted: bool) -> bool:
        # Reusable only when it is exactly as the pool handed it out: a connection left
        # inside a transaction or cut off mid-statement would need a round trip to clean.
        return (
            not (interrupted or self._broken or self._depth or self._raw.is_in_transaction())
            and not self._raw.is_closed()
        )

    def discard(self) -> None:
        self._raw.terminate()

    async def aclose(self) -> None:
        try:
            await self._raw.close(timeout=2)
        except Exception:
            self._raw.terminate()

    # -- internals --

    async def _observed(self, kind: int, sql: str, args: Any) -> Any:
        """A statement timed and reported to the listeners (the path taken only when there are some)."""
        raw = self._raw
        start = perf_counter()
        rows = 0
        try:
            if kind == _FETCH:
                result: Any = await raw.fetch(sql, *args)
                rows = len(result)
            elif kind == _FETCH_ONE:
                result = await raw.fetchrow(sql, *args)
                rows = 0 if result is None else 1
            elif kind == _EXECUTE:
                result = rows = _affected(await raw.execute(sql, *args))
            else:
                await raw.executemany(sql, args)
                result = None
        except Exception as e:
            error = self._error(e)
            self._emit(StatementEvent(sql, perf_counter() - start, 0, error))
            raise error from e
        self._emit(StatementEvent(sql, perf_counter() - start, rows))
        return result

    def _emit(self, event: StatementEvent) -> None:
        for listener in self._listeners:
            listener(event)

    async def _control(self, sql: str, during: str) -> None:
        """A transaction control statement (BEGIN, COMMIT, SAVEPOINT ...), reported like any other."""
        start = perf_counter() if self._listeners else 0.0
        try:
            await self._raw.execute(sql)
        except Exception as e:
            error = self._error(e, during)
            if self._listeners:
                self._emit(StatementEvent(sql, perf_counter() - start, 0, error))
            raise error from e
        if self._listeners:
            self._emit(StatementEvent(sql, perf_counter() - start, 0))

    def _error(self, e: Exception, during: str | None = None) -> DatatierError:
        """The datatier error for what asyncpg raised; a lost connection marks this one broken."""
        error = _translate(e, self._timeout)
        if error is None:
            self._broken = True
            if during is not None:
                what = during
            elif self._depth:
                what = "during a transaction" + _ROLLED_BACK
            else:
                what = "during a statement"
            return ConnectionLost(
                f"the connection to PostgreSQL at {self._where} was lost {what} ({_reason(e)})"
            )
        return error


_FETCH, _FETCH_ONE, _EXECUTE, _EXECUTE_MANY = range(4)
_ROLLED_BACK = "; the database rolled the transaction back"


class _Transaction:
    """``async with conn.transaction()``: one round trip to open, one to commit or roll back."""

    __slots__ = ("_conn", "_isolation", "_savepoint")

    def __init__(self, conn: PostgresConnection, isolation: IsolationLevel | None) -> None:
        self._conn = conn
        self._isolation = isolation
        self._savepoint: str | None = None

    async def __aenter__(self) -> None:
        conn = self._conn
        if conn._depth == 0:
            await conn._control(_BEGIN[self._isolation], "while opening a transaction")
        else:
            if self._isolation is not None:
                raise QueryError(
                    "an isolation level can only be set on the outermost transaction, "
                    "not on a nested one (a savepoint)"
                )
            self._savepoint = name = f"datatier_sp_{conn._depth}"
            await conn._control(f"SAVEPOINT {name}", "while opening a savepoint" + _ROLLED_BACK)
        conn._depth += 1

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        name = self._savepoint
        try:
            if conn._broken:
                if exc_type is None:  # the block swallowed the ConnectionLost: still no commit
                    raise ConnectionLost(
                        f"the connection to PostgreSQL at {conn._where} was lost during the "
                        "transaction" + _ROLLED_BACK
                    )
                return
            if exc_type is None:
                if name is None:
                    await conn._control(
                        "COMMIT",
                        "during COMMIT; whether the transaction was committed is unknown",
                    )
                else:
                    await conn._control(
                        f"RELEASE SAVEPOINT {name}", "while releasing a savepoint" + _ROLLED_BACK
                    )
                return
            try:
                if name is None:
                    await conn._control("ROLLBACK", "during ROLLBACK" + _ROLLED_BACK)
                else:
                    await conn._control(
                        f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}",
                        "while rolling back to a savepoint" + _ROLLED_BACK,
                    )
            except DatatierError:
                conn._broken = True  # the block's own error is the one to raise
        finally:
            conn._depth -= 1


# asyncpg raises these for a connection that is gone, or that went away mid-statement.
_LOST_STATES = frozenset({"57P01", "57P02", "57P03"})
_KEY_COLUMNS = re.compile(r"^Key \((.*?)\)=\(", re.DOTALL)


def _translate(e: Exception, statement_timeout: float | None) -> DatatierError | None:
    """The datatier error for an asyncpg error; None when the connection is lost."""
    if isinstance(e, asyncpg.PostgresError):
        state = e.sqlstate or ""
        message = str(e)
        if state.startswith("08") or state in _LOST_STATES:
            return None
        table = getattr(e, "table_name", None)
        constraint = getattr(e, "constraint_name", None)
        if state == "23505":
            columns = _key_columns(getattr(e, "detail", None))
            return UniqueViolation(
                f"unique constraint {constraint} failed on table {table}"
                + (f" (columns {', '.join(columns)})" if columns else ""),
                constraint=constraint,
                table=table,
                columns=columns,
            )
        if state == "23503":
            return ForeignKeyViolation(
                f"foreign key constraint {constraint} failed on table {table}: {message}",
                constraint=constraint,
                table=table,
                columns=_key_columns(getattr(e, "detail", None)),
            )
        if state == "23502":
            return NullViolation(message, table=table, column=getattr(e, "column_name", None))
        if state in ("40001", "40P01"):
            return TransactionConflict(f"{message}; retrying the transaction may succeed")
        if state == "57014":
            if statement_timeout is not None and "statement timeout" in message:
                return QueryTimeout(
                    f"the statement ran longer than the statement timeout of "
                    f"{statement_timeout:g} s and was cancelled"
                )
            return QueryTimeout(message)
        return QueryError(message)
    lost_kinds = OSError | asyncpg.InterfaceError | asyncpg.InternalClientError
    if isinstance(e, lost_kinds) and _is_lost(e):
        return None
    return QueryError(str(e) or type(e).__name__)


def _is_lost(e: Exception) -> bool:
    if isinstance(e, OSError):
        return True
    text = str(e)
    # "cannot switch to state": the server's goodbye (a FATAL error) arrived while the
    # connection was idle and the protocol cannot go on; the socket closes right after.
    return any(s in text for s in ("connection is closed", "was closed", "cannot switch to state"))


def _key_columns(detail: str | None) -> tuple[str, ...]:
    """The columns named in PostgreSQL's ``Key (a, "b")=(...)`` detail, unquoted."""
    match = _KEY_COLUMNS.match(detail or "")
    if match is None:
        return ()
    return tuple(_unquote(c.strip()) for c in match.group(1).split(","))


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name


def _affected(status: str) -> int:
    # asyncpg returns the command tag: "INSERT 0 3", "UPDATE 2", "CREATE TABLE".
    count = status.rpartition(" ")[2]
    return int(count) if count.isdigit() else 0


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:1].lower() + text[1:]


# -- timestamps as text (see the module docstring) --


async def set_timestamp_codecs(raw: asyncpg.Connection) -> None:
    """Read and write ``timestamp``/``timestamptz`` on ``raw`` as datatier's connections do
    (which also start with DateStyle ISO, the text these codecs read)."""
    for name, encode, decode in (
        ("timestamp", _timestamp_to_text, _timestamp_from_text),
        ("timestamptz", _timestamptz_to_text, _timestamptz_from_text),
    ):
        await raw.set_type_codec(
            name, schema="pg_catalog", encoder=encode, decoder=decode, format="text"
        )


def _timestamp_from_text(text: str, _parse: Any = datetime.fromisoformat) -> datetime:
    try:
        moment: datetime = _parse(text + "+00:00")
    except ValueError:
        raise _out_of_range(text) from None
    return moment


def _timestamptz_from_text(
    text: str, _parse: Any = datetime.fromisoformat, _utc: Any = UTC
) -> datetime:
    try:
        moment: datetime = _parse(text)
    except ValueError:
        raise _out_of_range(text) from None
    return moment if moment.tzinfo is _utc else moment.astimezone(_utc)


def _out_of_range(text: str) -> ValueError:
    if not _ISO_DATE.match(text) and text not in ("infinity", "-infinity"):
        return ValueError(
            f"the timestamp {text!r} is not in ISO format: the session's DateStyle was changed "
            "(SET DateStyle); datatier reads timestamps as ISO text, so RESET DateStyle "
            "(or change it with SET LOCAL inside a transaction)"
        )
    return ValueError(
        f"the database holds the timestamp {text!r}, which Python's datetime cannot hold "
        "(years 1 to 9999, no infinity); select it as text (::text) to read it"
    )


_ISO_DATE = re.compile(r"\d{4,}-\d\d-\d\d")


def _timestamp_to_text(value: Any) -> str:
    """A ``timestamp`` parameter: a datetime in UTC (naive: taken as UTC) or a date."""
    if isinstance(value, datetime):
        moment: datetime = value
        if moment.tzinfo is not None and moment.tzinfo is not UTC:
            moment = moment.astimezone(UTC)
        # "+00:00" may stay: a timestamp's input ignores an offset, and the value is in UTC
        return moment.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"expected a datetime.date or datetime.datetime instance, got {value!r}")


def _timestamptz_to_text(value: Any) -> str:
    if isinstance(value, datetime):
        text = value.isoformat()
        return text + "+00:00" if value.tzinfo is None else text
    if isinstance(value, date):
        return value.isoformat() + " 00:00:00+00:00"
    raise TypeError(f"expected a datetime.date or datetime.datetime instance, got {value!r}")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect_reason(e: BaseException, target: PostgresTarget, timeout: float) -> str:
    """One line naming the server and what failed, as the sync driver words it."""
    where = target.where
    if isinstance(e, asyncpg.InvalidCatalogNameError):
        return f'database "{target.dbname}" does not exist on {where}'
    if isinstance(e, TimeoutError | asyncio.TimeoutError):
        reason = f"no answer within {timeout:g} s"
    elif isinstance(e, socket.gaierror):
        reason = f"failed to resolve host name ({e.strerror or e})"
    elif (
        isinstance(e, ConnectionRefusedError)
        or "Errno 111" in str(e)
        or ("Connect call failed" in str(e))
    ):
        reason = "connection refused"
    else:
        reason = _reason(e)
    return f"cannot connect to PostgreSQL at {where}: {reason}"
