"""Live delivery to a member's open pages, over the channel layer (in memory, or Redis at scale)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def member_group(member_id: int) -> str:
    return f"member.{member_id}"


def push_to_member(member_id: int, event: dict[str, Any]) -> None:
    """Send ``event`` to every WebSocket the member has open, in any process."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(
        member_group(member_id), {"type": "member.event", "event": event}
    )
