"""The live-updates poller's `after` is a reply number: anything else is a 422 sentence, and a
number past every reply (beyond 64 bits too) simply has nothing newer."""

from __future__ import annotations

import pytest

from tidings.threads import actions


@pytest.fixture
def thread(world):
    return actions.post_thread(
        world.member, world.open_space, kind="question", title="Style guide?", body="Where?"
    )


@pytest.mark.parametrize("after", ["1e309", "abc", "1.5", "٣"])
def test_an_after_that_is_not_a_reply_number_is_422(world, thread, after):
    response = world.client_for("member").get(f"/t/{thread.pk}/updates", {"after": after})
    assert response.status_code == 422
    assert response.content.decode() == "“after” must be a reply number."


@pytest.mark.parametrize("after", ["99999999999999999999999", str(2**63)])
def test_an_after_past_every_reply_has_nothing_newer(world, thread, after):
    actions.post_reply(world.guest, thread, body="In the wiki.")
    response = world.client_for("member").get(f"/t/{thread.pk}/updates", {"after": after})
    assert response.status_code == 200
    assert "In the wiki." not in response.content.decode()
