"""Under /api/, every answer is JSON, errors included: those the API's own handlers do not
make (an unexpected exception, a method an address does not take, a request Django refused
before the API saw it) become JSON with a `detail` sentence as well."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from tidings.apikit.errors import NOT_FOUND

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
SENTENCES = {
    400: "The request is not valid.",
    403: "You are not allowed to do that.",
    404: NOT_FOUND,
    405: "This address does not take {method}; it takes {allowed}.",
    413: "The request is too large.",
    500: "Something went wrong on our side. Try again later.",
}


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class JSONErrorsForAPI:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not _is_json(response)
        ):
            return self._as_json(request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A failure nobody handled: logged with an id the person can quote. A 404 or 403
        raised outside the API's handlers (its root address, say) is no failure: it gets the
        API's JSON answer for that status."""
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, Http404):
            return JsonResponse({"detail": SENTENCES[404]}, status=404)
        if isinstance(exception, PermissionDenied):
            return JsonResponse({"detail": str(exception) or SENTENCES[403]}, status=403)
        error_id = secrets.token_hex(6)
        logger.error(
            "API error %s on %s %s",
            error_id,
            request.method,
            request.path,
            exc_info=exception,
        )
        detail = (
            f"Something went wrong on our side (error {error_id}). Try again later; if it "
            "keeps happening, give your administrator the error number."
        )
        return JsonResponse({"detail": detail}, status=500)

    def _as_json(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        status = response.status_code
        sentence = SENTENCES.get(status) or f"{response.reason_phrase}."
        if status == 405:
            allowed = ", ".join(sorted(filter(None, response.get("Allow", "").split(", "))))
            sentence = sentence.format(method=request.method, allowed=allowed or "no method")
        answer = JsonResponse({"detail": sentence}, status=status)
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if header in response:
                answer[header] = response[header]
        return answer
