"""The pages members read about their data: "Your data" with live counts, sessions and
devices (sign out one or every other), the privacy policy and the terms, in both languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.engagement import services as engagement
from papercrane.notes import services as note_services
from papercrane.notes.models import Note
from papercrane.privacy import inventory
from papercrane.privacy.models import SignIn
from tests.helpers import PASSWORD

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def post() -> Callable[..., Note]:
    def make(author: Member, title: str = "周末去爬山 Weekend hike", **fields: Any) -> Note:
        return note_services.create_note(
            author=author, fields=note_services.NoteFields(title=title, **fields)
        )

    return make


def signed_in(username: str, user_agent: str = FIREFOX, address: str = "203.0.113.7") -> Client:
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    response = client.post("/login", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def shown_counts(page: str) -> dict[str, int]:
    return {
        key: int(count) for key, count in re.findall(r'data-count="(\w+)">(\d+) records?<', page)
    }


def test_your_data_shows_every_category_with_the_members_live_count(
    alice: Member, bob: Member, post: Callable[..., Note]
) -> None:
    note = post(alice, body="With @bob on the ridge")
    post(bob, title="Bob's dumplings")
    engagement.like_note(member=alice, note=note)
    engagement.add_comment(author=alice, note=note, body="Back next year")
    account_services.follow(member=alice, target=bob)
    client = signed_in("alice")
    page = client.get("/me/data").content.decode()
    counts = inventory.counts(alice.pk)
    assert shown_counts(page) == counts
    for category in inventory.categories():
        assert escape(str(category.title)) in page
        assert escape(str(category.retention)) in page
    assert counts["likes"] == 1 and counts["follows"] == 1 and counts["comments"] == 1
    assert counts["sessions"] == 1  # this sign-in
    assert 'href="/settings#privacy"' in page and 'href="/settings/sessions"' in page


def test_your_data_is_for_the_signed_in_member_only() -> None:
    response = Client().get("/me/data")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_signing_in_records_a_sign_in_and_sign_out_there_ends_that_session(alice: Member) -> None:
    laptop = signed_in("alice", FIREFOX)
    phone = signed_in("alice", SAFARI, "198.51.100.4")
    sign_ins = SignIn.objects.filter(member=alice).order_by("pk")
    assert [s.ip_address for s in sign_ins] == ["203.0.113.7", "198.51.100.4"]
    page = laptop.get("/settings/sessions").content.decode()
    assert "Firefox on Linux" in page and "Safari on iOS" in page
    this_device = page[page.index("This device") - 300 : page.index("This device")]
    assert "Firefox on Linux" in this_device

    phone_session = sign_ins.last()
    assert phone_session is not None
    response = laptop.post(f"/settings/sessions/{phone_session.pk}/end")
    assert response.status_code == 302
    phone_session.refresh_from_db()
    assert phone_session.ended_at is not None
    assert phone.get("/me/data").status_code == 302  # the phone is signed out
    assert laptop.get("/me/data").status_code == 200  # the laptop is not
    assert "Safari on iOS" not in laptop.get("/settings/sessions").content.decode()


def test_a_member_cannot_end_someone_elses_session(alice: Member, bob: Member) -> None:
    signed_in("bob")
    bobs = SignIn.objects.get(member=bob)
    assert signed_in("alice").post(f"/settings/sessions/{bobs.pk}/end").status_code == 404
    bobs.refresh_from_db()
    assert bobs.ended_at is None


def test_sign_out_everywhere_else_keeps_this_device(alice: Member) -> None:
    here = signed_in("alice")
    elsewhere = [signed_in("alice", SAFARI), signed_in("alice")]
    assert here.post("/settings/sessions/others/end").status_code == 302
    assert all(client.get("/me/data").status_code == 302 for client in elsewhere)
    assert here.get("/me/data").status_code == 200
    assert SignIn.objects.filter(member=alice, ended_at__isnull=True).count() == 1


def test_logging_out_ends_the_sign_in(alice: Member) -> None:
    client = signed_in("alice")
    client.post("/logout")
    assert SignIn.objects.get(member=alice).ended_at is not None


def test_last_seen_moves_at_most_every_few_minutes(alice: Member) -> None:
    client = signed_in("alice")
    sign_in = SignIn.objects.get(member=alice)
    long_ago = timezone.now() - timedelta(minutes=10)
    SignIn.objects.filter(pk=sign_in.pk).update(last_seen_at=long_ago)
    client.get("/me/data")  # the first request of this session since signing in
    sign_in.refresh_from_db()
    assert sign_in.last_seen_at > long_ago
    SignIn.objects.filter(pk=sign_in.pk).update(last_seen_at=long_ago)
    client.get("/me/data")  # moved a moment ago: no write this time
    sign_in.refresh_from_db()
    assert sign_in.last_seen_at == long_ago


def test_signing_in_again_cancels_a_pending_deletion(alice: Member) -> None:
    Member.objects.filter(pk=alice.pk).update(erase_after=timezone.now() + timedelta(days=30))
    signed_in("alice")
    alice.refresh_from_db()
    assert alice.erase_after is None


def test_the_delete_section_shows_a_pending_deletion_and_how_to_keep_the_account(
    alice: Member,
) -> None:
    client = signed_in("alice")
    page = client.get("/me/data").content.decode()
    assert 'name="password"' in page and 'autocomplete="current-password"' in page
    Member.objects.filter(pk=alice.pk).update(erase_after=timezone.now() + timedelta(days=30))
    page = client.get("/me/data").content.decode()
    assert "Your account will be erased on" in page
    assert "Signing in again before then cancels the deletion." in page
    assert 'action="/me/data/delete/cancel"' in page


def test_deleting_needs_the_password_and_can_be_cancelled(alice: Member) -> None:
    pytest.importorskip("papercrane.privacy.erasure")
    client = signed_in("alice")
    wrong = client.post("/me/data/delete", {"password": "not-my-password"})
    assert wrong.status_code == 400 and "That is not your password." in wrong.content.decode()
    alice.refresh_from_db()
    assert alice.erase_after is None
    assert client.post("/me/data/delete", {"password": PASSWORD}).status_code == 302
    alice.refresh_from_db()
    assert alice.erase_after is not None
    assert client.post("/me/data/delete/cancel").status_code == 302
    alice.refresh_from_db()
    assert alice.erase_after is None


def test_requesting_an_export_lists_it(alice: Member) -> None:
    pytest.importorskip("papercrane.privacy.export")
    client = signed_in("alice")
    response = client.post("/me/data/export", follow=True)
    assert response.status_code == 200
    assert alice.exports.count() == 1
    assert alice.exports.get().get_status_display() in response.content.decode()


def test_the_forms_on_your_data_need_csrf(alice: Member) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/me/data/delete", {"password": PASSWORD}).status_code == 403
    assert client.post("/settings/sessions/others/end").status_code == 403


# --- Privacy policy and terms ---------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_privacy_policy_lists_every_category_in_both_languages(
    language: str, settings: object
) -> None:
    settings.OPERATOR_NAME = "Crane Club e.V."  # type: ignore[attr-defined]
    settings.OPERATOR_CONTACT = "privacy@crane.example"  # type: ignore[attr-defined]
    settings.OPERATOR_JURISDICTION = "Germany"  # type: ignore[attr-defined]
    page = Client(headers={"accept-language": language}).get("/privacy").content.decode()
    with translation.override(language):
        for category in inventory.categories():
            for text in (
                category.title,
                category.what,
                category.purpose,
                category.retention,
                category.legal_basis,
                category.visible_to,
            ):
                assert escape(str(text)) in page
                if language != "en":
                    with translation.override("en"):
                        english = str(text)
                    assert str(text) != english, f"untranslated: {english}"
    assert "Crane Club e.V." in page and "privacy@crane.example" in page and "Germany" in page
    assert ("30 days" if language == "en" else "30 天") in page


def test_the_privacy_policy_says_plainly_what_is_not_done(db: None) -> None:
    page = Client(headers={"accept-language": "en"}).get("/privacy").content.decode()
    assert "keeps no metadata" in page
    assert "We do not sell your data" in page
    assert "We do not track you across other sites" in page
    assert "Cookies are used only" in page


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_terms_point_to_the_rules_appeals_and_deletion(language: str) -> None:
    response = Client(headers={"accept-language": language}).get("/terms")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="/rules"' in page and 'href="/privacy"' in page
    with translation.override(language):
        from django.utils.translation import gettext

        assert gettext("Appeals") in page
        assert gettext("Deleting your account") in page
    if language != "en":
        assert "申诉" in page


def test_the_footer_and_the_signup_page_link_to_the_policy_and_terms(db: None) -> None:
    home = Client().get("/").content.decode()
    footer = home[home.index('<footer class="footer">') :]
    assert 'href="/privacy"' in footer and 'href="/terms"' in footer
    signup = Client().get("/signup").content.decode()
    start = signup.index('<form method="post" novalidate>')
    form = signup[start : signup.index("</form>", start)]
    assert 'href="/privacy"' in form and 'href="/terms"' in form
