"""``papercrane reindex``: rebuild the search index from the notes."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from papercrane.search import services


class Command(BaseCommand):
    help = (
        "Rebuild the search index from all published notes, then embed the notes whose "
        "embeddings are missing or stale (when semantic search is on)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-vectors", action="store_true", help="rebuild the lexical index only"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        count = services.reindex_all()
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Indexed {count} notes in {elapsed:.1f} s.")
        if settings.SEMANTIC_SEARCH and not options["no_vectors"]:
            started = time.perf_counter()
            embedded = services.embed_all()
            elapsed = time.perf_counter() - started
            self.stdout.write(f"Embedded {embedded} notes in {elapsed:.1f} s.")
