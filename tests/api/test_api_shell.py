"""The API shell: OpenAPI, docs, problem+json for unknown paths and methods, health."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import ApiClient, problem

pytestmark = pytest.mark.django_db


def test_openapi_document_lists_the_account_endpoints(api: ApiClient) -> None:
    spec = api.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    for path in [
        "/api/v1/accounts",
        "/api/v1/auth/token",
        "/api/v1/accounts/me",
        "/api/v1/accounts/{username}/follow",
    ]:
        assert path in spec["paths"]


def test_interactive_docs_are_served_without_a_cdn(api: ApiClient) -> None:
    page = api.get("/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


def test_unknown_api_paths_are_problem_json(api: ApiClient) -> None:
    problem(api.get("/no/such/thing"), 404)
    problem(Client().get("/api/v2/accounts"), 404)


def test_wrong_method_is_not_a_500(api: ApiClient) -> None:
    response = api.request("put", "/accounts", {"username": "x"})
    assert response.status_code == 405


def test_oversized_body_is_a_413(api: ApiClient) -> None:
    payload = '{"username": "' + "x" * 3_000_000 + '"}'
    problem(api.post("/accounts", data=payload, content_type="application/json"), 413)


def test_healthz_checks_the_database(settings: object) -> None:
    body = Client().get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    if getattr(settings, "REDIS_URL", ""):
        assert body["redis"] == "ok"
