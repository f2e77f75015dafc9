"""``papercrane refresh-explore``: Explore's precomputed lists and model, recomputed now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from papercrane.feed import services


class Command(BaseCommand):
    help = (
        "Recompute what Explore precomputes (trending and new notes, co-engagement "
        "neighbours, members' profiles, the ranking model) now rather than at the jobs' next "
        "periodic run: after an import, say. Servers use it within seconds."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        timings = services.train()
        parts = ", ".join(
            f"{name.removesuffix('_s')} {seconds:.1f} s" for name, seconds in timings.items()
        )
        self.stdout.write(f"Explore refreshed: {parts}.")
