"""A unit of work that sends what it wrote last in one round trip on PostgreSQL.

On a server, a round trip costs the client more time than anything else an operation does
(bench/circulation_throughput.py): the ORM would send each table's rows as a statement of its
own at COMMIT (the new hold, the copy set aside, the events). The outbox events an operation
emits wait in the session (`_events.emit`), and when the operation ends, they and the rows
still to be written go as one statement: the rows as data-modifying CTEs of the events' INSERT.

Only plain rows are sent this way: new ones whose every column is set (the primary key too, so
nothing is to be read back), and changed ones whose primary key stays. Anything else (a new loan
numbered by the database, a deletion, a relationship) leaves the rows to the ORM's flush at
COMMIT, and the events go in a statement of their own, as they do on SQLite, where a statement
costs no round trip. Rows flushed before the end (a query autoflushes what it might read) are
written then, as always.

The CTEs of one statement see the database as it was before it (PostgreSQL runs them on one
snapshot): each row appears in one of them only, and nothing in the statement reads them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Column,
    Executable,
    Table,
    bindparam,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import make_transient, make_transient_to_detached
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import Insert, Update

from db import OutboxEvent, transaction

from ._events import PENDING_EVENTS

__all__ = ["unit_of_work"]

_OUTBOX = cast(Table, OutboxEvent.__table__)
_EVENT_COLUMNS = ("event_type", "payload", "occurred_at")
# SQLite: the events as one executemany.
_INSERT_EVENTS = insert(_OUTBOX)
# PostgreSQL: any number of events in one statement of one shape (a multi-row VALUES would be
# compiled again at every call), their ids in the order they were emitted.
_EVENT_ROWS = (
    func.unnest(
        *(bindparam(f"event_{name}", type_=ARRAY(_OUTBOX.c[name].type)) for name in _EVENT_COLUMNS)
    )
    .table_valued(*_EVENT_COLUMNS, with_ordinality="n")
    .render_derived(name="event")
)
_INSERT_EVENT_ROWS = insert(_OUTBOX).from_select(
    list(_EVENT_COLUMNS),
    select(*(_EVENT_ROWS.c[name] for name in _EVENT_COLUMNS)).order_by(_EVENT_ROWS.c.n),
)

# More rows than this go the ORM's way: the scheduler's steps change many, and a statement of
# their own for each shape would only fill the statement caches.
_MOST_ROWS_TOGETHER = 6


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """`db.transaction`, whose events and last changes are written together as it ends."""
    async with transaction(sessions) as session:
        events: list[dict[str, Any]] = []
        session.info[PENDING_EVENTS] = events
        yield session
        # Only reached when the block ends normally: an exception rolls everything back.
        await _write(session, events)


async def _write(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        if events:
            await connection.execute(_INSERT_EVENTS, events)
        return
    rows = _rows(session)
    parameters = _event_parameters(events) if events else {}
    if rows is None:
        # Not plain: the ORM writes the rows at COMMIT.
        if events:
            await connection.execute(_INSERT_EVENT_ROWS, parameters)
        return
    if rows or events:
        for n, row in enumerate(rows):
            parameters.update(row.parameters(n))
        shape = (tuple(row.shape for row in rows), bool(events))
        await connection.execute(_statement(shape), parameters)
    # Every change is written: the objects are as the database now has them, detached as they
    # would be once the session closes, with no change left to write (neither for a flush at
    # COMMIT nor for a session they may be added to later).
    written = [*session.identity_map.values(), *session.new]
    session.expunge_all()
    for instance in written:
        make_transient(instance)
        make_transient_to_detached(instance)


def _event_parameters(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {f"event_{name}": [event[name] for event in events] for name in _EVENT_COLUMNS}


# A row to write: (the table, the columns written, for an UPDATE the primary key's columns).
_Shape = tuple[Table, tuple[Column[Any], ...], tuple[Column[Any], ...]]


@dataclass(frozen=True)
class _Row:
    table: Table
    columns: tuple[Column[Any], ...]
    values: tuple[Any, ...]
    # An UPDATE's row: its primary key's columns and values (an INSERT's have none).
    key_columns: tuple[Column[Any], ...] = ()
    key: tuple[Any, ...] = ()

    @property
    def inserted(self) -> bool:
        return not self.key_columns

    @property
    def shape(self) -> _Shape:
        return self.table, self.columns, self.key_columns

    def parameters(self, n: int) -> dict[str, Any]:
        values = {
            _name(n, column): value for column, value in zip(self.columns, self.values, strict=True)
        }
        for column, value in zip(self.key_columns, self.key, strict=True):
            values[_name(n, column, key=True)] = value
        return values


def _name(n: int, column: Column[Any], *, key: bool = False) -> str:
    return f"w{n}_{'key_' if key else ''}{column.name}"


def _rows(session: AsyncSession) -> list[_Row] | None:
    """The session's rows still to write, or None when one is not plain."""
    if session.deleted:
        return None
    rows: list[_Row] = []
    for instance in session.new:
        row = _inserted(instance)
        if row is None:
            return None
        rows.append(row)
    for instance in session.dirty:
        changed = _updated(instance)
        if changed is None:
            return None
        if changed.columns:
            rows.append(changed)
    if len(rows) > _MOST_ROWS_TOGETHER:
        return None
    # A steady order: one statement shape, one cache entry, per kind of operation.
    rows.sort(key=lambda row: (not row.inserted, row.table.name, row.key))
    return rows


def _columns(instance: object) -> list[tuple[str, Column[Any]]] | None:
    """Each column attribute and its column, or None for a mapping this module does not write."""
    mapper = inspect(instance).mapper
    if mapper.relationships:
        return None
    columns: list[tuple[str, Column[Any]]] = []
    for prop in mapper.column_attrs:
        [column] = prop.columns
        if not isinstance(column, Column) or column.table is not mapper.local_table:
            return None
        columns.append((prop.key, column))
    return columns


def _inserted(instance: object) -> _Row | None:
    """A new row whose every column is set, primary key included."""
    columns = _columns(instance)
    state = inspect(instance)
    if columns is None or None in state.mapper.primary_key_from_instance(instance):
        return None
    values: list[Any] = []
    for key, column in columns:
        # An unset column would take its default in the database, not in the object; and the
        # ORM leaves a None out of its INSERT when the column has a default, so the default
        # applies: both are the ORM's to write.
        if key not in state.dict or isinstance(state.dict[key], ClauseElement):
            return None
        value = state.dict[key]
        if value is None and (column.default is not None or column.server_default is not None):
            return None
        values.append(value)
    table = cast(Table, state.mapper.local_table)
    return _Row(table, tuple(column for _, column in columns), tuple(values))


def _updated(instance: object) -> _Row | None:
    """A changed row's new values (none when each was set to what it was), by primary key."""
    columns = _columns(instance)
    state = inspect(instance)
    if columns is None or state.identity is None:
        return None
    unmodified = state.unmodified
    changed: list[Column[Any]] = []
    values: list[Any] = []
    for key, column in columns:
        if key in unmodified or not state.attrs[key].history.has_changes():
            continue
        if column.primary_key or isinstance(state.dict.get(key), ClauseElement):
            return None
        changed.append(column)
        values.append(state.dict[key])
    table = cast(Table, state.mapper.local_table)
    key_columns = tuple(state.mapper.primary_key)  # the order of state.identity
    return _Row(table, tuple(changed), tuple(values), key_columns, tuple(state.identity))


# Statements by shape, built once: building one costs more than sending it.
_STATEMENTS: dict[tuple[tuple[_Shape, ...], bool], Executable] = {}
_MOST_STATEMENTS_KEPT = 200


def _statement(shape: tuple[tuple[_Shape, ...], bool]) -> Executable:
    built = _STATEMENTS.get(shape)
    if built is None:
        built = _build(*shape)
        if len(_STATEMENTS) < _MOST_STATEMENTS_KEPT:
            _STATEMENTS[shape] = built
    return built


def _build(rows: Sequence[_Shape], events: bool) -> Executable:
    """The rows' statements, then the events': the last is the statement, the others its CTEs."""
    parts: list[Insert | Update] = []
    for n, (table, columns, key_columns) in enumerate(rows):
        values: dict[Column[Any], BindParameter[Any]] = {
            column: bindparam(_name(n, column), type_=column.type) for column in columns
        }
        if not key_columns:
            parts.append(insert(table).values(values))
        else:
            where = [
                column == bindparam(_name(n, column, key=True), type_=column.type)
                for column in key_columns
            ]
            parts.append(update(table).where(*where).values(values))
    if events:
        parts.append(_INSERT_EVENT_ROWS)
    *ctes, last = parts
    return last.add_cte(*(part.cte(f"w{n}") for n, part in enumerate(ctes)))
