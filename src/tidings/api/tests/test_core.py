"""Authentication, errors, the OpenAPI document and the docs page."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tidings.accounts.actions import create_access_token, revoke_access_token
from tidings.api.main import api
from tidings.apikit.errors import NOT_FOUND


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Bearer tid_nope", "Bearer nope", "Token tid_x", "Basic Zm9v"],
)
def test_missing_or_bad_token_is_401_json(world, header):
    headers = {"Authorization": header} if header is not None else {}
    response = Client().get("/api/me", headers=headers)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "Authorization: Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_revoked_token_stops_working(world, api_for):
    token, raw = create_access_token(world.member, "script")
    headers = {"Authorization": f"Bearer {raw}"}
    assert Client().get("/api/me", headers=headers).status_code == 200
    revoke_access_token(world.member, token.pk)
    assert Client().get("/api/me", headers=headers).status_code == 401


def test_deactivated_person_is_401(world):
    _, raw = create_access_token(world.member, "script")
    world.member.is_active = False
    world.member.save()
    assert Client().get("/api/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_session_cookie_alone_does_not_authenticate(world):
    """The API takes tokens only, so a signed-in browser cannot be ridden by CSRF."""
    response = world.client_for("member").get("/api/me")
    assert response.status_code == 401


def test_me(world, api_for):
    response = api_for("member").get("/me")
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "mia@acme.test"
    assert body["name"] == "Mia Member"
    assert body["handle"] == "mia"
    assert body["time_zone"] == "Asia/Kolkata"
    assert isinstance(body["id"], int)


def test_update_me_and_bad_time_zone(world, api_for):
    client = api_for("member")
    response = client.patch("/me", {"name": "Mia M.", "time_zone": "Europe/Paris"})
    assert response.status_code == 200
    assert response.json()["name"] == "Mia M."
    world.member.refresh_from_db()
    assert world.member.time_zone == "Europe/Paris"
    response = client.patch("/me", {"name": "", "time_zone": "Mars/Olympus"})
    assert response.status_code == 422
    fields = {row["field"] for row in response.json()["errors"]}
    assert fields == {"name", "time_zone"}
    world.member.refresh_from_db()
    assert world.member.name == "Mia M."


def test_tokens_create_list_revoke(world, api_for):
    client = api_for("member")
    response = client.post("/tokens", {"name": "CI"})
    assert response.status_code == 201
    created = response.json()
    raw = created["token"]
    assert raw.startswith("tid_")
    assert created["prefix"] == raw[:8]
    listed = client.get("/tokens").json()
    assert {t["name"] for t in listed} == {"member tests", "CI"}
    assert all("token" not in t for t in listed)
    # The new token works, then stops once revoked.
    new = Client()
    assert new.get("/api/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert client.delete(f"/tokens/{created['id']}").status_code == 204
    assert new.get("/api/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert {t["name"] for t in client.get("/tokens").json()} == {"member tests"}


def test_cannot_revoke_someone_elses_token(world, api_for):
    token, _ = create_access_token(world.owner, "owner's")
    response = api_for("admin").delete(f"/tokens/{token.pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": NOT_FOUND}
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_name_rules(world, api_for):
    client = api_for("member")
    assert client.post("/tokens", {"name": "   "}).status_code == 422
    response = client.post("/tokens", {"name": "x" * 500})
    assert response.status_code == 422
    assert "100 characters" in response.json()["detail"]
    assert client.get("/tokens").json()[0]["name"] == "member tests"


@pytest.mark.parametrize(
    "raw",
    ["{", "not json", "[1, 2", '{"name": }', "\x00\x01", '"just a string"', "[]", "null", "42"],
)
def test_malformed_json_is_a_clear_400(world, api_for, raw):
    response = api_for("member").post("/tokens", raw=raw)
    assert response.status_code == 400
    assert response.json()["detail"] in {
        "The request body is not valid JSON.",
        'The request body must be a JSON object, like {"title": "…"}.',
    }
    assert api_for("member").get("/tokens").json()[0]["name"] == "member tests"


def test_a_bare_string_body_does_not_post_a_thread(world, api_for):
    response = api_for("member").post(f"/spaces/{world.open_space.pk}/threads", raw='"text"')
    assert response.status_code == 400
    assert "JSON object" in response.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [{}, {"name": 5}, {"name": None}, {"name": ["a"]}, {"name": {"a": 1}}, {"name": "x" * 200_000}],
)
def test_wrong_types_and_huge_strings_are_422(world, api_for, payload):
    response = api_for("member").post("/tokens", payload)
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "name"
    # The error does not echo a huge input back.
    assert len(response.content) < 2000


def test_wrong_content_type_is_not_a_500(world, api_for):
    response = api_for("member").post(
        "/tokens", raw="name=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in {400, 422}


def test_unknown_path_parameter_type_is_422(world, api_for):
    response = api_for("member").delete("/tokens/abc")
    assert response.status_code == 422
    response = api_for("member").delete("/tokens/99999999999999999999999")
    assert response.status_code in {404, 422}


def test_openapi_document_lists_every_path(world):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["info"]["title"] == "Tidings API"
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    expected = set()
    for prefix, router in api._routers:
        for path, operations in router.path_operations.items():
            del operations
            expected.add("/api" + (prefix + path).replace("//", "/"))
    expected = {p for p in expected if p != "/api/"}
    assert expected <= paths
    for expected_path in ["/api/me", "/api/tokens", "/api/tokens/{token_id}", "/api/search"]:
        assert expected_path in paths
    assert "PersonalAccessToken" in document["components"]["securitySchemes"]
    operation_ids = [
        operation["operationId"]
        for operations in document["paths"].values()
        for operation in operations.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    assert "list_threads" in operation_ids


def test_docs_page_renders_without_inline_script(world):
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "/static/ninja/" in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_token_requests_need_no_csrf_token(world):
    """Scripts send a token, not cookies, so CSRF protection does not apply to them."""
    _, raw = create_access_token(world.member, "script")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/threads/0/read",
        data=json.dumps({}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 404  # past CSRF and the token: the thread does not exist
