"""The web shell: pages in both languages, preferences, CSRF, escaping and security headers."""

from __future__ import annotations

import pytest
from django.test import Client

from papercrane.accounts.models import Member
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/search?q=ali", "/signup", "/login", "/@alice"])
def test_public_pages_render_in_english_and_chinese(alice: Member, path: str) -> None:
    english = Client().get(path, headers={"Accept-Language": "en"})
    chinese = Client().get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert english.status_code == chinese.status_code == 200
    assert "Explore" in english.content.decode()
    assert "发现" in chinese.content.decode()
    assert chinese["Content-Language"] == "zh-hans"


def test_private_pages_send_visitors_to_login() -> None:
    for path in ["/post", "/notifications", "/settings", "/settings/tokens"]:
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login?next=")


def test_security_headers_are_set() -> None:
    response = Client().get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_signup_form_signs_the_member_in() -> None:
    client = Client()
    response = client.post(
        "/signup",
        {
            "username": "web_member",
            "display_name": "网页",
            "password": PASSWORD,
            "language": "zh-Hans",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/@web_member"
    page = client.get("/@web_member").content.decode()
    assert "编辑资料" in page  # the member's own language, from their preference


def test_signup_form_shows_field_errors(alice: Member) -> None:
    page = (
        Client()
        .post("/signup", {"username": "ALICE", "password": "123", "language": "en"})
        .content.decode()
    )
    assert "This username is already taken." in page
    assert Member.objects.count() == 1


def test_member_preference_beats_accept_language(bob: Member) -> None:
    client = Client()
    client.force_login(bob)
    page = client.get("/", headers={"Accept-Language": "en"}).content.decode()
    assert "发现" in page


def test_language_switch_is_saved_for_members(alice: Member) -> None:
    client = Client()
    client.force_login(alice)
    response = client.post("/language", {"language": "zh-hans", "next": "/settings"})
    assert response["Location"] == "/settings"
    alice.refresh_from_db()
    assert alice.language == "zh-Hans"


def test_language_switch_refuses_offsite_redirects() -> None:
    response = Client().post("/language", {"language": "zh-hans", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_login_refuses_offsite_next(alice: Member) -> None:
    response = Client().post(
        "/login?next=https://evil.example/", {"username": "alice", "password": PASSWORD}
    )
    assert response["Location"] == "/"


def test_login_with_wrong_password_says_so(alice: Member) -> None:
    page = Client().post("/login", {"username": "alice", "password": "nope-nope"}).content.decode()
    assert "Wrong username or password." in page


def test_forms_require_csrf(alice: Member) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post("/login", {"username": "alice", "password": PASSWORD}).status_code == 403
    client.force_login(alice)
    assert client.post("/language", {"language": "zh-hans"}).status_code == 403


def test_session_api_calls_require_csrf(alice: Member) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/api/v1/accounts/me").status_code == 200
    response = client.patch("/api/v1/accounts/me", '{"bio": "x"}', content_type="application/json")
    assert response.status_code in {401, 403}


def test_user_text_is_escaped(make_member: object) -> None:
    member = make_member(
        "mallory", display_name="<script>alert(1)</script>", bio='"><img src=x onerror=alert(1)>'
    )  # type: ignore[operator]
    page = Client().get(f"/@{member.username}").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "<img src=x" not in page


def test_tokens_page_creates_and_revokes(alice: Member) -> None:
    client = Client()
    client.force_login(alice)
    page = client.post("/settings/tokens", {"name": "laptop"}).content.decode()
    assert "pct_" in page
    token_id = alice.api_tokens.get().pk
    client.post("/settings/tokens", {"revoke": str(token_id)})
    assert alice.api_tokens.get().revoked_at is not None


def test_tokens_page_will_not_revoke_another_members_token(alice: Member, bob: Member) -> None:
    from papercrane.accounts.services import issue_token

    bobs = issue_token(member=bob, name="bob's").token
    client = Client()
    client.force_login(alice)
    assert client.post("/settings/tokens", {"revoke": str(bobs.pk)}).status_code == 404
    bobs.refresh_from_db()
    assert bobs.revoked_at is None


def test_profile_settings_form_saves(alice: Member) -> None:
    client = Client()
    client.force_login(alice)
    response = client.post(
        "/settings",
        {
            "display_name": "爱丽丝",
            "bio": "写字的人",
            "language": "zh-Hans",
            "time_zone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.display_name, alice.language, alice.time_zone) == (
        "爱丽丝",
        "zh-Hans",
        "Asia/Shanghai",
    )
