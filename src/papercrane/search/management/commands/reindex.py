"""``papercrane reindex``: rebuild the search index from the notes."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from papercrane.search import services


class Command(BaseCommand):
    help = "Rebuild the search index from all published notes."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        count = services.reindex_all()
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Indexed {count} notes in {elapsed:.1f} s.")
