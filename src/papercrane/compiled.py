"""Querysets compiled once and run for many lists of ids, or many subjects.

Django builds and compiles a queryset anew on every use. For the visibility rules applied to
a page of notes that takes about 2.5 ms, while the database answers in 0.1 ms; a search or an
Explore page pays it on every request. The SQL of such a query differs from one page to the
next only in the ids of its ``IN`` list (the rules themselves, follows and blocks included,
are subqueries the database evaluates) and the viewer's id. So it is compiled once per list
length, with stand-in ids, and later lists and viewers are put in their places: the rules
stay written once, in the ORM, and only their compilation is shared. A query that depends
on one value only (a token's hash, a member's id) is compiled once the same way (``lookup``).
Rows come back as the queryset gives them, through the fields' own converters.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, QuerySet

# Lists are padded (with their last id) up to one of these lengths, so a few compilations
# serve every page; a longer list is compiled for itself.
SIZES = (8, 32, 128, 256, 512)
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
    params: list[Any]
    id_slots: list[int]  # where the ids go, the first id's slot first
    subject_slots: list[int]
    converters: Converters  # column, the field's converters, the expression they take


# (database alias and vendor, key, size, the subject's type) -> statement
_compiled: dict[tuple[Hashable, ...], _Statement] = {}


def rows(
    key: Hashable, ids: Sequence[int], build: Build, *, subject: int | None = None
) -> list[tuple[Any, ...]]:
    """The rows of ``build(ids, subject)`` (a ``values_list`` queryset filtering on ``ids``),
    in the database's order. ``subject`` is the one other id the query depends on, if any
    (the viewer's, say), and is put in its places the same way; ``key`` names the query."""
    if not ids:
        return []
    size = next((size for size in SIZES if size >= len(ids)), None)
    if size is None:
        return list(build(list(ids), subject))
    statement = _statement(key, size, build, subject)
    values = list(statement.params)
    padded = [*ids, *[ids[-1]] * (size - len(ids))]
    for slot, value in zip(statement.id_slots, padded, strict=True):
        values[slot] = value
    return _fetch(statement, values, subject)


def lookup(key: Hashable, build: Build, subject: int | str) -> list[tuple[Any, ...]]:
    """The rows of ``build([], subject)``: a ``values_list`` queryset depending on nothing
    but ``subject``, a number or a text (the token's hash a request brings, say)."""
    return _fetch(_statement(key, 0, build, subject), None, subject)


def _statement(key: Hashable, size: int, build: Build, subject: Subject) -> _Statement:
    """``build`` compiled for ``size`` ids (stand-ins) and a stand-in of ``subject``'s type."""
    cache_key = (connection.alias, connection.vendor, key, size, type(subject).__name__)
    found = _compiled.get(cache_key)
    if found is not None:
        return found
    stand_ins = [-(position + 1) for position in range(size)]
    stand_in = None if subject is None else TEXT_SUBJECT if isinstance(subject, str) else SUBJECT
    compiler = build(stand_ins, stand_in).query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    params = list(params)
    subject_slots = [i for i, value in enumerate(params) if _same(value, stand_in)]
    id_slots = [
        i for i, value in enumerate(params) if type(value) is int and value < 0 and value != SUBJECT
    ]
    if sorted(params[i] for i in id_slots) != sorted(stand_ins):
        raise ValueError(f"{key!r}: the query does not take each id exactly once")
    if subject is not None and not subject_slots:
        raise ValueError(f"{key!r}: the query does not take its subject")
    if subject is not None and not _takes_as_it_is(build, stand_ins, sql, params, subject_slots):
        raise ValueError(f"{key!r}: the query changes with its subject beyond taking it")
    id_slots.sort(key=lambda i: -params[i])  # slot of the first id first
    columns = [expression for expression, _sql, _alias in compiler.select[: compiler.col_count]]
    converters = [
        (column, functions, expression)
        for column, (functions, expression) in compiler.get_converters(columns).items()
    ]
    if len(_compiled) >= CAPACITY:
        _compiled.clear()
    statement = _Statement(sql, params, id_slots, subject_slots, converters)
    _compiled[cache_key] = statement
    return statement


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
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, values)
        found = cursor.fetchall()
    if not statement.converters:
        return found
    converted = []
    for row in found:
        row = list(row)
        for column, functions, expression in statement.converters:
            value = row[column]
            for function in functions:
                value = function(value, expression, connection)
            row[column] = value
        converted.append(tuple(row))
    return converted


M = TypeVar("M", bound=Model)


def instance(model: type[M], names: Sequence[str], values: Sequence[Any]) -> M:
    """An instance of ``model`` from a row's ``values`` for the fields ``names`` (attribute
    names), holding only those (another field is read from the database when touched)."""
    given = dict(zip(names, values, strict=True))
    ordered = [f.attname for f in model._meta.concrete_fields if f.attname in given]
    return model.from_db(connection.alias, ordered, [given[name] for name in ordered])
