"""Security headers that Django 5.2 does not set by itself, and telling a page the person
opens from a request a page makes on its own (a picture, a prefetch)."""

from collections.abc import Callable
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse


def media_origins(bucket: str, endpoint_url: str, region: str) -> list[str]:
    """Where the browser fetches presigned recording media from in S3 mode: the endpoint's
    origin (path-style addresses), or AWS's virtual-hosted bucket addresses."""
    if not bucket:
        return []
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        return [f"{parts.scheme}://{parts.netloc}"]
    origins = [f"https://{bucket}.s3.amazonaws.com"]
    if region:
        origins.append(f"https://{bucket}.s3.{region}.amazonaws.com")
    return origins


@lru_cache(maxsize=4)
def content_security_policy(media: tuple[str, ...] = ()) -> str:
    """No inline script anywhere: every script is a file under /static/. Media and posters
    may also come from the object storage's presigned links."""
    extra = "".join(f" {origin}" for origin in media)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{extra}",
            f"media-src 'self' blob:{extra}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origins = media_origins(
            settings.S3_BUCKET,
            settings.S3_ENDPOINT_URL,
            settings.S3_REGION,
        )
        response.headers.setdefault(
            "Content-Security-Policy", content_security_policy(tuple(origins))
        )
        response.headers.setdefault("Permissions-Policy", "geolocation=(), payment=()")
        return response


def sandboxed_file(
    stored: FieldFile, *, filename: str, content_type: str, as_attachment: bool = True
) -> FileResponse:
    """A stored file that people sent (an attachment, a received message) served so that it
    can never run as a page of ours: sandboxed, its type as declared, cached privately."""
    try:
        handle = stored.open("rb")
    except FileNotFoundError as error:
        raise Http404("This file is no longer kept.") from error
    response = FileResponse(
        handle, as_attachment=as_attachment, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def is_page_view(request: HttpRequest) -> bool:
    """Whether the person opened this page (a navigation) or one of our pages asked for it
    (htmx), as the browser's Fetch Metadata headers say. A GET may leave a trace such as a
    read mark only then: a picture, frame or prefetch that requests the same address must
    change nothing. Without those headers (older browsers, scripts) it counts as a view."""
    if request.headers.get("Sec-Purpose", request.headers.get("Purpose", "")).startswith(
        ("prefetch", "prerender")
    ):
        return False
    destination = request.headers.get("Sec-Fetch-Dest")
    if request.headers.get("HX-Request") == "true":
        # A custom header: only a script of this origin can send it (others need CORS).
        return destination in (None, "empty")
    if destination is None:
        return True
    return destination == "document" and request.headers.get("Sec-Fetch-Mode") == "navigate"


@lru_cache(maxsize=4)
def _networks(proxies: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(proxy, strict=False) for proxy in proxies)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {error}. Give IP addresses or networks like 10.0.0.0/8, "
            "separated by commas."
        ) from error


def _is_trusted(address: IPv4Address | IPv6Address, networks) -> bool:
    return any(address in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The address of the person making the request. X-Forwarded-For is read only when the
    direct peer is one of TRUSTED_PROXIES, and then from the right: the first address that is
    not a trusted proxy is the client (the ones to its left could be made up by anyone)."""
    peer = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    try:
        nearest = ip_address(peer)
    except ValueError:
        return peer
    if not networks or not _is_trusted(nearest, networks):
        return peer
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed([hop.strip() for hop in hops if hop.strip()]):
        try:
            address = ip_address(hop)
        except ValueError:
            break  # not an address: nothing to its left can be believed
        nearest = address
        if not _is_trusted(address, networks):
            break
    return str(nearest)
