"""Querysets compiled once and run for many lists of ids.

Django builds and compiles a queryset anew on every use. For the visibility rules applied to
a page of notes that takes about 2.5 ms, while the database answers in 0.1 ms; a search or an
Explore page pays it on every request. The SQL of such a query differs from one page to the
next only in the ids of its ``IN`` list (the rules themselves, follows and blocks included,
are subqueries the database evaluates) and the viewer's id. So it is compiled once per list
length, with stand-in ids, and later lists and viewers are put in their places: the rules
stay written once, in the ORM, and only their compilation is shared.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.db import connection
from django.db.models import QuerySet

# Lists are padded (with their last id) up to one of these lengths, so a few compilations
# serve every page; a longer list is compiled for itself.
SIZES = (8, 32, 128, 512)
CAPACITY = 1024  # compiled statements kept per process (a few KB each)
SUBJECT = -(10**15)  # the subject's stand-in: no row has a negative id, and ids are smaller

Build = Callable[[list[int], int | None], QuerySet[Any]]
# (key, size, with a subject) -> SQL, parameters, slots of the ids, slots of the subject
_compiled: dict[tuple[Hashable, ...], tuple[str, list[Any], list[int], list[int]]] = {}


def rows(
    key: Hashable, ids: Sequence[int], build: Build, *, subject: int | None = None
) -> list[tuple[Any, ...]]:
    """The rows of ``build(ids, subject)`` (a ``values_list`` queryset filtering on ``ids``)
    as the database returns them, with no field converters applied. ``subject`` is the one
    other id the query depends on, if any (the viewer's, say), and is put in its places the
    same way; ``key`` names the query."""
    if not ids:
        return []
    size = next((size for size in SIZES if size >= len(ids)), None)
    if size is None:
        sql, params = build(list(ids), subject).query.sql_with_params()
        return _fetch(sql, list(params))
    sql, template, id_slots, subject_slots = _statement(key, size, build, subject is not None)
    values = list(template)
    padded = [*ids, *[ids[-1]] * (size - len(ids))]
    for slot, value in zip(id_slots, padded, strict=True):
        values[slot] = value
    for slot in subject_slots:
        values[slot] = subject
    return _fetch(sql, values)


def _statement(
    key: Hashable, size: int, build: Build, has_subject: bool
) -> tuple[str, list[Any], list[int], list[int]]:
    """The SQL of ``build`` for ``size`` ids, its parameters, and where the ids and the
    subject go in them."""
    cache_key = (connection.alias, connection.vendor, key, size, has_subject)
    found = _compiled.get(cache_key)
    if found is not None:
        return found
    stand_ins = [-(position + 1) for position in range(size)]
    sql, params = build(stand_ins, SUBJECT if has_subject else None).query.sql_with_params()
    negative = [i for i, value in enumerate(params) if type(value) is int and value < 0]
    subject_slots = [i for i in negative if params[i] == SUBJECT]
    id_slots = [i for i in negative if params[i] != SUBJECT]
    if sorted(params[i] for i in id_slots) != sorted(stand_ins):
        raise ValueError(f"{key!r}: the query does not take each id exactly once")
    if has_subject and not subject_slots:
        raise ValueError(f"{key!r}: the query does not take its subject")
    id_slots.sort(key=lambda i: -params[i])  # slot of the first id first
    if len(_compiled) >= CAPACITY:
        _compiled.clear()
    _compiled[cache_key] = (sql, list(params), id_slots, subject_slots)
    return _compiled[cache_key]


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
