"""``papercrane privacy-sweep``: run the retention sweep now and print what it deleted."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from papercrane.privacy import services


class Command(BaseCommand):
    help = (
        "Delete what has outlived its declared retention: sign-in addresses, old sign-ins, "
        "Explore impressions, expired exports, revoked tokens and accounts past their grace "
        "period. Prints one JSON line of counts."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = services.purge_expired(timezone.now())
        self.stdout.write(json.dumps(counts, sort_keys=True))
