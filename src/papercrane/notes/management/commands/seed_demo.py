"""``papercrane seed-demo``: demo members now, and the demo notes as fixtures the notes app loads.

Idempotent: members that exist are left as they are. The demo password comes from
PAPERCRANE_DEMO_PASSWORD, or is generated once, kept in the data dir and printed.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from papercrane.accounts import services
from papercrane.accounts.models import Member
from papercrane.notes.demo.photos import load_members, load_notes


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


class Command(BaseCommand):
    help = "Create the demo members (idempotent) and check the demo note fixtures."

    def handle(self, *args: Any, **options: Any) -> None:
        password = demo_password()
        members = load_members()
        created = 0
        for fixture in members:
            if Member.objects.filter(username__iexact=fixture["username"]).exists():
                continue
            services.create_member(password=password, **fixture)
            created += 1
        usernames = {fixture["username"] for fixture in members}
        notes = load_notes()
        strangers = {note["author"] for note in notes} - usernames
        if strangers:
            raise CommandError(f"Demo notes name unknown authors: {sorted(strangers)}")
        self.stdout.write(
            f"Demo members: {created} created, {len(members) - created} already there. "
            f"Demo notes ready to load: {len(notes)}."
        )
        self.stdout.write(
            f"Log in as any of {', '.join(sorted(usernames)[:3])}, … with password: {password}"
        )
