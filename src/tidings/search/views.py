"""The search page: parse the form, ask search.queries, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tidings.search.forms import SearchForm
from tidings.search.queries import SearchResults, search

PAGE_SIZE = 20
MAX_PAGE = 500


def _page_number(value: str | None) -> int:
    """A page number from the query string; anything odd means the first page."""
    try:
        return min(max(int(value or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.user, request.GET or None)
    results: SearchResults | None = None
    text = request.GET.get("q", "").strip()[:500]
    page = 1
    if form.is_bound and form.is_valid() and form.cleaned_data["q"]:
        data = form.cleaned_data
        page = _page_number(request.GET.get("page"))
        status = data["status"]
        results = search(
            request.user,
            data["q"],
            space_id=data["space"],
            author_id=data["author"],
            kind=data["kind"] or None,
            date_from=data["date_from"],
            date_to=data["date_to"],
            resolved={"open": False, "resolved": True}.get(status),
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            visible_space_ids=form.visible_space_ids,
        )
    query_string = request.GET.copy()
    query_string.pop("page", None)
    context = {
        "form": form,
        "results": results,
        "search_query": text,
        "page": page,
        "pages": -(-results.total // PAGE_SIZE) if results else 0,
        "base_query": query_string.urlencode(),
    }
    # A filter that cannot be read (a far date, a huge id) is a 422 with its sentence.
    status = 422 if form.is_bound and not form.is_valid() else 200
    with timezone.override(request.user.zone):
        return render(request, "search/search.html", context, status=status)
