"""One test per row × place × role: the status is the one the row promises, the answer
carries no word of a place the person may not see, and a 404 is the same answer as for an
address that names nothing."""

from __future__ import annotations

import json
import re

import pytest

from tests.permissions.matrix import LINK, SEES, SESSION, Row, ask, body_of
from tests.permissions.rows import ROWS
from tests.permissions.scene import SECRETS, Scene
from tidings.apikit.errors import NOT_FOUND
from tidings.apikit.session import SIGNED_OUT


def _cells():
    for row in ROWS:
        for place, role, way in row.cells():
            marks = []
            if reason := row.xfail.get(f"{place} {role}"):
                marks.append(pytest.mark.xfail(reason=reason, strict=True))
            name = f"{row} {place} {role}" + (f" {way}" if row.is_api and way == SESSION else "")
            yield pytest.param(row, place, role, way, id=name, marks=marks)


def may_see(row: Row, role: str, group: str) -> bool:
    """A secret link shows what it is for to whoever holds it; a forged one shows nothing."""
    if row.link and role != "anonymous":
        return True
    return role in SEES[group] and role != LINK


def same_page(text: str) -> str:
    """A page without what changes from one answer to the next (the CSRF token) or with the
    address alone (the menu entry marked as the current one)."""
    return re.sub(r"[A-Za-z0-9]{64}", "", text).replace(' aria-current="page"', " ")


@pytest.mark.parametrize(("row", "place", "role", "way"), list(_cells()))
def test_permission(
    scene: Scene, sessions, not_found, db, row: Row, place: str, role: str, way: str
) -> None:
    response = ask(scene, row, place, role, sessions, way)
    text = body_of(response)
    assert response.status_code == row.expected(place, role), text[:500]
    for group, words in SECRETS.items():
        if not may_see(row, role, group):
            leaked = [word for word in words if word in text]
            assert not leaked, f"{leaked} shown to {role}"
    if row.is_api and way == SESSION and response.status_code == 401:
        # A page whose person is signed out is told so (the recorder shows the sentence).
        assert json.loads(text) == {"detail": SIGNED_OUT}
    if response.status_code != 404:
        return
    # Something one may not see is refused exactly as something that does not exist.
    if row.is_api:
        assert json.loads(text) == {"detail": NOT_FOUND}
    elif not row.link:
        nothing = not_found[(role, response["Content-Type"])]
        assert same_page(text) == same_page(nothing)
