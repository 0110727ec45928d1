from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path

from tidings.api.main import api
from tidings.apikit.errors import NOT_FOUND


def unknown_path(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other address under /api/ answers in JSON too."""
    return JsonResponse({"detail": NOT_FOUND}, status=404)


urlpatterns = [path("", api.urls), re_path(r"^(?P<rest>.*)$", unknown_path)]
