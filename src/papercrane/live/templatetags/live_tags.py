"""Live rooms on other pages: the "Live now" strip on Explore."""

from __future__ import annotations

from typing import Any

from django import template

from papercrane.live import queries

register = template.Library()

STRIP_ROOMS = 10


@register.inclusion_tag("live/_live_now.html", takes_context=True)
def live_now(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    viewer = user if user.is_authenticated else None
    return {"live_rooms": list(queries.live_rooms(viewer)[:STRIP_ROOMS])}
