"""API tokens: issued on login, stored hashed, listable, revocable, and login is rate limited."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from papercrane.accounts.models import ApiToken, Member
from tests.helpers import PASSWORD, ApiClient, problem

# Logins check passwords in a worker thread, which must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def test_login_issues_a_bearer_token_that_is_stored_hashed(api: ApiClient, alice: Member) -> None:
    response = api.post("/auth/token", {"username": "ALICE", "password": PASSWORD, "name": "phone"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    secret = body["access_token"]
    token = ApiToken.objects.get(pk=body["id"])
    assert token.name == "phone"
    assert secret not in (token.token_hash, token.prefix)
    me = ApiClient(token=secret).get("/accounts/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong-password"), ("nobody", PASSWORD)]
)
def test_bad_credentials_are_a_401(
    api: ApiClient, alice: Member, username: str, password: str
) -> None:
    problem(api.post("/auth/token", {"username": username, "password": password}), 401)


def test_inactive_members_cannot_log_in(api: ApiClient, alice: Member) -> None:
    Member.objects.filter(pk=alice.pk).update(is_active=False)
    problem(api.post("/auth/token", {"username": "alice", "password": PASSWORD}), 401)


def test_private_endpoints_need_a_valid_token(api: ApiClient) -> None:
    response = api.get("/accounts/me")
    problem(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"
    problem(ApiClient(token="pct_not-a-real-token").get("/accounts/me"), 401)


def test_tokens_are_listed_and_revocable(
    alice: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    client = as_member(alice)
    second = as_member(alice)
    listing = client.get("/auth/tokens").json()
    assert len(listing["items"]) == 2
    assert sum(item["current"] for item in listing["items"]) == 1
    other_id = next(item["id"] for item in listing["items"] if not item["current"])
    assert client.delete(f"/auth/tokens/{other_id}").status_code == 204
    problem(second.get("/accounts/me"), 401)
    problem(client.delete(f"/auth/tokens/{other_id}"), 404)


def test_a_member_cannot_revoke_someone_elses_token(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    bobs = as_member(bob)
    bobs_token_id = bobs.get("/auth/tokens").json()["items"][0]["id"]
    problem(as_member(alice).delete(f"/auth/tokens/{bobs_token_id}"), 404)
    assert bobs.get("/accounts/me").status_code == 200


def test_token_pages_use_cursors(alice: Member, as_member: Callable[[Member], ApiClient]) -> None:
    client = as_member(alice)
    for _ in range(4):
        as_member(alice)
    first = client.get("/auth/tokens?limit=2").json()
    second = client.get(f"/auth/tokens?limit=2&cursor={first['next_cursor']}").json()
    third = client.get(f"/auth/tokens?limit=2&cursor={second['next_cursor']}").json()
    ids = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert len(ids) == len(set(ids)) == 5
    assert third["next_cursor"] is None
    problem(client.get("/auth/tokens?cursor=forged"), 400)
    problem(client.get("/auth/tokens?limit=1000"), 422)


def test_repeated_failed_logins_lock_the_account_for_a_while(api: ApiClient, alice: Member) -> None:
    for _ in range(10):
        problem(api.post("/auth/token", {"username": "alice", "password": "guess-guess"}), 401)
    response = api.post("/auth/token", {"username": "alice", "password": PASSWORD})
    problem(response, 429)
    assert int(response["Retry-After"]) > 0
