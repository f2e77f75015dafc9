"""Querysets compiled once and run for many lists of ids.

Django builds and compiles a queryset anew on every use. For the visibility rules applied to
a page of notes that takes about 2.5 ms, while the database answers in 0.1 ms; a search or an
Explore page pays it on every request. The SQL of such a query differs from one page to the
next only in the ids of its ``IN`` list (the rules themselves, follows and blocks included,
are subqueries the database evaluates). So it is compiled once per key and list length, with
stand-in ids, and later lists are put in their places: the rules stay written once, in the
ORM, and only their compilation is shared.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.db import connection
from django.db.models import QuerySet

# Lists are padded (with their last id) up to one of these lengths, so a few compilations
# serve every page; a longer list is compiled for itself.
SIZES = (8, 32, 128, 512)
CAPACITY = 4096  # compiled statements kept per process (a few KB each)

Build = Callable[[list[int]], QuerySet[Any]]
_compiled: dict[tuple[Hashable, ...], tuple[str, list[Any], list[int]]] = {}


def rows(key: Hashable, ids: Sequence[int], build: Build) -> list[tuple[Any, ...]]:
    """The rows of ``build(ids)`` (a ``values_list`` queryset filtering on ``ids``), as the
    database returns them, with no field converters applied. ``key`` names what ``build``
    depends on besides ``ids`` (the viewer, say): one compilation serves one key."""
    if not ids:
        return []
    size = next((size for size in SIZES if size >= len(ids)), None)
    if size is None:
        sql, params = build(list(ids)).query.sql_with_params()
        return _fetch(sql, list(params))
    sql, template, slots = _statement(key, size, build)
    values = list(template)
    padded = [*ids, *[ids[-1]] * (size - len(ids))]
    for slot, value in zip(slots, padded, strict=True):
        values[slot] = value
    return _fetch(sql, values)


def _statement(key: Hashable, size: int, build: Build) -> tuple[str, list[Any], list[int]]:
    """The SQL of ``build`` for ``size`` ids, its parameters, and where the ids go in them."""
    cache_key = (connection.alias, connection.vendor, key, size)
    found = _compiled.get(cache_key)
    if found is not None:
        return found
    stand_ins = [-(position + 1) for position in range(size)]  # no row has a negative id
    sql, params = build(stand_ins).query.sql_with_params()
    slots = [i for i, value in enumerate(params) if type(value) is int and value < 0]
    if sorted(params[i] for i in slots) != sorted(stand_ins):
        raise ValueError(f"{key!r}: the query does not take each id exactly once")
    slots.sort(key=lambda i: -params[i])  # slot of the first id first
    if len(_compiled) >= CAPACITY:
        _compiled.clear()
    _compiled[cache_key] = (sql, list(params), slots)
    return _compiled[cache_key]


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
