"""Limit/offset pages for every API list: at most MAX_LIMIT items per request."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}.")
    offset: int = Field(0, ge=0, le=10_000_000)


class LimitOffset(LimitOffsetPagination):
    """ninja's limit/offset pagination with our default and maximum; answers {items, count}."""

    Input = PageParams

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)
