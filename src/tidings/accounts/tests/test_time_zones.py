"""The time zone picker: a box that suggests canonical zone names as one types; old names
(Asia/Calcutta) are stored and shown by the name used today (Asia/Kolkata)."""

import re

import pytest

from conftest import ROLES
from tidings.accounts.actions import update_delivery_settings
from tidings.accounts.models import User
from tidings.accounts.time_zones import canonical_time_zones, canonical_zone


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Asia/Kolkata", "Asia/Kolkata"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("asia/calcutta", "Asia/Kolkata"),
        ("Asia/Katmandu", "Asia/Kathmandu"),
        ("US/Eastern", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("  Europe/London ", "Europe/London"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Europe/Oslo", "Europe/Oslo"),  # Norway's own zone, though it links to Berlin's rules
        ("Australia/Adelaide", "Australia/Adelaide"),
        ("Etc/UTC", "UTC"),
        ("GMT", "UTC"),
        ("Zulu", "UTC"),
        ("Mars/Olympus", "Mars/Olympus"),  # for the caller to refuse
    ],
)
def test_canonical_names(typed, stored):
    assert canonical_zone(typed) == stored


def test_the_suggestions_are_canonical_only():
    zones = canonical_time_zones()
    assert {"Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "UTC"} <= set(zones)
    assert not {"Asia/Calcutta", "US/Eastern", "Asia/Katmandu", "GMT"} & set(zones)


def test_profile_stores_the_canonical_name(world):
    client = world.client_for("member")
    response = client.post("/settings/profile", {"name": "Mia", "time_zone": "Asia/Calcutta"})
    assert response.status_code == 302
    world.member.refresh_from_db()
    assert world.member.time_zone == "Asia/Kolkata"


def test_an_unknown_zone_is_a_sentence_beside_the_field(world):
    client = world.client_for("member")
    response = client.post("/settings/profile", {"name": "Mia", "time_zone": "Mars/Olympus"})
    body = response.content.decode()
    assert response.status_code in (400, 422)
    assert "“Mars/Olympus” is not a known time zone. Pick one from the list" in body
    world.member.refresh_from_db()
    assert world.member.time_zone == "Asia/Kolkata"


@pytest.mark.parametrize("page", ["/settings/", "/settings/delivery"])
def test_a_stored_old_name_is_shown_by_its_canonical_name(world, page):
    User.objects.filter(pk=world.member.pk).update(time_zone="Asia/Calcutta")
    body = world.client_for("member").get(page).content.decode()
    box = re.search(r'<input type="text" name="time_zone"[^>]*>', body).group()
    assert 'value="Asia/Kolkata"' in box and 'list="id_time_zone-list"' in box
    datalist = re.search(r'<datalist id="id_time_zone-list">(.*?)</datalist>', body).group(1)
    assert '<option value="Asia/Kolkata">' in datalist
    assert "Asia/Calcutta" not in datalist


def test_delivery_settings_by_api_store_the_canonical_name(world):
    update_delivery_settings(world.member, time_zone="US/Eastern")
    world.member.refresh_from_db()
    assert world.member.time_zone == "America/New_York"


# The pages with the picker: anonymous people are sent to sign in, everyone else sees it.
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["/settings/", "/settings/delivery"])
def test_picker_pages_for_every_role(world, role, page):
    response = world.client_for(role).get(page)
    if role == "anonymous":
        assert response.status_code == 302 and "sign-in" in response["Location"]
    else:
        assert response.status_code == 200
        assert 'name="time_zone"' in response.content.decode()


def test_stored_old_names_become_canonical_when_migrated(db):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("tidings.accounts.migrations.0004_canonical_time_zones")
    old = User.objects.create_user("old@acme.test", "x" * 12, name="Old", time_zone="US/Eastern")
    migration.canonical_names(apps, None)
    old.refresh_from_db()
    assert old.time_zone == "America/New_York"
