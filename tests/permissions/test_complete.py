"""The matrix is complete by construction: every page route of the URL conf and every
operation of the OpenAPI document has a row (or is exempt, with the reason), and no row names
a route or an operation that no longer exists."""

from __future__ import annotations

from tests.permissions.catalog import api_operations, page_routes
from tests.permissions.matrix import ROLES
from tests.permissions.rows import ROWS

EXEMPT = {
    "healthz": "the load balancer's health check: the same answer for everyone, no data",
}


def test_the_url_conf_is_walked_through_its_includes() -> None:
    routes = page_routes()
    assert {"home", "healthz", "threads:thread", "transcripts:captions", "mail:unsubscribe"} <= set(
        routes
    )
    assert routes["threads:reply-edit"].params == ("thread_id", "reply_id")
    assert routes["transcripts:decide"].params == ("token", "item_id")
    assert not [name for name in routes if name.startswith("api:")]


def test_every_page_route_has_a_row() -> None:
    routes = set(page_routes())
    with_rows = {row.target for row in ROWS if not row.is_api}
    assert not routes - with_rows - set(EXEMPT), "page routes without a row"
    assert not with_rows - routes, "rows for page routes that do not exist"
    assert not set(EXEMPT) & with_rows


def test_every_api_operation_has_a_row(db) -> None:
    operations = api_operations()
    assert len(operations) > 50, "the OpenAPI document lists the operations"
    with_rows = {row.target.removeprefix("api:"): row.method for row in ROWS if row.is_api}
    assert not set(operations) - set(with_rows), "API operations without a row"
    assert not set(with_rows) - set(operations), "rows for operations that do not exist"
    for operation_id, (_, method) in operations.items():
        assert with_rows[operation_id] == method, operation_id


def test_every_row_names_each_role_in_each_place() -> None:
    places = {"open", "private", "other", "any"}
    for row in ROWS:
        assert row.expect and set(row.expect) <= places, row
        for place, codes in row.expect.items():
            assert len(codes.split()) == len(row.roles), f"{row} in {place}"
        assert set(ROLES) <= set(row.roles)


def test_a_row_per_route_and_method_at_most() -> None:
    keys = [(row.target, row.method) for row in ROWS]
    assert len(keys) == len(set(keys))
