"""One test per row × place × role: the status is the one the row promises, and the answer
carries no word of a place the person may not see."""

from __future__ import annotations

import json

import pytest

from tests.permissions.matrix import LINK, SEES, Row, ask, body_of
from tests.permissions.rows import ROWS
from tests.permissions.scene import SECRETS, Scene
from tidings.apikit.errors import NOT_FOUND


def _cells():
    for row in ROWS:
        for place, role in row.cells():
            marks = []
            if reason := row.xfail.get(f"{place} {role}"):
                marks.append(pytest.mark.xfail(reason=reason, strict=True))
            yield pytest.param(row, place, role, id=f"{row} {place} {role}", marks=marks)


def may_see(row: Row, role: str, group: str) -> bool:
    """A secret link shows what it is for to whoever holds it; a forged one shows nothing."""
    if row.link and role != "anonymous":
        return True
    return role in SEES[group] and role != LINK


@pytest.mark.parametrize(("row", "place", "role"), list(_cells()))
def test_permission(scene: Scene, sessions, db, row: Row, place: str, role: str) -> None:
    response = ask(scene, row, place, role, sessions)
    text = body_of(response)
    assert response.status_code == row.expected(place, role), text[:500]
    for group, words in SECRETS.items():
        if not may_see(row, role, group):
            leaked = [word for word in words if word in text]
            assert not leaked, f"{leaked} shown to {role}"
    if row.is_api and response.status_code == 404:
        assert json.loads(text) == {"detail": NOT_FOUND}
