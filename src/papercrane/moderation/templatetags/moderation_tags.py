"""Template helpers of trust and safety: rules in the reader's language, what moderation did
to an item, and whether a suspension is permanent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.translation import get_language

from papercrane.moderation import queries, standing, targets
from papercrane.moderation.models import ContentState, Rule

register = template.Library()


@register.simple_tag
def rule_title_for(code: str) -> str:
    """The title of the rule with this code in the active language ("" if there is none)."""
    rule = queries.rule_by_code(code) if code else None
    return "" if rule is None else queries.rule_title(rule, get_language())


@register.simple_tag
def community_rules() -> list[Rule]:
    return list(queries.rules())


@register.filter
def rule_title(rule: Rule | None) -> str:
    return "" if rule is None else queries.rule_title(rule, get_language())


@register.filter
def rule_body(rule: Rule | None) -> str:
    return "" if rule is None else queries.rule_body(rule, get_language())


@register.filter
def content_state_label(state: str) -> str:
    """What moderation did to a note or comment, in words."""
    return str(dict(ContentState.choices).get(state, state))


@register.filter
def is_permanent(until: dt.datetime | None) -> bool:
    return until is not None and until.year >= targets.PERMANENT.year


@register.filter
def is_suspended(member: Any) -> bool:
    return standing.is_suspended(member)
