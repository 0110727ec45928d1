"""Every API error, in one place, as JSON with a `detail` sentence.

- Http404 → 404 with the same body whether a thing does not exist or is private.
- PermissionDenied → 403; Django's ValidationError and request validation → 422 with `errors`.
- Too many invitations (Ratelimited) → 429 with a sentence and Retry-After.
- A missing or bad token → 401 (an expired one says so, as does a page whose session ended:
  session.py); a token without the scope, or a page's refused CSRF token → 403.
- A body that is not a JSON object → 400. Too large → 413.
- A number or date out of what the database holds → 422. Anything else unexpected → 500
  (middleware.py, which also answers in JSON for 405 and errors outside the API's handlers).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django_ratelimit.exceptions import Ratelimited
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError
from pydantic import ValidationError as FieldInvalid
from pydantic import ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import PydanticCustomError

from tidings.apikit.parser import BODY_ERROR_ATTRIBUTE

logger = logging.getLogger(__name__)

NOT_FOUND = "Not found."
OUT_OF_RANGE = "A number or date in the request is too large or too small."
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


def in_words(sentence: str) -> WrapValidator:
    """A schema field's refusal of any bad value (a wrong type, out of bounds) as one sentence
    of ours instead of pydantic's: `Annotated[Id | None, in_words("Choose a space.")]`."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except FieldInvalid as error:
            raise PydanticCustomError("invalid", sentence) from error

    return WrapValidator(validate)


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

    # The last resort for a number or date beyond what the database or date arithmetic holds
    # that no schema bound caught: still the client's input, so 422; logged, to add the bound.
    @api.exception_handler(OverflowError)
    @api.exception_handler(DataError)
    def out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.warning("Out-of-range input on %s %s: %s", request.method, request.path, exc)
        return reply(
            request, 422, detail=OUT_OF_RANGE, errors=[{"field": "", "message": OUT_OF_RANGE}]
        )


# --- The error answers, in the OpenAPI document.


class FieldErrorOut(Schema):
    field: str = Field(..., description="The field, dotted for nested ones; empty for the whole.")
    message: str


class ErrorOut(Schema):
    detail: str = Field(..., description="A sentence that says what went wrong.")


class ValidationErrorOut(ErrorOut):
    errors: list[FieldErrorOut]


ERROR_ANSWERS = {
    "400": ("The body is not a JSON object.", ErrorOut),
    "401": ("No valid personal access token.", ErrorOut),
    "403": ("Not allowed: the token lacks the scope, or the person the right.", ErrorOut),
    "404": ("Not found, or not visible to this person.", ErrorOut),
    "413": ("The request is too large.", ErrorOut),
    "422": ("The input is not valid.", ValidationErrorOut),
}


def _error_codes(operation: dict[str, Any]) -> set[str]:
    """The errors an operation can answer, read from its shape: a token can be missing or
    lack the scope, a path id can name nothing, any input can be invalid, a body can be
    too large or not JSON."""
    codes = set()
    if operation.get("security"):
        codes |= {"401", "403"}
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody")
    if any(parameter["in"] == "path" for parameter in parameters):
        codes.add("404")
    if parameters or body:
        codes.add("422")
    if body:
        codes.add("413")
        if "application/json" in body.get("content", {}):
            codes.add("400")
    return codes


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers every operation can give to the OpenAPI document, each with
    the JSON body the handlers above send; answers a router declared itself are kept."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorOut, ValidationErrorOut):
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema
    for methods in schema["paths"].values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            for code in sorted(_error_codes(operation)):
                description, model = ERROR_ANSWERS[code]
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                            }
                        },
                    },
                )
    return schema
