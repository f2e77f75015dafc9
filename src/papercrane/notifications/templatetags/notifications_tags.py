"""Template helpers: the header badge and the human sentence of a notification, in any language."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from papercrane.accounts.models import Member
from papercrane.notifications import queries
from papercrane.notifications.models import Verb
from papercrane.notifications.queries import Item

register = template.Library()


@register.simple_tag
def unread_notifications(user: Any) -> int:
    """The badge count, rendered with the page; papercrane.js keeps it live afterwards."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return queries.unread_count(user)


def _singular(verb: str) -> str:
    """The sentence for one actor; %(actor)s is replaced by a link to them."""
    sentences: dict[str, str] = {
        Verb.LIKE_NOTE: gettext("%(actor)s liked your note"),
        Verb.LIKE_COMMENT: gettext("%(actor)s liked your comment"),
        Verb.COLLECT: gettext("%(actor)s collected your note"),
        Verb.COMMENT: gettext("%(actor)s commented on your note"),
        Verb.REPLY: gettext("%(actor)s replied to your comment"),
        Verb.MENTION: gettext("%(actor)s mentioned you"),
        Verb.FOLLOW: gettext("%(actor)s started following you"),
        Verb.FOLLOW_REQUEST: gettext("%(actor)s asked to follow you"),
        Verb.FOLLOW_APPROVED: gettext("%(actor)s approved your follow request"),
        Verb.LIVE_STARTED: gettext("%(actor)s went live: %(title)s"),
        Verb.COHOST_INVITE: gettext("%(actor)s invited you to co-host a live room"),
        Verb.DECISION: gettext("The moderators made a decision about your account or posts"),
        Verb.APPEAL_DECIDED: gettext("The moderators decided your appeal"),
        Verb.REPORT_OUTCOME: gettext("The moderators reviewed what you reported"),
        Verb.EXPORT_READY: gettext("Your data export is ready"),
    }
    return sentences[verb]


def _plural(verb: str, others: int) -> str:
    """The sentence for a group: the latest actor and ``others`` more."""
    if verb == Verb.LIKE_COMMENT:
        return ngettext(
            "%(actor)s and %(count)s other liked your comment",
            "%(actor)s and %(count)s others liked your comment",
            others,
        )
    if verb == Verb.COLLECT:
        return ngettext(
            "%(actor)s and %(count)s other collected your note",
            "%(actor)s and %(count)s others collected your note",
            others,
        )
    return ngettext(
        "%(actor)s and %(count)s other liked your note",
        "%(actor)s and %(count)s others liked your note",
        others,
    )


def _actor_link(actor: Member) -> SafeString:
    return format_html(
        '<a class="notification-actor" href="{}">{}</a>',
        reverse("web:profile", args=[actor.username]),
        actor.name,
    )


@register.simple_tag
def notification_sentence(item: Item) -> SafeString:
    """The item as a sentence ("Alice and 12 others liked your note"), the name escaped and
    linked to the actor's profile."""
    text = _plural(item.verb, item.others) if item.others > 0 else _singular(item.verb)
    if item.verb == Verb.LIVE_STARTED and item.room is None:
        text = gettext("%(actor)s went live")
    values = {
        "actor": _actor_link(item.actors[0]),
        "count": item.others,
        "title": conditional_escape(item.room.title if item.room is not None else ""),
    }
    return mark_safe(conditional_escape(text) % values)  # noqa: S308 - the text is escaped
