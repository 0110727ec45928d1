"""Everything that can be asked of the product: each page route of the URL conf (walking its
includes) and each operation of the API's OpenAPI document, as the server gives it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # "threads:thread"
    pattern: str  # "t/<int:thread_id>/"
    params: tuple[str, ...]


def _params(pattern) -> tuple[str, ...]:
    if hasattr(pattern, "converters") and pattern.converters:
        return tuple(pattern.converters)
    regex = getattr(pattern, "regex", None)
    return tuple(regex.groupindex) if regex is not None else ()


def _walk(resolver: URLResolver, prefix: str, namespace: str, inherited: tuple[str, ...]):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            space = namespace
            if entry.namespace:
                space = f"{namespace}{entry.namespace}:"
            yield from _walk(
                entry, prefix + str(entry.pattern), space, inherited + _params(entry.pattern)
            )
        elif isinstance(entry, URLPattern):
            yield Route(
                f"{namespace}{entry.name}" if entry.name else "",
                prefix + str(entry.pattern),
                inherited + _params(entry.pattern),
            )


@cache
def page_routes() -> dict[str, Route]:
    """Every named route outside the API (the API is enumerated from its document)."""
    routes = {}
    for route in _walk(get_resolver(), "", "", ()):
        if route.name.startswith("api:") or route.pattern.startswith("api/"):
            continue
        routes[route.name or route.pattern] = route
    return routes


@cache
def api_operations() -> dict[str, tuple[str, str]]:
    """operationId → (path, METHOD), from the OpenAPI document the API serves."""
    document = Client().get("/api/openapi.json").json()
    return {
        operation["operationId"]: (path, method.upper())
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
