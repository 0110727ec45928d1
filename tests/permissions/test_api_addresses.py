"""Under /api/, a 404 or a 403 raised outside the API's own handlers (its root address, an
address it does not have) is answered like the API's own: JSON with a `detail` sentence, not
an error 500."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory

from tidings.apikit.errors import NOT_FOUND
from tidings.apikit.middleware import JSONErrorsForAPI


@pytest.mark.parametrize("path", ["/api/", "/api/nowhere", "/api/threads/1/nowhere"])
def test_addresses_the_api_does_not_have_are_a_json_404(db, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": NOT_FOUND}


def test_the_api_root_is_not_logged_as_an_error(db, caplog) -> None:
    Client().get("/api/")
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


@pytest.mark.parametrize(
    ("exception", "status", "detail"),
    [
        (Http404("docs_url = /api/docs"), 404, NOT_FOUND),
        (PermissionDenied(), 403, "You are not allowed to do that."),
        (PermissionDenied("Only owners manage owners."), 403, "Only owners manage owners."),
    ],
)
def test_refusals_outside_the_handlers_keep_their_status(exception, status, detail) -> None:
    middleware = JSONErrorsForAPI(lambda request: None)
    response = middleware.process_exception(RequestFactory().get("/api/x"), exception)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.content.decode() == f'{{"detail": "{detail}"}}'


def test_other_failures_are_still_a_500_with_an_error_number() -> None:
    middleware = JSONErrorsForAPI(lambda request: None)
    response = middleware.process_exception(RequestFactory().get("/api/x"), ValueError("boom"))
    assert response.status_code == 500
    assert b"error " in response.content


def test_pages_outside_the_api_are_left_to_django() -> None:
    middleware = JSONErrorsForAPI(lambda request: None)
    assert middleware.process_exception(RequestFactory().get("/inbox/"), Http404()) is None
