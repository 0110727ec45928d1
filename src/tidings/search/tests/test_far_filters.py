"""The search page's filters refuse ids and dates beyond what the database and date
arithmetic hold with a sentence by the field, as the API does (422 there)."""

from __future__ import annotations

import pytest

from tidings.bounds import DAY_ERROR

from .factories import post_thread

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_to": "9999-12-31"}, DAY_ERROR),
        ({"date_from": "9999-12-31"}, DAY_ERROR),
        ({"date_from": "0001-01-01"}, DAY_ERROR),
        ({"date_to": "10000-01-01"}, "Enter a date like"),
        ({"space": HUGE}, "Pick one from the list"),
        ({"author": str(2**63)}, "Pick one from the list"),
    ],
)
def test_far_dates_and_huge_ids_in_filters_get_a_sentence(world, params, message):
    post_thread(world.open_space, world.member, "Budget review", "The budget for Q3.")
    response = world.client_for("member").get("/search/", {"q": "budget", **params})
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert 'aria-invalid="true"' in page
    assert "Budget review" not in page  # no results until the filter is fixed
