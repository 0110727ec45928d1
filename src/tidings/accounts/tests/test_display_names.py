"""Display names hold no control characters: the API answers 422 with a sentence, the pages a
form error. A name stored before (with a line break meant to add a Bcc header, or emoji)
never stops or bends anyone's email."""

from __future__ import annotations

import pytest

from tidings.accounts.actions import create_access_token
from tidings.apikit.testing import ApiClient

BAD_NAMES = [
    "Mia\r\nBcc: x@evil.test",
    "Mia\tMember",
    "Mia\x00",
    "Mia \u202eknil",  # turns the text after it around
    "Mia\u2028Member",
]
GOOD_NAMES = ["Mia 🎉 Member", "Zoë Ångström-Núñez", "李小龙", "Family 👩\u200d👩\u200d👧"]
SENTENCE = "A name cannot hold line breaks, tabs or other control characters."


def api(world) -> ApiClient:
    return ApiClient(create_access_token(world.member, "Tests")[1])


@pytest.mark.parametrize("name", BAD_NAMES)
def test_api_refuses_control_characters_in_names(world, name):
    response = api(world).patch("/me", {"name": name, "time_zone": "UTC"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "name", "message": SENTENCE + " Type it on one line."}
    ]
    world.member.refresh_from_db()
    assert world.member.name == "Mia Member"


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_names_in_any_script_and_emoji_are_fine(world, name):
    response = api(world).patch("/me", {"name": name, "time_zone": "UTC"})
    assert response.status_code == 200
    assert response.json()["name"] == name


def test_profile_page_shows_the_error_by_the_name(world):
    response = world.client_for("member").post(
        "/settings/profile", {"name": "Mia\r\nBcc: x@evil.test", "time_zone": "UTC"}
    )
    assert response.status_code == 400
    assert SENTENCE in response.content.decode()
    world.member.refresh_from_db()
    assert world.member.name == "Mia Member"
