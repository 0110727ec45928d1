"""The weight of a long thread page, held: its bytes, its forms and its queries.

A thread of 200 replies (Markdown bodies of a median ~300 characters, 200 people in the
workspace, as bench/generate.py makes them) must stay light: what a person may do with
"this post" is rendered once per page, not once per post, and the page reads a fixed number
of queries however many replies it shows. Deterministic: sizes and counts, never timings.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tidings.accounts.models import User
from tidings.threads.markdown import render_markdown
from tidings.threads.models import Reply, ThreadFollow
from tidings.workspaces.models import Membership, Role

from .factories import thread_in

MAX_BYTES = 150_000
WORDS = (
    "the release plan looks good to me but we should check the rollout with support first "
    "and keep the canary small until the dashboards agree about latency budget owners review "
    "customer feedback migration staging incident runbook deploy schedule estimate"
).split()


def body(rng: random.Random) -> str:
    """Markdown of about 300 characters (from 150 to 450): prose, sometimes a list or bold."""
    target = rng.randint(150, 450)
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < target:
        words.append(rng.choice(WORDS))
    text = " ".join(words).capitalize() + "."
    shape = rng.random()
    if shape < 0.15:
        half = len(words) // 2
        return f"{' '.join(words[:half])}:\n\n- {' '.join(words[half:])}\n- ship it"
    if shape < 0.35:
        return text.replace(" ", " **", 1).replace(" ", "** ", 2)
    return text


@pytest.fixture
def crowd(world) -> list[User]:
    """200 people in the workspace, as in the benchmark data."""
    User.objects.bulk_create(
        User(email=f"person{i}@acme.test", name=f"Person {i}", password="!") for i in range(196)
    )
    people = list(User.objects.filter(email__startswith="person").order_by("pk"))
    Membership.objects.bulk_create(
        Membership(workspace=world.workspace, person=p, role=Role.MEMBER) for p in people
    )
    return [world.member, *people]


def long_thread(world, crowd: list[User], replies: int):
    """A thread of `replies` replies by six people, the member among them."""
    rng = random.Random(7)
    thread = thread_in(world.open_space, world.owner, title="Rollout", body=body(rng))
    repliers = [world.member, *rng.sample(crowd[1:], 5)]
    start = timezone.now() - timedelta(days=2)
    made = []
    for n in range(replies):
        text = body(rng)
        made.append(
            Reply(
                thread=thread,
                author=repliers[n % len(repliers)],
                body=text,
                body_html=render_markdown(text, space=world.open_space),
                created_at=start + timedelta(minutes=5 * n),
            )
        )
    Reply.objects.bulk_create(made)
    ThreadFollow.objects.bulk_create(
        [ThreadFollow(thread=thread, person=p) for p in repliers], ignore_conflicts=True
    )
    return thread


def weigh(client, thread) -> tuple[str, int]:
    """The page as a reader sees it on a second visit (the first one marks it read)."""
    url = reverse("threads:thread", args=[thread.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


@pytest.mark.parametrize("role", ["member", "admin"])
def test_a_200_reply_thread_page_stays_light(world, crowd, role):
    thread = long_thread(world, crowd, 200)
    html, _queries = weigh(world.client_for(role), thread)
    bodies = [m for m in re.findall(r'<div class="post-body">(.*?)</div>', html, re.S)]
    assert len(bodies) == 201
    assert 250 <= sorted(len(b) for b in bodies)[100] <= 400  # median ~300-character replies
    assert len(html.encode()) <= MAX_BYTES
    # The page's own forms (composer, follow, resolve, sign out, ...) and the once-rendered
    # menus: none per post (no post here has reactions or requests). The member has posts of
    # their own, so the page also carries the "Ask to respond" menu.
    forms = html.count("<form")
    assert forms == {"member": 10, "admin": 9}[role]
    # Each post offers its actions once, as a link to its own page.
    assert html.count('<a class="post-more" href="') == 201
    assert html.count("Remind me</summary>") == 1
    assert html.count("Delete</summary>") == 1


def test_the_thread_page_reads_as_many_queries_for_20_replies_as_for_200(world, crowd):
    client = world.client_for("member")
    _html, few = weigh(client, long_thread(world, crowd, 20))
    _html, many = weigh(client, long_thread(world, crowd, 200))
    assert few == many
    assert many <= 25
