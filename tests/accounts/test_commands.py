"""``papercrane grant-moderator``: gives a member the moderator role."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from papercrane.accounts.models import Member

pytestmark = pytest.mark.django_db


def test_grant_moderator_by_any_case(alice: Member, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("grant_moderator", "ALICE")
    alice.refresh_from_db()
    assert alice.is_moderator
    assert "alice is now a moderator." in capsys.readouterr().out


def test_grant_moderator_names_an_unknown_member() -> None:
    with pytest.raises(CommandError, match="nobody"):
        call_command("grant_moderator", "nobody")
