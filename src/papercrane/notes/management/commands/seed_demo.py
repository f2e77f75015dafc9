"""``papercrane seed-demo``: the demo community: 12 members and their 60 photo notes.

Idempotent: members and notes that exist are left as they are. Photos go through the same
pipeline as uploads (clean re-encode, variants, hashes). The demo password comes from
PAPERCRANE_DEMO_PASSWORD, or is generated once, kept in the data dir and printed.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.engagement import services as engagement_services
from papercrane.media import services as media_services
from papercrane.notes import services as note_services
from papercrane.notes.demo.photos import demo_photo_bytes, load_members, load_notes
from papercrane.notes.models import Note


def demo_password() -> str:
    configured = os.environ.get("PAPERCRANE_DEMO_PASSWORD", "").strip()
    if configured:
        return configured
    path = Path(settings.DATA_DIR) / "demo_password"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"crane-{secrets.token_urlsafe(9)}")
    return path.read_text().strip()


DEMO_COMMENTS = {
    "zh-Hans": [
        "太好看了！已收藏",
        "请问具体地址在哪里呀？",
        "马住，周末就去试试",
        "学到了，谢谢分享～",
        "这个配色好绝",
    ],
    "en": [
        "Saving this for my next trip!",
        "Where exactly is this?",
        "So helpful, thank you for sharing.",
        "Love the colours here.",
        "Adding this to my list.",
    ],
}


def _alt_text(ref: dict[str, Any], language: str) -> str:
    return str(ref["alt"].get(language) or ref["alt"].get("en") or "")


class Command(BaseCommand):
    help = "Create the demo members (idempotent) and check the demo note fixtures."

    def handle(self, *args: Any, **options: Any) -> None:
        password = demo_password()
        members = load_members()
        created = 0
        for fixture in members:
            if Member.objects.filter(username__iexact=fixture["username"]).exists():
                continue
            account_services.create_member(password=password, **fixture)
            created += 1
        usernames = {fixture["username"] for fixture in members}
        notes = load_notes()
        strangers = {note["author"] for note in notes} - usernames
        if strangers:
            raise CommandError(f"Demo notes name unknown authors: {sorted(strangers)}")
        posted = sum(self.post_note(fixture) for fixture in notes)
        self.interact(sorted(usernames))
        self.stdout.write(
            f"Demo members: {created} created, {len(members) - created} already there. "
            f"Demo notes: {posted} posted, {len(notes) - posted} already there."
        )
        self.stdout.write(
            f"Log in as any of {', '.join(sorted(usernames)[:3])}, … with password: {password}"
        )

    def post_note(self, fixture: dict[str, Any]) -> bool:
        """Post one demo note (photos processed right away); False if it is already there."""
        author = Member.objects.get(username__iexact=fixture["author"])
        if Note.objects.filter(author=author, title=fixture["title"]).exists():
            return False
        media_ids = []
        for ref in fixture["photos"]:
            media = media_services.upload(
                owner=author, data=demo_photo_bytes(ref), alt_text=_alt_text(ref, author.language)
            )
            media_services.process(media.pk)
            media_ids.append(str(media.pk))
        fields = note_services.NoteFields(
            title=fixture["title"],
            body=fixture["body"],
            media_ids=media_ids,
            topics=fixture["topics"],
            language=fixture["language"],
        )
        note = note_services.create_note(author=author, fields=fields)
        published_at = timezone.now() - timedelta(
            days=fixture["days_ago"], minutes=len(fixture["title"])
        )
        Note.objects.filter(pk=note.pk).update(published_at=published_at, created_at=published_at)
        return True

    def interact(self, usernames: list[str]) -> None:
        """Follows, likes, collects and a few comments among the demo members, so the demo has a
        pulse. Deterministic and idempotent: a second run adds nothing."""
        members = [Member.objects.get(username=name) for name in usernames]
        notes = list(Note.objects.filter(author__in=members).order_by("pk"))
        for index, member in enumerate(members):
            for step in (1, 3, 5):
                account_services.follow(
                    member=member, target=members[(index + step) % len(members)]
                )
            for position, note in enumerate(notes):
                if note.author_id == member.pk or (position + index) % 4:
                    continue
                engagement_services.like_note(member=member, note=note)
                if (position + index) % 8 == 0:
                    engagement_services.collect_note(member=member, note=note)
                if (position + index) % 12 == 0 and not note.comments.filter(
                    author=member
                ).exists():
                    lines = DEMO_COMMENTS[member.language]
                    body = lines[(position + index) % len(lines)]
                    engagement_services.add_comment(author=member, note=note, body=body)
