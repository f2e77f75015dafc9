"""Querysets compiled once and run for many lists of ids, or many subjects.

Django builds and compiles a queryset anew on every use. For the visibility rules applied to
a page of notes that takes about 2.5 ms, while the database answers in 0.1 ms; a search or an
Explore page pays it on every request. The SQL of such a query differs from one page to the
next only in the ids of its ``IN`` list (the rules themselves, follows and blocks included,
are subqueries the database evaluates) and the viewer's id. So it is compiled once, with
stand-in ids, and its ``IN`` list becomes one parameter holding the whole list (a JSON array
SQLite unpacks, an array for PostgreSQL): one statement serves lists of any length, and the
database is sent one value, not one per id (binding 256 ids one by one cost PostgreSQL more
than running the query). The rules stay written once, in the ORM, and only their compilation
is shared. A query that depends on one value only (a token's hash, a member's id) is
compiled once the same way (``lookup``). Rows come back as the queryset gives them, through
the fields' own converters.

The statements run on the driver's cursor (``fetch``), with the SQL put in the driver's
parameter style once: Django's cursor wrapper (its proxies, checks, wrappers and the
rewriting of every ``%s``) cost twice what SQLite takes to answer a lookup by key. When
something watches the queries (``DEBUG``, a test counting them, an execute wrapper) they go
through Django's cursor as any query does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

# The ids a query is compiled with (distinct, so the ORM keeps each) and how each database
# takes the list in their place, as one parameter.
STAND_INS = [-1, -2, -3]
ID_LISTS = {"sqlite": "IN (SELECT value FROM json_each(%s))", "postgresql": "= ANY(%s::bigint[])"}
PLACEHOLDER = re.compile(r"(?<!%)%s")  # as Django's backends find them
CAPACITY = 1024  # compiled statements kept per process (a few KB each)
# The subject's stand-ins: no row has a negative id, and ids are smaller; no text a query
# is asked about holds the control characters.
SUBJECT = -(10**15)
TEXT_SUBJECT = "\x1fcompiled subject\x1f"
OTHER_SUBJECT, OTHER_TEXT_SUBJECT = SUBJECT - 1, "\x1fanother subject\x1f"  # to check with

Subject = int | str | None
Build = Callable[[list[int], Any], QuerySet[Any]]
Converters = list[tuple[int, list[Callable[..., Any]], Any]]


@dataclass(frozen=True)
class _Statement:
    sql: str
    driver_sql: str  # ``sql`` in the driver's parameter style
    params: list[Any]
    list_slot: int | None  # where the list of ids goes
    subject_slots: list[int]
    converters: Converters  # column, the field's converters, the expression they take


# (database alias and vendor, key, whether it takes ids, the subject's type) -> statement
_compiled: dict[tuple[Hashable, ...], _Statement] = {}


def rows(
    key: Hashable, ids: Sequence[int], build: Build, *, subject: int | None = None
) -> list[tuple[Any, ...]]:
    """The rows of ``build(ids, subject)`` (a ``values_list`` queryset filtering on ``ids``
    with one ``IN``), in the database's order. ``subject`` is the one other id the query
    depends on, if any (the viewer's, say), and is put in its places the same way; ``key``
    names the query."""
    if not ids:
        return []
    statement = _statement(key, True, build, subject)
    values = list(statement.params)
    values[statement.list_slot] = _id_list(ids)  # type: ignore[index]
    return _fetch(statement, values, subject)


def lookup(key: Hashable, build: Build, subject: int | str) -> list[tuple[Any, ...]]:
    """The rows of ``build([], subject)``: a ``values_list`` queryset depending on nothing
    but ``subject``, a number or a text (the token's hash a request brings, say)."""
    return _fetch(_statement(key, False, build, subject), None, subject)


def _id_list(ids: Sequence[int]) -> Any:
    """The list as the one parameter ``ID_LISTS`` takes."""
    if connection.vendor == "sqlite":
        return orjson.dumps(ids if isinstance(ids, list) else list(ids)).decode()
    return list(ids)


def _statement(key: Hashable, takes_ids: bool, build: Build, subject: Subject) -> _Statement:
    """``build`` compiled for stand-in ids (if it ``takes_ids``) and a stand-in of
    ``subject``'s type."""
    cache_key = (connection.alias, connection.vendor, key, takes_ids, type(subject).__name__)
    found = _compiled.get(cache_key)
    if found is not None:
        return found
    stand_ins = STAND_INS if takes_ids else []
    stand_in = None if subject is None else TEXT_SUBJECT if isinstance(subject, str) else SUBJECT
    compiler = build(stand_ins, stand_in).query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    params = list(params)
    subject_slots = [i for i, value in enumerate(params) if _same(value, stand_in)]
    id_slots = _id_slots(params)
    if sorted(params[i] for i in id_slots) != sorted(stand_ins):
        raise ValueError(f"{key!r}: the query does not take each id exactly once")
    if subject is not None and not subject_slots:
        raise ValueError(f"{key!r}: the query does not take its subject")
    if subject is not None and not _takes_as_it_is(build, stand_ins, sql, params, subject_slots):
        raise ValueError(f"{key!r}: the query changes with its subject beyond taking it")
    list_slot = None
    if takes_ids:
        sql, params, list_slot = _one_parameter(key, sql, params, id_slots)
        subject_slots = [i if i < list_slot else i - len(id_slots) + 1 for i in subject_slots]
        if not _takes_any_length(key, build, stand_in, sql):
            raise ValueError(f"{key!r}: the query changes with the number of ids")
    columns = [expression for expression, _sql, _alias in compiler.select[: compiler.col_count]]
    converters = [
        (column, functions, expression)
        for column, (functions, expression) in compiler.get_converters(columns).items()
    ]
    if len(_compiled) >= CAPACITY:
        _compiled.clear()
    statement = _Statement(sql, _driver_sql(sql), params, list_slot, subject_slots, converters)
    _compiled[cache_key] = statement
    return statement


def _id_slots(params: list[Any]) -> list[int]:
    return [i for i, value in enumerate(params) if type(value) is int and SUBJECT < value < 0]


def _takes_any_length(key: Hashable, build: Build, stand_in: Subject, sql: str) -> bool:
    """Whether the query, built for one id more, comes to the same statement: a build that
    uses how many ids it is given (or which) would otherwise keep the stand-ins' outcome."""
    more = [*STAND_INS, -len(STAND_INS) - 1]
    other_sql, given = build(more, stand_in).query.sql_with_params()
    other_params = list(given)
    slots = _id_slots(other_params)
    if sorted(other_params[i] for i in slots) != sorted(more):
        return False
    return _one_parameter(key, other_sql, other_params, slots)[0] == sql


def _one_parameter(
    key: Hashable, sql: str, params: list[Any], slots: list[int]
) -> tuple[str, list[Any], int]:
    """The SQL with its ``IN (%s, %s, …)`` of stand-ins (at parameter ``slots``) taking the
    whole list as one parameter, the parameters to go with it, and that parameter's slot."""
    pieces = PLACEHOLDER.split(sql)  # pieces[i] is the text before placeholder i
    if len(pieces) != len(params) + 1 or connection.vendor not in ID_LISTS:
        raise ValueError(f"{key!r}: cannot put the ids in place in this SQL")
    first, count = slots[0], len(slots)
    between = pieces[first + 1 : first + count]
    if (
        slots != list(range(first, first + count))
        or not pieces[first].endswith(" IN (")
        or pieces[first].endswith(" NOT IN (")
        or any(text != ", " for text in between)
        or not pieces[first + count].startswith(")")
    ):
        raise ValueError(f"{key!r}: the ids are not one IN list")
    head = "%s".join(pieces[: first + 1])[: -len("IN (")]
    tail = "%s".join(pieces[first + count :])[len(")") :]
    one = [*params[:first], None, *params[first + count :]]
    return head + ID_LISTS[connection.vendor] + tail, one, first


def _takes_as_it_is(
    build: Build, stand_ins: list[int], sql: str, params: list[Any], slots: list[int]
) -> bool:
    """Whether the query, built for another stand-in, differs only in the subject's slots:
    a build that derives a value from its subject (its first letters, the next id) or
    branches on it would otherwise keep the stand-in's outcome for every subject."""
    other = OTHER_TEXT_SUBJECT if isinstance(params[slots[0]], str) else OTHER_SUBJECT
    other_sql, other_params = build(stand_ins, other).query.sql_with_params()
    expected = [other if i in slots else value for i, value in enumerate(params)]
    return other_sql == sql and list(other_params) == expected


def _same(value: Any, stand_in: Subject) -> bool:
    return stand_in is not None and type(value) is type(stand_in) and value == stand_in


def _fetch(
    statement: _Statement, values: list[Any] | None, subject: Subject
) -> list[tuple[Any, ...]]:
    values = list(statement.params) if values is None else values
    for slot in statement.subject_slots:
        values[slot] = subject
    database = connections[DEFAULT_DB_ALIAS]
    found = _run(database, statement.sql, statement.driver_sql, values)
    if not statement.converters:
        return found
    converted = []
    for found_row in found:
        row = list(found_row)
        for column, functions, expression in statement.converters:
            value = row[column]
            for function in functions:
                value = function(value, expression, database)
            row[column] = value
        converted.append(tuple(row))
    return converted


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (Django's ``%s`` style, as for ``cursor.execute``), fetched the
    way compiled statements are: for a hand-written statement run on every page."""
    driver_sql = _driver_sqls.get(sql)
    if driver_sql is None:
        if len(_driver_sqls) >= CAPACITY:
            _driver_sqls.clear()
        driver_sql = _driver_sqls[sql] = _driver_sql(sql)
    return _run(connections[DEFAULT_DB_ALIAS], sql, driver_sql, params)


_driver_sqls: dict[str, str] = {}


def _driver_sql(sql: str) -> str:
    """``sql`` as the driver takes it: Python's sqlite3 wants ``?`` where Django writes
    ``%s`` (as Django's SQLite cursor rewrites it on every call); psycopg takes ``%s``."""
    if connection.vendor == "sqlite":
        return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
    return sql


def _run(
    database: BaseDatabaseWrapper, sql: str, driver_sql: str, params: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """Execute and fetch all on the driver's cursor, with what Django's cursor does around
    it that matters here: a live connection, no use of a broken transaction, the driver's
    errors raised as Django's."""
    if database.queries_logged or database.execute_wrappers:
        with database.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    database.close_if_health_check_failed()
    database.ensure_connection()
    database.validate_no_broken_transaction()
    with database.wrap_database_errors:
        if database.vendor == "sqlite":  # its cursor factory would rewrite the SQL again
            return list(database.connection.execute(driver_sql, params).fetchall())
        cursor = _cursor(database)
        cursor.execute(driver_sql, params)
        return list(cursor.fetchall())


# A cursor per driver connection, kept as long as the connection (which a pool keeps too):
# psycopg's cursor keeps how it converts each type of parameter and column, which a new
# cursor for every statement worked out again (a quarter of the driver's time). By the
# connection's id, checked against the cursor's own; the cursors of closed connections are
# let go whenever another is made.
_cursors: dict[int, tuple[Any, Any]] = {}


def _cursor(database: BaseDatabaseWrapper) -> Any:
    """The kept cursor of ``database``'s driver connection, made as Django makes one (with
    the time zone of Django's setting: made again should that change)."""
    driver, zone = database.connection, getattr(database, "timezone", None)
    kept = _cursors.get(id(driver))
    if kept is None or kept[0].connection is not driver or kept[1] != zone or kept[0].closed:
        for key, (cursor, _zone) in list(_cursors.items()):
            if cursor.closed or cursor.connection.closed:
                _cursors.pop(key, None)
        kept = _cursors[id(driver)] = (database.create_cursor(), zone)
    return kept[0]


M = TypeVar("M", bound=Model)


@functools.cache
def _field_names(model: type[Model]) -> frozenset[str]:
    return frozenset(field.attname for field in model._meta.concrete_fields)


def instance(model: type[M], names: Sequence[str], values: Sequence[Any]) -> M:
    """An instance of ``model`` from a row's ``values`` for the fields ``names`` (attribute
    names), holding only those (another field is read from the database when touched).

    Made as ``Model.from_db`` makes it, less the calls: the values go straight into the
    instance's ``__dict__``, where the fields' descriptors read them (a file field's value
    becomes its file object when first read, as after ``from_db``). ``Model.__init__`` set
    them one by one through those descriptors: 13 µs for a member, made for every request
    a token signs. A model something listens to the creation of is made by ``from_db``."""
    if len(names) != len(values):
        raise ValueError(f"{len(names)} fields and {len(values)} values")
    if not _field_names(model).issuperset(names):
        raise ValueError(f"not fields of {model.__name__}: {set(names) - _field_names(model)}")
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        given = dict(zip(names, values, strict=True))
        ordered = [f.attname for f in model._meta.concrete_fields if f.attname in given]
        return model.from_db(connection.alias, ordered, [given[name] for name in ordered])
    made = model.__new__(model)
    made.__dict__.update(zip(names, values, strict=True))
    state = made._state = ModelState()
    state.adding, state.db = False, DEFAULT_DB_ALIAS
    return made
