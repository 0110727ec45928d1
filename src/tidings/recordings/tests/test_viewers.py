"""Viewers: the player reports watched ranges; they are merged per person, clamped to the
recording's length and turned into a percent; the author's own watching is not counted; only
the author and workspace admins see who watched, and bad reports get a sentence, never a 500."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client

from conftest import ROLES, by_role
from tidings.accounts.actions import create_access_token
from tidings.recordings.models import RecordingView
from tidings.recordings.moments import merge_ranges, record_viewing, watched_share
from tidings.recordings.queries import recording_viewers
from tidings.recordings.tests.factories import page, player_html, posted_opening, ready
from tidings.threads import actions as thread_actions

# --- Interval arithmetic.


@pytest.mark.parametrize(
    ("ranges", "merged"),
    [
        ([], []),
        ([[0, 10]], [[0, 10]]),
        ([[20, 30], [0, 10]], [[0, 10], [20, 30]]),  # out of order
        ([[0, 10], [5, 15]], [[0, 15]]),  # overlapping
        ([[0, 10], [10, 20]], [[0, 20]]),  # touching: one stretch of watching
        ([[0, 50], [10, 20]], [[0, 50]]),  # inside another
        ([[0, 10], [0, 10]], [[0, 10]]),  # the same report twice
        ([[30, 40], [0, 5], [4, 31]], [[0, 40]]),
    ],
)
def test_merge_ranges(ranges, merged):
    assert merge_ranges(ranges) == merged


def test_merge_ranges_keeps_a_bounded_list_by_closing_the_smallest_gaps():
    ranges = [[i * 10, i * 10 + 5] for i in range(10)]  # gaps of 5 ms
    ranges[3] = [30, 34]  # the gap after it is 6 ms: closed last
    merged = merge_ranges(ranges, keep=7)
    assert merged == [[0, 34], [40, 45], [50, 55], [60, 65], [70, 75], [80, 85], [90, 95]]


@pytest.mark.parametrize(
    ("ranges", "duration", "share"),
    [
        ([], 10_000, (0, 0)),
        ([[0, 5_000]], 10_000, (5_000, 50)),
        ([[0, 1_000], [9_000, 10_000]], 10_000, (2_000, 20)),
        ([[0, 3_333]], 10_000, (3_333, 33)),
        ([[0, 9_996]], 10_000, (9_996, 100)),  # rounds
        ([[0, 5_000]], None, (5_000, 0)),  # length not known yet
        ([[0, 5_000]], 0, (5_000, 0)),
    ],
)
def test_watched_share(ranges, duration, share):
    assert watched_share(ranges, duration) == share


# --- The action.


@pytest.fixture
def tour(world):
    """A ready recording by the member in the open space (3.0 s)."""
    return ready(posted_opening(world.member, world.open_space))


def test_reports_add_up_per_person(world, tour):
    length = tour.duration_ms
    record_viewing(world.admin, tour, [[0, 1000]])
    record_viewing(world.admin, tour, [[1000, 1500], [500, 800]])
    view = record_viewing(world.admin, tour, [[0, 1500]])  # the same again changes nothing
    assert view.watched == [[0, 1500]] and view.watched_ms == 1500
    assert view.percent == round(1500 * 100 / length)
    record_viewing(world.guest, tour, [[2000, 999_999]])  # past the end: clamped
    guest = RecordingView.objects.get(recording=tour, viewer=world.guest)
    assert guest.watched == [[2000, length]]
    assert RecordingView.objects.filter(recording=tour).count() == 2


def test_watching_all_of_it_is_a_hundred_percent(world, tour):
    view = record_viewing(world.owner, tour, [[0, tour.duration_ms]])
    assert view.percent == 100 and view.watched_ms == tour.duration_ms


def test_the_authors_own_watching_is_not_counted(world, tour):
    assert record_viewing(world.member, tour, [[0, 1000]]) is None
    assert not RecordingView.objects.exists()


def test_a_report_with_nothing_watched_writes_nothing(world, tour):
    assert record_viewing(world.admin, tour, [[500, 500], [900, 100]]) is None
    assert not RecordingView.objects.exists()


@pytest.mark.parametrize(
    "ranges",
    [
        None,
        "0-10",
        {"start": 0},
        [[0]],
        [[0, 1, 2]],
        [["0", "10"]],
        [[0, float("nan")]],
        [[0, float("inf")]],
        [[True, 10]],
        [[0, 10]] * 201,
    ],
)
def test_bad_reports_are_refused_with_a_sentence(world, tour, ranges):
    with pytest.raises(ValidationError) as raised:
        record_viewing(world.admin, tour, ranges)
    assert raised.value.message_dict["ranges"][0].startswith("Send ")
    assert not RecordingView.objects.exists()


def test_watching_before_the_length_is_known(world):
    recording = posted_opening(world.member, world.open_space)
    view = record_viewing(world.admin, recording, [[0, 2000], [2500, 60_000]])
    assert view.percent == 0 and view.watched_ms == 59_500
    recording = ready(recording)
    # The list works the percent out against the length known now.
    viewers = {v.viewer: v for v in recording_viewers(world.member, recording)}
    expected = round((recording.duration_ms - 500) * 100 / recording.duration_ms)
    assert viewers[world.admin].percent == expected
    # The next report clamps what was kept.
    view = record_viewing(world.admin, recording, [[0, 100]])
    assert view.watched == [[0, 2000], [2500, recording.duration_ms]]


def test_only_people_who_can_see_it_report(world):
    private = ready(posted_opening(world.owner, world.private_space))
    for person in (world.member, world.guest, world.outsider):
        with pytest.raises(Http404):
            record_viewing(person, private, [[0, 1000]])
    assert record_viewing(world.admin, private, [[0, 1000]]).watched_ms == 1000


# --- Over HTTP.


def viewed(client, recording, **data):
    return client.post(f"/recordings/{recording.token}/viewed", **data)


def test_the_player_reports_as_a_form_or_as_json(world, tour):
    client = world.client_for("admin")
    response = viewed(client, tour, data={"ranges": json.dumps([[0, 1000]])})
    assert response.status_code == 204
    response = viewed(
        client,
        tour,
        data=json.dumps({"ranges": [[1000, 2000]]}),
        content_type="application/json",
    )
    assert response.status_code == 204
    assert RecordingView.objects.get(viewer=world.admin).watched == [[0, 2000]]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ({"ranges": "[[0, 1000"}, None),
        ({"ranges": ""}, None),
        ({}, None),
        ({"ranges": "[" * 100_000}, None),
        (b"\xff\xfe not json", "application/json"),
        (b'{"ranges": 7}', "application/json"),
    ],
)
def test_bad_reports_get_a_400_sentence(world, tour, data, content_type):
    client = world.client_for("admin")
    extra = {"content_type": content_type} if content_type else {}
    response = viewed(client, tour, data=data, **extra)
    assert response.status_code == 400
    assert response.content.decode().startswith("Send what was watched")
    assert not RecordingView.objects.exists()


def test_csrf_is_required(world, tour):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin)
    assert viewed(client, tour, data={"ranges": "[[0, 10]]"}).status_code == 403
    client.get(f"/t/{tour.thread_id}/")  # sets the CSRF cookie, as the page does
    token = client.cookies["csrftoken"].value
    response = viewed(client, tour, data={"ranges": "[[0, 10]]", "csrfmiddlewaretoken": token})
    assert response.status_code == 204


# --- Who sees the viewers.


def test_the_author_sees_who_watched_and_how_much(world, tour):
    record_viewing(world.admin, tour, [[0, tour.duration_ms]])
    record_viewing(world.guest, tour, [[0, tour.duration_ms // 2]])
    html = player_html(page(world.client_for("member"), tour), tour)
    assert "Seen by 2 · " in html
    assert f'hx-get="/recordings/{tour.token}/viewers"' in html
    listing = world.client_for("member").get(f"/recordings/{tour.token}/viewers")
    text = listing.content.decode()
    assert listing.status_code == 200
    assert text.index("Gus Guest") < text.index("Adam Admin")  # the latest first
    assert "100%" in text and "50%" in text
    # In the reader's zone (Mia is in Asia/Kolkata).
    assert "IST" in text


def test_nobody_else_sees_the_list(world, tour):
    record_viewing(world.admin, tour, [[0, 1000]])
    html = player_html(page(world.client_for("guest"), tour), tour)
    assert "Seen by" not in html and "/viewers" not in html
    # Workspace admins (the owner is one) see it too.
    for role in ("admin", "owner"):
        assert "Seen by 1 · " in player_html(page(world.client_for(role), tour), tour)


def test_a_recording_nobody_watched_says_so_to_its_author(world, tour):
    record_viewing(world.member, tour, [[0, 1000]])  # the author's own: not counted
    html = player_html(page(world.client_for("member"), tour), tour)
    assert "Nobody has watched it yet" in html and "Seen by" not in html


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        # The author is the member in the open space, the owner in the private one.
        ("open_space", by_role(200, 200, 200, 403, 404, 302)),
        ("private_space", by_role(200, 200, 404, 404, 404, 302)),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_viewers_permissions(world, space, expected, role):
    author = world.member if space == "open_space" else world.owner
    recording = posted_opening(author, getattr(world, space))
    response = world.client_for(role).get(f"/recordings/{recording.token}/viewers")
    assert response.status_code == expected[role]


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        ("open_space", by_role(204, 204, 204, 204, 404, 302)),
        ("private_space", by_role(204, 204, 404, 404, 404, 302)),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_viewed_permissions(world, space, expected, role):
    recording = posted_opening(world.owner, getattr(world, space))
    response = viewed(world.client_for(role), recording, data={"ranges": "[[0, 500]]"})
    assert response.status_code == expected[role]
    counted = RecordingView.objects.filter(recording=recording).exists()
    assert counted == (expected[role] == 204 and role != "owner")


def test_a_deleted_thread_stops_the_reports(world, tour):
    thread_actions.delete_thread(world.member, tour.thread)
    assert viewed(world.client_for("admin"), tour, data={"ranges": "[[0, 9]]"}).status_code == 404


# --- The same through the JSON API.


def bearer(person) -> dict[str, str]:
    _, raw = create_access_token(person, "tests")
    return {"Authorization": f"Bearer {raw}"}


def test_api_reports_and_lists_viewers(world, tour, client):
    url = f"/api/recordings/{tour.token}"
    report = client.post(
        f"{url}/views",
        {"ranges": [[0, 1500], [1000, 2000]]},
        content_type="application/json",
        headers=bearer(world.guest),
    )
    assert report.status_code == 204
    rows = client.get(f"{url}/viewers", headers=bearer(world.member)).json()
    assert [(r["viewer"]["name"], r["watched_ms"]) for r in rows] == [("Gus Guest", 2000)]
    assert rows[0]["percent"] == round(2000 * 100 / tour.duration_ms)
    assert client.get(f"{url}/viewers", headers=bearer(world.guest)).status_code == 403
    assert client.get(f"{url}/viewers", headers=bearer(world.outsider)).status_code == 404
    assert client.get(f"{url}/viewers").status_code == 401


@pytest.mark.parametrize(
    "ranges", [[[0, 1.5]], [[0]], "0-10", [[0, 10]] * 201, [["a", "b"]], [[0, -5, 3]]]
)
def test_api_refuses_bad_reports(world, tour, client, ranges):
    response = client.post(
        f"/api/recordings/{tour.token}/views",
        {"ranges": ranges},
        content_type="application/json",
        headers=bearer(world.admin),
    )
    assert response.status_code == 422 and response.json()["errors"]
    assert not RecordingView.objects.exists()
