"""Test helpers: a JSON API client, generated images and problem+json assertions."""

from __future__ import annotations

import io
import json
from typing import Any

from django.test import Client
from PIL import Image

PASSWORD = "paper-crane-flies-2026"


class ApiClient:
    """A Django test client speaking JSON to /api/v1, optionally with a bearer token."""

    def __init__(self, token: str | None = None, **headers: str) -> None:
        self.client = Client(**headers)
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        call = getattr(self.client, method)
        if body is not None:
            kwargs.setdefault("data", json.dumps(body))
            kwargs.setdefault("content_type", "application/json")
        return call(
            f"/api/v1{path}", headers={**self._headers(), **kwargs.pop("headers", {})}, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("get", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.request("post", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.request("patch", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("delete", path, **kwargs)


def image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (640, 480), color: str = "tomato"
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def problem(response: Any, status: int) -> dict[str, Any]:
    """Assert ``response`` is a problem+json with ``status`` and return its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:papercrane:problem:")
    return body


def error_fields(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}
