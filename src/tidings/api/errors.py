"""Every API error, in one place, as JSON with a `detail` sentence.

- Http404 → 404 with the same body whether a thing does not exist or is private.
- PermissionDenied → 403; Django's ValidationError and request validation → 422 with `errors`.
- Too many invitations (Ratelimited) → 429 with a sentence and Retry-After.
- A missing or bad token → 401 (an expired one says so); a token without the scope → 403.
- A body that is not a JSON object → 400. Too large → 413.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django_ratelimit.exceptions import Ratelimited
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError

from tidings.api.parser import BODY_ERROR_ATTRIBUTE

NOT_FOUND = "Not found."
UNAUTHORIZED = "Send a valid personal access token in the header: Authorization: Bearer tid_…"


def _django_validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": field, "message": message}
            for field, errors in exc.message_dict.items()
            for message in errors
        ]
    return [{"field": "", "message": message} for message in exc.messages]


def _request_validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Pydantic's errors without the `input` they echo (it may be a huge string)."""
    rows = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ())]
        # ("body", "payload", "title") → "title": the wrapper names say nothing to a client.
        if len(location) >= 2 and location[0] in {"body", "form", "file"}:
            location = location[2:] or location[1:]
        elif location and location[0] in {"query", "path"}:
            location = location[1:]
        rows.append({"field": ".".join(location), "message": str(error.get("msg", "Invalid."))})
    return rows


def _summary(rows: list[dict[str, str]]) -> str:
    first = rows[0] if rows else {"field": "", "message": "The request is not valid."}
    prefix = f"{first['field']}: " if first["field"] else ""
    return prefix + first["message"]


def install(api: NinjaAPI) -> None:
    """Register the handlers on the API."""

    def reply(request: HttpRequest, status: int, **body: Any) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return reply(request, 404, detail=NOT_FOUND)

    @api.exception_handler(Ratelimited)
    def too_many(request: HttpRequest, exc: Ratelimited) -> HttpResponse:
        response = reply(request, 429, detail=str(exc) or "Too many requests. Try again later.")
        response["Retry-After"] = "3600"
        return response

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        message = str(exc) or "You are not allowed to do that."
        return reply(request, 403, detail=message)

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        rows = _django_validation_errors(exc)
        return reply(request, 422, detail=_summary(rows), errors=rows)

    @api.exception_handler(RequestValidationError)
    def invalid_request(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
        rows = _request_validation_errors(exc)
        return reply(request, 422, detail=_summary(rows), errors=rows)

    @api.exception_handler(AuthenticationError)
    def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = reply(request, 401, detail=getattr(exc, "detail", UNAUTHORIZED))
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            message = getattr(request, BODY_ERROR_ATTRIBUTE, "The request body is not valid JSON.")
            return reply(request, 400, detail=message)
        return reply(request, exc.status_code, detail=str(exc))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return reply(request, 413, detail="The request is too large.")
