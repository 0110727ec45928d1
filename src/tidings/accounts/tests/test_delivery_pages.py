"""The delivery page, its preview, the space levels table and /api/me/delivery."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from conftest import ROLES, by_role
from tidings.accounts import delivery
from tidings.accounts.actions import create_access_token, update_delivery_settings
from tidings.accounts.models import DeliverySettings, EmailCadence
from tidings.apikit.testing import ApiClient

PAGE = "/settings/delivery"
PREVIEW = "/settings/delivery/preview"
SPACES = "/settings/delivery/spaces"


@pytest.fixture
def api(world) -> ApiClient:
    """The member's API client, with a fresh personal token."""
    return ApiClient(create_access_token(world.member, "delivery tests")[1])


def form_data(**changes: str) -> dict[str, str]:
    """The page's form as a browser posts it with the default settings."""
    data = {
        "time_zone": "Europe/Berlin",
        "quiet_start": "20:00",
        "quiet_end": "08:00",
        "away_until": "",
        "cadence": "hourly",
        "digest_time": "08:30",
        "digest_weekday": "0",
    }
    for day in ("mon", "tue", "wed", "thu", "fri"):
        data |= {f"{day}_on": "on", f"{day}_start": "09:00", f"{day}_end": "17:00"}
    for day in ("sat", "sun"):
        data |= {f"{day}_start": "09:00", f"{day}_end": "17:00"}
    data |= changes
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "url", "data", "expected"),
    [
        ("get", PAGE, None, by_role(200, 200, 200, 200, 200, 302)),
        ("post", PAGE, form_data(), by_role(302, 302, 302, 302, 302, 302)),
        ("post", PREVIEW, form_data(), by_role(200, 200, 200, 200, 200, 302)),
        ("post", SPACES, {}, by_role(302, 302, 302, 302, 302, 302)),
    ],
)
def test_delivery_permission_matrix(world, role, method, url, data, expected):
    client = world.client_for(role)
    response = getattr(client, method)(url, data) if data is not None else client.get(url)
    assert response.status_code == expected[role]
    if role == "anonymous":
        assert response.url.startswith("/sign-in?next=")


def test_page_shows_defaults_and_only_visible_spaces(world):
    html = world.client_for("member").get(PAGE).content.decode()
    assert re.search(r'<input type="radio" name="cadence" value="hourly"[^>]*checked', html)
    assert 'name="mon_on"' in html and 'value="09:00"' in html
    assert "When would I get an email about this?" in html
    assert "A mention at 21:00" in html
    assert "General" in html
    assert "Leadership" not in html  # the member cannot see the private space
    assert f'name="level-{world.private_space.pk}"' not in html
    assert "Leadership" in world.client_for("admin").get(PAGE).content.decode()
    outsider = world.client_for("outsider").get(PAGE).content.decode()
    assert f'name="level-{world.open_space.pk}"' not in outsider


def test_saving_the_form_changes_only_my_settings(world):
    client = world.client_for("member")
    response = client.post(
        PAGE,
        form_data(
            time_zone="America/New_York",
            cadence="weekly",
            digest_time="07:15",
            digest_weekday="4",
            sat_on="on",
            sat_start="10:00",
            sat_end="12:30",
            fri_on=None,
            quiet_start="",
            quiet_end="",
        ),
    )
    assert response.status_code == 302
    world.member.refresh_from_db()
    row = DeliverySettings.objects.get(user=world.member)
    assert world.member.time_zone == "America/New_York"
    assert (row.cadence, row.digest_time, row.digest_weekday) == ("weekly", dt.time(7, 15), 4)
    assert row.working_hours["sat"] == ["10:00", "12:30"]
    assert row.working_hours["fri"] is None
    assert (row.quiet_start, row.quiet_end) == (None, None)
    assert not DeliverySettings.objects.filter(user=world.admin).exists()


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"mon_start": "25:00"}, "Write the time as HH:MM"),
        ({"tue_start": "17:00", "tue_end": "09:00"}, "Tuesday: the end must be after the start."),
        ({"wed_end": ""}, "Wednesday: give a start and an end time."),
        ({"time_zone": "Mars/Olympus"}, "is not a known time zone"),
        ({"away_until": "2001-01-01"}, "That date has passed."),
        ({"away_until": "next week"}, "Write the date as YYYY-MM-DD"),
        ({"away_until": "9999-12-31"}, "Pick a date within a year from today"),
        ({"quiet_end": ""}, "Give both a start and an end"),
        ({"quiet_end": "20:00"}, "The end is the same as the start"),
        ({"cadence": "sometimes"}, "Choose how often Tidings may email you."),
        ({"digest_time": "half past eight"}, "Write the time as HH:MM"),
        ({"digest_weekday": "9"}, "Pick a day of the week."),
        ({"quiet_start": "x" * 5000}, "Write the time as HH:MM"),
    ],
)
def test_bad_input_gets_a_sentence_and_saves_nothing(world, changes, sentence):
    client = world.client_for("member")
    response = client.post(PAGE, form_data(**changes))
    assert response.status_code == 400
    assert sentence in response.content.decode()
    assert (
        not DeliverySettings.objects.filter(user=world.member)
        .exclude(cadence=EmailCadence.HOURLY)
        .exists()
    )
    preview = client.post(PREVIEW, form_data(**changes))
    assert preview.status_code == 200
    assert "Fix these to see when emails would come" in preview.content.decode()
    assert sentence in preview.content.decode()


def test_preview_follows_unsaved_settings(world):
    client = world.client_for("member")
    html = client.post(PREVIEW, form_data(cadence="never")).content.decode()
    assert "never: you chose no email" in html
    html = client.post(PREVIEW, form_data(cadence="daily", digest_time="06:45")).content.decode()
    assert "Your next digest" in html and "at 06:45" in html
    html = client.post(
        PREVIEW, form_data(cadence="immediately", quiet_start="", quiet_end="")
    ).content.decode()
    assert "right away" in html
    # Nothing was saved by previewing.
    assert delivery.settings_for(world.member).cadence == EmailCadence.HOURLY


def test_preview_for_a_mention_tonight_waits_for_the_end_of_quiet_hours(world):
    html = world.client_for("member").post(PREVIEW, form_data()).content.decode()
    # Default quiet hours 20:00–08:00: the 21:00 mention goes at 08:00 next morning.
    assert "A mention at 21:00" in html
    assert "tomorrow at 08:00" in html or "at 08:00" in html


def test_action_rejects_unknown_fields_and_keeps_everything(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        update_delivery_settings(world.member, cadence="daily", volume="loud")
    with pytest.raises(ValidationError) as caught:
        update_delivery_settings(world.member, working_hours={"mon": ["09:00", "17:00"]})
    assert "working_hours" in caught.value.message_dict
    assert delivery.settings_for(world.member).cadence == EmailCadence.HOURLY


def test_api_get_and_put(world, api):
    client = api
    body = client.get("/me/delivery").json()
    assert body["cadence"] == "hourly"
    assert body["working_hours"]["mon"] == ["09:00", "17:00"]
    assert body["working_hours"]["sun"] is None
    assert (body["quiet_start"], body["quiet_end"], body["away_until"]) == ("20:00", "08:00", None)
    assert body["next_digest_at"] is None
    hours = body["working_hours"] | {"sat": ["10:00", "14:00"]}
    tomorrow = (timezone.now() + dt.timedelta(days=2)).date().isoformat()
    response = client.put(
        "/me/delivery",
        {
            "cadence": "daily",
            "digest_time": "07:30",
            "working_hours": hours,
            "quiet_start": None,
            "quiet_end": None,
            "away_until": tomorrow,
            "time_zone": "America/St_Johns",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["cadence"] == "daily" and body["digest_time"] == "07:30"
    assert body["working_hours"]["sat"] == ["10:00", "14:00"]
    assert body["quiet_start"] is None and body["away_until"] == tomorrow
    assert body["time_zone"] == "America/St_Johns"
    assert body["next_digest_at"] is not None
    # The page shows what the API saved: one action behind both.
    html = world.client_for("member").get(PAGE).content.decode()
    assert 'value="07:30"' in html and 'name="time_zone" value="America/St_Johns"' in html


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"digest_time": "7 o'clock"}, "digest_time"),
        ({"working_hours": {"mon": ["18:00", "09:00"]}}, "working_hours"),
        ({"away_until": "2001-01-01"}, "away_until"),
        ({"time_zone": "Nowhere/City"}, "time_zone"),
        ({"quiet_start": "22:00", "quiet_end": None}, "quiet_end"),
    ],
)
def test_api_bad_input_is_422_with_the_field(world, api, payload, field):
    response = api.put("/me/delivery", payload)
    assert response.status_code == 422
    assert field in response.content.decode()
    assert delivery.settings_for(world.member).cadence == EmailCadence.HOURLY


@pytest.mark.parametrize(
    "payload", [{"cadence": "sometimes"}, {"digest_weekday": 7}, {"away_until": "soon"}]
)
def test_api_shape_errors_are_422(api, payload):
    assert api.put("/me/delivery", payload).status_code == 422


def test_a_new_time_zone_on_the_profile_marks_delivery_settings_changed(world):
    row = delivery.settings_for(world.member)
    before = timezone.now() - dt.timedelta(hours=1)
    DeliverySettings.objects.filter(pk=row.pk).update(updated_at=before)
    client = world.client_for("member")
    client.post(
        "/settings/profile", {"name": world.member.name, "time_zone": world.member.time_zone}
    )
    assert DeliverySettings.objects.get(pk=row.pk).updated_at == before
    client.post("/settings/profile", {"name": world.member.name, "time_zone": "Europe/Oslo"})
    assert DeliverySettings.objects.get(pk=row.pk).updated_at > before


def test_archived_spaces_are_not_listed(world):
    world.open_space.archived_at = timezone.now()
    world.open_space.save(update_fields=["archived_at"])
    html = world.client_for("member").get(PAGE).content.decode()
    assert f'name="level-{world.open_space.pk}"' not in html
    assert "You are not in any space yet." in html
