"""What travels to a room's open connections, and who is in the room.

A chat message goes out as one channel-layer event per room, carrying the finished frame
in every language the room is read in: each connection picks its own and sends it as it is,
so a message to a thousand viewers is serialised a handful of times, not a thousand.

Presence is a counter per (room, reading language) in the shared cache (Redis when scaled
out), so every server process knows which languages to translate a message into.
"""

from __future__ import annotations

import json
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache

from papercrane.accounts.models import Language

# Reading languages a room can be translated into: the languages members read the site in.
READING_LANGUAGES = tuple(Language.values)
PRESENCE_SECONDS = 24 * 3600  # a crashed process's counts fade within a day
PRESENCE_EVERY_SECONDS = 2  # viewer counts go out at most this often per room


def room_group(room_id: int) -> str:
    return f"live.{room_id}"


def reading_language(code: str | None) -> str:
    """One of READING_LANGUAGES for a member's or page's language ("zh-hans" → "zh-Hans")."""
    wanted = (code or "").lower()
    for language in READING_LANGUAGES:
        if language.lower() == wanted:
            return language
    return Language.SIMPLIFIED_CHINESE if wanted.startswith("zh") else Language.ENGLISH


def _presence_key(room_id: int, language: str) -> str:
    return f"live:presence:{room_id}:{language}"


def joined(room_id: int, language: str) -> int:
    """Count a new connection; the room's viewer count after it."""
    key = _presence_key(room_id, language)
    cache.add(key, 0, timeout=PRESENCE_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=PRESENCE_SECONDS)
    return viewer_count(room_id)


def left(room_id: int, language: str) -> int:
    key = _presence_key(room_id, language)
    try:
        if cache.decr(key) < 0:
            cache.set(key, 0, timeout=PRESENCE_SECONDS)
    except ValueError:
        pass
    return viewer_count(room_id)


def _counts(room_id: int) -> dict[str, int]:
    keys = {_presence_key(room_id, language): language for language in READING_LANGUAGES}
    return {keys[key]: max(0, int(count)) for key, count in cache.get_many(list(keys)).items()}


def viewer_count(room_id: int) -> int:
    return viewer_counts([room_id])[room_id]


def viewer_counts(room_ids: list[int]) -> dict[int, int]:
    """Viewers of each room, in one read of the cache (for a list of rooms)."""
    keys = {
        _presence_key(room_id, language): room_id
        for room_id in room_ids
        for language in READING_LANGUAGES
    }
    counts = dict.fromkeys(room_ids, 0)
    for key, count in cache.get_many(list(keys)).items():
        counts[keys[key]] += max(0, int(count))
    return counts


def present_languages(room_id: int) -> list[str]:
    """The reading languages of the room's open connections."""
    return [language for language, count in _counts(room_id).items() if count > 0]


def frame(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False, separators=(",", ":"))


def send_to_room(room_id: int, frames: dict[str, str], *, only_member: int | None = None) -> None:
    """Send a frame to every connection in the room: ``frames[language]`` to those reading
    in that language, ``frames[""]`` to the others. ``only_member`` narrows it to one
    member's connections. Safe to call from sync code (services, tasks)."""
    event: dict[str, Any] = {"type": "live.frame", "frames": frames, "at": time.time()}
    if only_member is not None:
        event["member"] = only_member
    async_to_sync(get_channel_layer().group_send)(room_group(room_id), event)


def kick(room_id: int, member_id: int, code: int) -> None:
    """Close ``member_id``'s connections to the room with ``code`` (banned: 4403)."""
    event = {"type": "live.kick", "member": member_id, "code": code}
    async_to_sync(get_channel_layer().group_send)(room_group(room_id), event)


def close_room(room_id: int) -> None:
    """Tell every connection the room has ended, and close them."""
    event = {"type": "live.ended", "frame": frame("room.ended", room=str(room_id))}
    async_to_sync(get_channel_layer().group_send)(room_group(room_id), event)


def presence_due(room_id: int) -> str:
    """When to announce a change of viewers: "now" at most every few seconds; "later" for
    the first change inside that window (its announcement, after the window, carries every
    change since); "" for the rest, which that later announcement covers."""
    if cache.add(f"live:presence-sent:{room_id}", 1, timeout=PRESENCE_EVERY_SECONDS):
        return "now"
    if cache.add(f"live:presence-pending:{room_id}", 1, timeout=PRESENCE_EVERY_SECONDS * 3):
        return "later"
    return ""


def announce_presence(room_id: int, *, trailing: bool = False) -> None:
    """Send the room's viewer count to its connections."""
    if trailing:
        cache.delete(f"live:presence-pending:{room_id}")
    frames = {"": frame("presence", viewers=viewer_count(room_id))}
    send_to_room(room_id, frames)


def slow_mode_hold(room_id: int, member_id: int, seconds: int) -> bool:
    """Start ``member_id``'s slow-mode wait in the room; False while one is running."""
    if not seconds:
        return True
    return bool(cache.add(f"live:slow:{room_id}:{member_id}", 1, timeout=seconds))
