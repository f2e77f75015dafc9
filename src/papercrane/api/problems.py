"""RFC 9457 problem details: every API error is ``application/problem+json`` with a stable type."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from papercrane.media.processing import MediaRejected
from papercrane.ratelimit import RateLimited

PROBLEM_TYPE_PREFIX = "urn:papercrane:problem:"
CONTENT_TYPE = "application/problem+json"


class Problem(Exception):
    """Raise from a handler to answer with a problem document."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str = "",
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(request: HttpRequest, problem: Problem) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + problem.kind,
        "title": problem.title,
        "status": problem.status,
        "instance": request.path,
    }
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    response = JsonResponse(
        body,
        status=problem.status,
        content_type=CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
    for header, value in problem.headers.items():
        response[header] = value
    return response


def not_found() -> Problem:
    return Problem(
        404, "not-found", _("Not found"), _("There is nothing here, or it is not yours to see.")
    )


def validation_problem(errors: list[dict[str, str]]) -> Problem:
    return Problem(422, "validation-error", _("Some fields need attention"), errors=errors)


# Pydantic explains errors in English only; these say the same in the requester's language.
def _pydantic_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_short":
        return _("Use at least %(count)s characters.") % {"count": ctx.get("min_length")}
    if kind == "string_too_long":
        return _("Use at most %(count)s characters.") % {"count": ctx.get("max_length")}
    if kind in {"literal_error", "enum"}:
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind == "extra_forbidden":
        return _("This field is not accepted here.")
    if kind in {"string_type", "int_type", "int_parsing", "bool_type", "bool_parsing", "list_type"}:
        return _("This value has the wrong type.")
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", ""))
    return _("Enter a valid value.")


_LOCATION_ROOTS = {"body", "query", "path", "form", "file", "header", "cookie", "payload"}


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc]
    while len(parts) > 1 and parts[0] in _LOCATION_ROOTS:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _from_ninja_validation(error: NinjaValidationError) -> Problem:
    if any(item.get("type") == "json_invalid" for item in error.errors):
        return Problem(400, "malformed-json", _("The request body is not valid JSON"))
    return validation_problem(
        [
            {
                "field": _field_name(item.get("loc", ())),
                "message": _pydantic_message(item),
                "code": str(item.get("type", "invalid")),
            }
            for item in error.errors
        ]
    )


def from_django_validation(error: DjangoValidationError) -> Problem:
    """A service's ValidationError({field: [...]}) as a problem listing each field."""
    errors: list[dict[str, str]] = []
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            for item in field_errors:
                message = item.message % item.params if item.params else item.message
                errors.append(
                    {"field": field, "message": str(message), "code": item.code or "invalid"}
                )
    else:
        errors = [
            {"field": "body", "message": str(message), "code": "invalid"}
            for message in error.messages
        ]
    return validation_problem(errors)


def rate_limited(error: RateLimited) -> Problem:
    return Problem(
        429,
        "rate-limited",
        _("Too many requests"),
        error.message,
        headers={"Retry-After": str(error.retry_after)},
    )


def _from_http_error(error: HttpError) -> Problem:
    # ninja wraps what our body parser raises in an HttpError; answer with the original problem.
    if isinstance(error.__cause__, Problem):
        return error.__cause__
    return Problem(error.status_code, "http-error", str(error.message))


def _from_rejected_media(error: MediaRejected) -> Problem:
    kind = "unsupported-media-type" if error.status == 415 else "invalid-image"
    message = str(error.message)
    return Problem(
        error.status,
        kind,
        message,
        errors=[{"field": "file", "message": message, "code": error.code}],
    )


def install(api: NinjaAPI) -> None:
    """Route every error the API can raise through problem_response."""

    def handle(exception_class: type[Exception], to_problem: Any) -> None:
        def handler(request: HttpRequest, exc: Exception) -> HttpResponse:
            return problem_response(request, to_problem(exc))

        api.add_exception_handler(exception_class, handler)  # type: ignore[arg-type]

    handle(Problem, lambda exc: exc)
    handle(NinjaValidationError, _from_ninja_validation)
    handle(DjangoValidationError, from_django_validation)
    handle(RateLimited, rate_limited)
    handle(
        AuthenticationError,
        lambda exc: Problem(
            401,
            "unauthorized",
            _("Sign in first"),
            _("Send a valid bearer token or session."),
            headers={"WWW-Authenticate": "Bearer"},
        ),
    )
    handle(Http404, lambda exc: not_found())
    handle(
        PermissionDenied,
        lambda exc: Problem(
            403, "forbidden", _("Not allowed"), str(exc) or _("You may not do this.")
        ),
    )
    handle(RequestDataTooBig, lambda exc: Problem(413, "too-large", _("The request is too large")))
    handle(HttpError, _from_http_error)
    handle(MediaRejected, _from_rejected_media)
