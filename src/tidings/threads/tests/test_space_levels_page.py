"""The space levels table on the delivery page saves a level only for spaces the person can
see, and refuses a level that is not in the list."""

from __future__ import annotations

from tidings.accounts.tests.test_delivery_pages import SPACES
from tidings.threads.models import SpaceLevel, SpaceSubscription


def test_space_levels_table_saves_visible_spaces_only(world):
    client = world.client_for("member")
    response = client.post(
        SPACES,
        {
            f"level-{world.open_space.pk}": SpaceLevel.ALL,
            f"level-{world.private_space.pk}": SpaceLevel.MUTED,
        },
    )
    assert response.status_code == 302
    assert SpaceSubscription.objects.get(person=world.member).level == SpaceLevel.ALL
    assert not SpaceSubscription.objects.filter(space=world.private_space).exists()
    response = client.post(SPACES, {f"level-{world.open_space.pk}": "loud"})
    assert response.status_code == 400
    assert "General: pick one of the levels in the list." in response.content.decode()
    assert SpaceSubscription.objects.get(person=world.member).level == SpaceLevel.ALL
