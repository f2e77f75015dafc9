"""A member's standing with the moderators: whether they moderate, whether they are suspended.
(Plain checks on the member row, used by reads, writes, the API and the web alike.)"""

from __future__ import annotations

from typing import Any

from django.utils import timezone


def is_moderator(member: Any) -> bool:
    return bool(
        member is not None
        and getattr(member, "is_authenticated", False)
        and (member.is_moderator or member.is_superuser)
    )


def is_suspended(member: Any) -> bool:
    """A suspension that has ended counts as none (nothing needs to lift it)."""
    until = getattr(member, "suspended_until", None)
    return until is not None and until > timezone.now()
