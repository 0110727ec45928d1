"""Ids and dates beyond what the database and date arithmetic hold get a 422 sentence naming
the field, and every error the API gives is JSON: 405, unexpected failures (500, with an
id that is also in the log) and out-of-range values no bound caught included."""

from __future__ import annotations

import logging

import pytest

from tidings.bounds import DAY_ERROR
from tidings.inbox.models import Reminder, Request, ScheduledPost
from tidings.threads.models import Space

BEYOND_64_BITS = 99_999_999_999_999_999_999_999
JUST_PAST_BIGINT = 2**63


@pytest.mark.parametrize("huge", [BEYOND_64_BITS, JUST_PAST_BIGINT])
def test_huge_ids_in_lists_and_fields_are_refused(world, scene, api_for, huge):
    client = api_for("owner")
    thread = scene.open_thread.pk
    calls = [
        ("post", "/requests", {"thread_id": thread, "people": [huge], "due_on": "2030-01-01"},
         "people.0"),
        ("put", f"/spaces/{world.private_space.pk}/members", {"member_ids": [huge]},
         "member_ids.0"),
        ("post", f"/workspaces/{world.workspace.pk}/spaces", {"name": "Ops", "member_ids": [huge]},
         "member_ids.0"),
        ("post", f"/workspaces/{world.workspace.pk}/invites",
         {"email": "new@acme.test", "role": "member", "space_ids": [huge]}, "space_ids.0"),
        ("post", "/reminders", {"thread_id": huge, "preset": "hour"}, "thread_id"),
        ("post", "/scheduled", {"thread_id": huge, "body": "Hi", "send_at": "2030-01-01T09:00"},
         "thread_id"),
        ("post", f"/threads/{thread}/reactions", {"emoji": "👍", "reply_id": huge}, "reply_id"),
        ("post", f"/threads/{thread}/replies", {"body": "x", "quoted_reply_id": huge},
         "quoted_reply_id"),
    ]  # fmt: skip
    for method, path, body, field in calls:
        response = client.call(method, path, body)
        assert response.status_code == 422, (path, response.content)
        assert response.json()["errors"][0]["field"] == field, path
    assert Space.objects.filter(name="Ops").count() == 0
    assert Request.objects.count() == Reminder.objects.count() == 0


@pytest.mark.parametrize("field", ["workspace", "space", "author"])
def test_huge_ids_in_search_filters_are_refused(world, api_for, field):
    response = api_for("member").get("/search", {"q": "style", field: str(BEYOND_64_BITS)})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_huge_and_unreadable_numbers_in_paging_are_refused(scene, api_for):
    client = api_for("member")
    for offset in (str(BEYOND_64_BITS), "1e309"):
        response = client.get(f"/threads/{scene.open_thread.pk}", {"offset": offset})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "offset"


def test_path_ids_beyond_64_bits_are_not_found(api_for):
    client = api_for("member")
    for path in (f"/threads/{BEYOND_64_BITS}", f"/spaces/{JUST_PAST_BIGINT}/threads"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_far_dates_in_search_filters_are_refused_with_a_sentence(api_for, day):
    for field in ("from", "to"):
        response = api_for("member").get("/search", {"q": "style", field: day})
        assert response.status_code == 422
        body = response.json()
        assert body["errors"][0] == {"field": field, "message": DAY_ERROR}
        assert body["detail"] == f"{field}: {DAY_ERROR}"


AHEAD, PAST = "9999-12-31", "0001-01-01"


@pytest.mark.parametrize(
    ("day", "request_message", "time_message"),
    [
        (AHEAD, "Pick a due date at most a year ahead.", "Pick a time at most a year ahead"),
        (PAST, "Pick a due date from today on.", "Pick a time in the future"),
    ],
)
def test_far_due_dates_and_times_are_refused_with_a_sentence(
    world, scene, api_for, day, request_message, time_message
):
    client = api_for("owner")
    thread = scene.open_thread.pk
    response = client.post(
        "/requests", {"thread_id": thread, "people": [world.member.pk], "due_on": day}
    )
    assert (response.status_code, response.json()["detail"]) == (422, request_message)
    for path, body in [
        ("/reminders", {"thread_id": thread, "at": f"{day}T09:00:00"}),
        ("/scheduled", {"thread_id": thread, "body": "Hi", "send_at": f"{day}T09:00"}),
    ]:
        response = client.post(path, body)
        assert response.status_code == 422, path
        assert response.json()["detail"].startswith(time_message), path
    snooze = client.post(
        f"/inbox/{scene.owner_private_item.pk}/snooze", {"until": f"{day}T23:59:59Z"}
    )
    assert snooze.status_code == 422
    assert Request.objects.count() == ScheduledPost.objects.count() == Reminder.objects.count() == 0


def test_year_10000_is_not_a_date(scene, api_for):
    response = api_for("member").post(
        "/reminders", {"thread_id": scene.open_thread.pk, "at": "10000-01-01T09:00:00"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "at"


def test_a_method_an_address_does_not_take_is_json(api_for):
    response = api_for("member").delete("/me")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"] == "This address does not take DELETE; it takes GET, PATCH."
    assert set(response["Allow"].split(", ")) == {"GET", "PATCH"}


def test_an_unexpected_failure_is_json_with_an_id_that_is_in_the_log(api_for, monkeypatch, caplog):
    # A bug cannot be asked for: the search query is made to fail the way a bug would.
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("tidings.search.queries.search", broken)
    with caplog.at_level(logging.ERROR, logger="tidings.apikit.middleware"):
        response = api_for("member").get("/search", {"q": "style"})
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    detail = response.json()["detail"]
    assert detail.startswith("Something went wrong on our side (error ")
    error_id = detail.split("(error ")[1].split(")")[0]
    assert any(error_id in record.getMessage() for record in caplog.records)
    assert "a bug" in caplog.text  # the traceback is logged, not shown


@pytest.mark.parametrize("failure", [OverflowError("int too large"), ValueError("other")])
def test_an_overflow_no_bound_caught_is_422_and_other_errors_stay_500(
    api_for, monkeypatch, failure
):
    def fails(*args, **kwargs):
        raise failure

    monkeypatch.setattr("tidings.search.queries.search", fails)
    response = api_for("member").get("/search", {"q": "style"})
    assert response.status_code == (422 if isinstance(failure, OverflowError) else 500)
    assert isinstance(response.json()["detail"], str)


def test_every_operation_documents_its_json_errors(client):
    document = client.get("/api/openapi.json").json()
    errors = document["components"]["schemas"]["ValidationErrorOut"]
    assert set(errors["required"]) == {"detail", "errors"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert {"401", "403"} <= answers.keys(), (method, path)
            if "{" in path:
                assert "404" in answers, (method, path)
            if operation.get("parameters") or operation.get("requestBody"):
                body = answers["422"]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/ValidationErrorOut"}
