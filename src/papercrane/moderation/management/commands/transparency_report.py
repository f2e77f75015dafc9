"""``papercrane transparency-report --period 2026-Q4``: the quarter's moderation figures."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from papercrane.moderation import queries


class Command(BaseCommand):
    help = (
        "Print a quarter's moderation figures as JSON (counts by category, action, automation "
        "and source; appeal outcomes; median time to decision). With --statements, print the "
        "quarter's statements of reasons in the DSA Transparency Database's format instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="a quarter, e.g. 2026-Q4")
        parser.add_argument(
            "--statements", action="store_true", help="the DSA statements, not the figures"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        period = options["period"]
        try:
            start, end = queries.quarter(period)
        except ValueError as error:
            raise CommandError(
                f"--period must be a quarter such as 2026-Q4, not {period!r}"
            ) from error
        if options["statements"]:
            result: Any = {"period": period, "statements": queries.dsa_statements(start, end)}
        else:
            result = queries.transparency(period)
        self.stdout.write(json.dumps(result, ensure_ascii=False))
