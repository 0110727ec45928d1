"""A name typed after @ without picking it from the list: once, and only when it is clear."""

import pytest

from conftest import make_person
from tidings.threads.markdown import render_post
from tidings.workspaces.models import Membership, Role


@pytest.fixture
def team(world):
    """Leo Park (handle leo), Sam Lee and Sam Ortiz (one first name), Zoë Adams."""
    people = {
        "leo": make_person("leo@acme.test", "Leo Park"),
        "sam_lee": make_person("slee@acme.test", "Sam Lee"),
        "sam_ortiz": make_person("sortiz@acme.test", "Sam Ortiz"),
        "zoe": make_person("zadams@acme.test", "Zoë Adams"),
    }
    for person in people.values():
        Membership.objects.create(workspace=world.workspace, person=person, role=Role.MEMBER)
    return people


CASES = [
    # typed text, who is mentioned, the rendered text around the mention
    ("@Leo Park can you check?", ["leo"], "<p><span class=\"mention\">@Leo Park</span> can you"),
    ("@leo Park can you check?", ["leo"], "<p><span class=\"mention\">@Leo Park</span> can you"),
    ("@leo can you check?", ["leo"], "<p><span class=\"mention\">@Leo Park</span> can you"),
    ("Thanks @Leo", ["leo"], "Thanks <span class=\"mention\">@Leo Park</span></p>"),
    ("Thanks @Leo Park", ["leo"], "Thanks <span class=\"mention\">@Leo Park</span></p>"),
    ("Ask @Leo Park, then ship.", ["leo"], "<span class=\"mention\">@Leo Park</span>, then"),
    ("Was it @Leo Park?", ["leo"], "<span class=\"mention\">@Leo Park</span>?</p>"),
    ("@Sam Lee and @Sam Ortiz", ["sam_lee", "sam_ortiz"],
     "<span class=\"mention\">@Sam Lee</span> and <span class=\"mention\">@Sam Ortiz</span>"),
    ("@Sam please", [], "<p>@Sam please</p>"),
    ("@sortiz please", ["sam_ortiz"], "<span class=\"mention\">@Sam Ortiz</span> please"),
    ("@Zoë Adams: done", ["zoe"], "<span class=\"mention\">@Zoë Adams</span>: done"),
    ("@Zoë", ["zoe"], "<span class=\"mention\">@Zoë Adams</span>"),
    ("@Leo Parker is new", ["leo"], "<span class=\"mention\">@Leo Park</span> Parker is new"),
    ("mail leo@acme.test", [], "mail"),
    ("`@Leo Park` in code", [], "<code>@Leo Park</code>"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected", "rendered"), CASES)
def test_a_typed_name_resolves_once(world, team, text, expected, rendered):
    post = render_post(text, space=world.open_space)
    assert sorted(p.pk for p in post.mentioned) == sorted(team[key].pk for key in expected)
    assert rendered in post.html
    assert "Park Park" not in post.html


def test_two_people_with_the_same_full_name_stay_text(world, team):
    twin = make_person("leo.p@acme.test", "Leo Park")
    Membership.objects.create(workspace=world.workspace, person=twin, role=Role.MEMBER)
    post = render_post("@Leo Park please", space=world.open_space)
    assert post.mentioned == []
    assert "<p>@Leo Park please</p>" in post.html


def test_someone_who_cannot_see_the_space_is_not_mentioned_by_name(world, team):
    post = render_post("@Leo Park and @Adam Admin", space=world.private_space)
    assert [p.pk for p in post.mentioned] == [world.admin.pk]
    assert "<p>@Leo Park and" in post.html
