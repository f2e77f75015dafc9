from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from papercrane.accounts import services
from papercrane.accounts.models import Member


class Command(BaseCommand):
    help = "Give a member the moderator role (access to the moderation queue)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            member = services.grant_moderator(username=options["username"])
        except Member.DoesNotExist as error:
            raise CommandError(f"No member is called {options['username']!r}.") from error
        self.stdout.write(f"{member.username} is now a moderator.")
