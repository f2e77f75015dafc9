"""Cursor pagination: opaque, signed keyset cursors, stable under inserts (``next_cursor``)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from papercrane.api.problems import Problem

M = TypeVar("M", bound=Model)
MAX_LIMIT = 100
_SALT = "papercrane.cursor"


def _invalid_cursor() -> Problem:
    hint = _("Use the next_cursor of a previous page.")
    return Problem(
        400,
        "invalid-cursor",
        _("Invalid cursor"),
        hint,
        errors=[{"field": "cursor", "message": hint, "code": "invalid"}],
    )


def _after(queryset: QuerySet[M], ordering: tuple[str, ...], values: list[Any]) -> QuerySet[M]:
    """Rows strictly after ``values`` in ``ordering`` (a lexicographic keyset condition)."""
    meta = queryset.model._meta
    names = [field.lstrip("-") for field in ordering]
    typed = [
        meta.get_field("id" if name == "pk" else name).to_python(value)  # type: ignore[union-attr]
        for name, value in zip(names, values, strict=True)
    ]
    # The leading column's own bound (implied by the rest) lets an index seek straight to the
    # page instead of filtering from the first row.
    lead = "lte" if ordering[0].startswith("-") else "gte"
    queryset = queryset.filter(**{f"{names[0]}__{lead}": typed[0]})
    condition = Q()
    for position, field in enumerate(ordering):
        operator = "lt" if field.startswith("-") else "gt"
        step = Q(**{f"{names[position]}__{operator}": typed[position]})
        for name, value in zip(names[:position], typed[:position], strict=True):
            step &= Q(**{name: value})
        condition |= step
    return queryset.filter(condition)


def paginate(
    queryset: QuerySet[M],
    *,
    cursor: str | None,
    limit: int,
    ordering: tuple[str, ...] = ("-pk",),
) -> tuple[list[M], str | None]:
    """One page of ``queryset`` in ``ordering`` (which must end with a unique field)."""
    limit = max(1, min(limit, MAX_LIMIT))
    queryset = queryset.order_by(*ordering)
    if cursor:
        try:
            values = signing.loads(cursor, salt=_SALT)
            if not isinstance(values, list) or len(values) != len(ordering):
                raise _invalid_cursor()
            queryset = _after(queryset, ordering, values)
        except (signing.BadSignature, ValueError, TypeError) as error:
            raise _invalid_cursor() from error
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    values = [_cursor_value(getattr(last, field.lstrip("-"))) for field in ordering]
    return rows, signing.dumps(values, salt=_SALT, compress=True)


def _cursor_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def offset_cursor(offset: int) -> str:
    """A cursor for result lists ranked afresh on every request (search), where a keyset
    cannot hold: the position in the list, signed so clients cannot forge it."""
    return signing.dumps({"offset": offset}, salt=_SALT)


def read_offset_cursor(cursor: str | None, *, maximum: int) -> int:
    if not cursor:
        return 0
    try:
        offset = signing.loads(cursor, salt=_SALT)["offset"]
    except (signing.BadSignature, KeyError, TypeError) as error:
        raise _invalid_cursor() from error
    if not isinstance(offset, int) or not 0 <= offset <= maximum:
        raise _invalid_cursor()
    return offset
