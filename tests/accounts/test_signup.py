"""Signing up through the API: the happy path and every way it can go wrong."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import close_old_connections

from papercrane.accounts.models import Member
from tests.helpers import PASSWORD, ApiClient, error_fields, problem

# Signup hashes passwords in a worker thread, which must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def signup(api: ApiClient, **fields: Any) -> Any:
    return api.post("/accounts", {"password": PASSWORD, **fields})


def test_signup_creates_an_account_with_private_fields(api: ApiClient) -> None:
    response = signup(api, username="Maya_Chen", display_name="陈玛雅", language="zh-Hans")
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "Maya_Chen"
    assert body["display_name"] == "陈玛雅"
    assert body["language"] == "zh-Hans"
    assert body["id"] == str(Member.objects.get(username="Maya_Chen").pk)


def test_password_is_stored_with_argon2id_at_owasp_parameters(api: ApiClient) -> None:
    signup(api, username="hasher")
    stored = Member.objects.get(username="hasher").password
    assert stored.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in stored


@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice"])
def test_usernames_are_unique_ignoring_case(api: ApiClient, alice: Member, taken: str) -> None:
    body = problem(signup(api, username=taken), 422)
    assert error_fields(body) == {"username"}
    assert Member.objects.count() == 1


@pytest.mark.parametrize("username", ["admin", "Settings", "api", "help"])
def test_reserved_usernames_are_refused(api: ApiClient, username: str) -> None:
    body = problem(signup(api, username=username), 422)
    assert body["errors"][0]["code"] == "reserved"


@pytest.mark.parametrize("username", ["小明", "ab", "a" * 31, "bad name", "émile", "x<script>", ""])
def test_usernames_must_be_short_ascii_words(api: ApiClient, username: str) -> None:
    assert error_fields(problem(signup(api, username=username), 422)) == {"username"}


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "maya_chen_1"])
def test_weak_passwords_are_refused(api: ApiClient, password: str) -> None:
    body = problem(api.post("/accounts", {"username": "maya_chen", "password": password}), 422)
    assert error_fields(body) == {"password"}


def test_oversized_fields_name_the_field(api: ApiClient) -> None:
    body = problem(signup(api, username="maya", display_name="长" * 51, email="a" * 300), 422)
    assert error_fields(body) == {"display_name", "email"}


def test_invalid_email_and_language(api: ApiClient) -> None:
    body = problem(signup(api, username="maya", email="not-an-email"), 422)
    assert error_fields(body) == {"email"}
    body = problem(signup(api, username="maya", language="fr"), 422)
    assert error_fields(body) == {"language"}


def test_every_invalid_field_is_named_at_once(api: ApiClient) -> None:
    body = problem(
        api.post("/accounts", {"username": "admin", "password": "123", "email": "x"}), 422
    )
    assert error_fields(body) == {"username", "password", "email"}


def test_missing_fields_are_listed(api: ApiClient) -> None:
    body = problem(api.post("/accounts", {}), 422)
    assert error_fields(body) == {"username", "password"}


def test_malformed_json_is_a_400(api: ApiClient) -> None:
    response = api.post("/accounts", data='{"username": "maya"', content_type="application/json")
    assert problem(response, 400)["type"].endswith("malformed-json")
    response = api.post("/accounts", data="[1, 2]", content_type="application/json")
    problem(response, 400)


def test_wrong_content_type_is_a_415(api: ApiClient) -> None:
    response = api.post(
        "/accounts",
        data="username=maya&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    problem(response, 415)


def test_errors_speak_the_requesters_language(api: ApiClient) -> None:
    response = api.post(
        "/accounts",
        {"username": "admin", "password": PASSWORD},
        headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    body = problem(response, 422)
    assert body["errors"][0]["message"] == "该用户名已被保留。"
    assert body["title"] == "有些字段需要修改"


def test_signups_are_rate_limited_per_address(api: ApiClient) -> None:
    for number in range(20):
        assert signup(api, username=f"member{number}").status_code == 201
    response = signup(api, username="one_too_many")
    body = problem(response, 429)
    assert int(response["Retry-After"]) > 0
    assert body["type"].endswith("rate-limited")
    assert not Member.objects.filter(username="one_too_many").exists()


def test_concurrent_signups_for_one_name_create_exactly_one_member() -> None:
    names = ["racer", "RACER", "Racer", "rAcer"]
    statuses: list[int] = []

    def attempt(name: str) -> None:
        try:
            statuses.append(signup(ApiClient(), username=name).status_code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=attempt, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 422, 422, 422]
    assert Member.objects.filter(username__iexact="racer").count() == 1
