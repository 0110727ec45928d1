"""Requests: ask people who can see a thread to respond by a date; nudges until they answer."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from conftest import ROLES
from tidings.inbox import actions, queries
from tidings.inbox.models import InboxItem, Reason, Request, RequestRecipient
from tidings.threads import actions as thread_actions
from tidings.threads.models import SpaceMember

from .factories import make_reply, make_thread

NOW = dt.datetime(2030, 3, 13, 15, 0, tzinfo=dt.UTC)  # Wednesday
FRIDAY = dt.date(2030, 3, 15)


@pytest.fixture
def thread(world):
    return make_thread(world.open_space, world.owner, "Budget review", "Numbers, please")


def _ask(world, thread, *people, due=FRIDAY, reply=None, now=NOW):
    return actions.ask_to_respond(
        world.owner, thread.pk, [p.pk for p in people], due,
        reply_id=reply.pk if reply else None, now=now,
    )  # fmt: skip


def test_asked_people_get_a_request_item_and_a_due_time(world, thread):
    request = _ask(world, thread, world.member, world.admin)
    # Olivia is in Europe/Berlin: due at the end of Friday there.
    assert request.due_at == dt.datetime(2030, 3, 15, 23, 0, tzinfo=dt.UTC)
    for person in (world.member, world.admin):
        item = InboxItem.objects.get(person=person, thread=thread)
        assert item.reason == Reason.REQUEST and item.actor == world.owner
    waiting = list(queries.waiting_requests(world.member))
    assert [row.request for row in waiting] == [request]


def test_only_people_who_can_see_the_thread_can_be_asked(world):
    secret = make_thread(world.private_space, world.owner, "Reorg", "Private")
    for person in (world.member, world.guest, world.outsider):
        with pytest.raises(ValidationError, match="only people who can see"):
            _ask(world, secret, world.admin, person)
    assert not Request.objects.exists()
    assert not InboxItem.objects.filter(thread=secret).exists()


@pytest.mark.parametrize(
    "people,due",
    [([], FRIDAY), (["x"], FRIDAY), (None, dt.date(2030, 3, 12)), (None, dt.date(2031, 6, 1))],
)
def test_bad_requests_are_refused_with_a_sentence(world, thread, people, due):
    people = [world.member.pk] if people is None else people
    with pytest.raises(ValidationError):
        actions.ask_to_respond(world.owner, thread.pk, people, due, now=NOW)
    assert not Request.objects.exists()


def test_asking_only_oneself_is_refused(world, thread):
    with pytest.raises(ValidationError, match="at least one"):
        _ask(world, thread, world.owner)


def test_due_today_is_fine_until_the_end_of_the_day(world, thread):
    request = _ask(world, thread, world.member, due=dt.date(2030, 3, 13))
    assert request.due_at > NOW


def test_a_reply_after_the_request_answers_it(world, thread, django_capture_on_commit_callbacks):
    soon = timezone.localdate() + dt.timedelta(days=3)
    request = _ask(world, thread, world.member, world.admin, due=soon, now=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        reply = thread_actions.post_reply(world.member, thread, body="Here are the numbers")
    rows = {r.person_id: r for r in request.recipients.all()}
    assert rows[world.member.pk].answered_at is not None
    assert rows[world.member.pk].answer == reply
    assert rows[world.admin.pk].answered_at is None
    assert list(queries.waiting_requests(world.member)) == []


def test_a_reply_before_the_request_does_not_answer_it(world, thread):
    earlier = make_reply(thread, world.member, "Earlier")
    soon = timezone.localdate() + dt.timedelta(days=3)
    later = timezone.now() + dt.timedelta(minutes=1)
    request = _ask(world, thread, world.member, due=soon, now=later)
    answered = actions.answer_requests(earlier.pk, thread.pk, world.member.pk, earlier.created_at)
    assert answered == 0
    assert request.recipients.get().answered_at is None


def test_mark_answered_by_hand_only_for_ones_own(world, thread):
    row = _ask(world, thread, world.member).recipients.get()
    with pytest.raises(Http404):
        actions.mark_answered(world.admin, row.pk)
    actions.mark_answered(world.member, row.pk, now=NOW)
    row.refresh_from_db()
    assert row.answered_at == NOW


def test_nudges_daily_until_answered_and_once_per_run(world, thread):
    row = _ask(world, thread, world.member).recipients.get()
    item = InboxItem.objects.get(person=world.member)
    actions.mark_done(world.member, item.pk)
    assert actions.nudge_waiting_requests(NOW + dt.timedelta(hours=23)) == 0
    day = NOW + dt.timedelta(days=1)
    assert actions.nudge_waiting_requests(day) == 1
    assert actions.nudge_waiting_requests(day) == 0  # run twice: nudged once
    item.refresh_from_db()
    assert item.done_at is None and item.reason == Reason.REQUEST and item.updated_at == day
    # Overdue: still nudged, daily.
    assert actions.nudge_waiting_requests(NOW + dt.timedelta(days=5)) == 1
    actions.mark_answered(world.member, row.pk)
    assert actions.nudge_waiting_requests(NOW + dt.timedelta(days=9)) == 0


def test_no_nudge_after_losing_access(world):
    secret = make_thread(world.private_space, world.owner, "Reorg", "Private")
    _ask(world, secret, world.admin)
    SpaceMember.objects.filter(space=world.private_space, person=world.admin).delete()
    assert actions.nudge_waiting_requests(NOW + dt.timedelta(days=2)) == 0
    assert list(queries.waiting_requests(world.admin)) == []


def test_request_on_a_reply_and_withdrawal(world, thread):
    reply = make_reply(thread, world.owner, "Second thoughts")
    request = _ask(world, thread, world.member, reply=reply)
    assert InboxItem.objects.get(person=world.member).latest_reply == reply
    with pytest.raises(Http404):
        actions.cancel_request(world.member, request.pk)
    actions.cancel_request(world.owner, request.pk)
    assert not RequestRecipient.objects.exists()


def test_archived_space_takes_no_requests(world, thread):
    world.open_space.archived_at = NOW
    world.open_space.save()
    with pytest.raises(PermissionDenied):
        _ask(world, thread, world.member)


# --- Pages.


def test_inbox_pins_requests_with_due_date_and_overdue(world, thread):
    today = timezone.localdate(timezone.now(), world.owner.zone)
    _ask(world, thread, world.member, due=today + dt.timedelta(days=2), now=timezone.now())
    body = world.client_for("member").get("/inbox/").content.decode()
    due = today + dt.timedelta(days=2)
    assert "Waiting for your answer" in body
    assert f"Due {due:%a} {due.day} {due:%b}" in body and "is-overdue" not in body
    Request.objects.update(due_at=timezone.now() - dt.timedelta(hours=1))
    body = world.client_for("member").get("/inbox/").content.decode()
    assert "Overdue since" in body and "is-overdue" in body
    assert (
        "Waiting for your answer" not in world.client_for("admin").get("/inbox/").content.decode()
    )


def test_asker_sees_who_answered_on_the_post(world, thread, django_capture_on_commit_callbacks):
    _ask(world, thread, world.member, world.admin, due=timezone.localdate() + dt.timedelta(days=3),
         now=timezone.now())  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        thread_actions.post_reply(world.member, thread, body="Done")
    body = world.client_for("owner").get(f"/t/{thread.pk}/").content.decode()
    assert "Olivia Owner asked:" in body
    assert 'Mia Member <span aria-hidden="true">✓</span> answered' in body
    assert "Adam Admin — waiting" in body
    assert "Withdraw" in body
    assert "Withdraw" not in world.client_for("member").get(f"/t/{thread.pk}/").content.decode()


def test_ask_form_offers_only_people_who_can_see_and_only_on_own_posts(world):
    secret = make_thread(world.private_space, world.owner, "Reorg", "Private")
    reply = make_reply(secret, world.admin, "A reply by Adam")
    owner = world.client_for("owner")
    body = owner.get(f"/t/{secret.pk}/").content.decode()
    assert body.count("Ask to respond</summary>") == 1  # rendered once, for own posts only
    assert body.count(" data-own>") == 1  # the owner's opening post only
    # Its people, and the composer's, come when the form opens (and with the page on `?ask`,
    # the link shown without JavaScript).
    people_url = f"/t/{secret.pk}/ask-people"
    assert f'hx-get="{people_url}?for=post"' in body and f'hx-get="{people_url}"' in body
    assert "Adam Admin</label>" not in body
    for offered in (
        owner.get(f"{people_url}?for=post").content.decode(),
        owner.get(people_url).content.decode(),
        owner.get(f"/t/{secret.pk}/?ask").content.decode(),
    ):
        assert "Adam Admin</label>" in offered
        assert "Mia Member</label>" not in offered and "Gus Guest</label>" not in offered
        assert "Olivia Owner</label>" not in offered  # not oneself
    assert "name=people value=" in owner.get(f"{people_url}?for=post").content.decode()
    assert "name=ask_people value=" in owner.get(people_url).content.decode()
    opening = owner.get(f"/t/{secret.pk}/actions").content.decode()
    assert "Ask to respond" in opening and "Adam Admin</label>" in opening
    assert "Mia Member</label>" not in opening and "Gus Guest</label>" not in opening
    assert "Ask to respond" not in owner.get(f"/t/{secret.pk}/r/{reply.pk}/").content.decode()
    # Without a post of one's own on the page, the menu is not sent at all.
    other = make_thread(world.private_space, world.owner, "Budget", "Private")
    admin_page = world.client_for("admin").get(f"/t/{other.pk}/").content.decode()
    assert "Budget" in admin_page
    assert "Ask to respond</summary>" not in admin_page


# role -> POST /inbox/ask status on the open / the private thread (asking the admin)
ASK_STATUS = {
    "owner": (302, 302), "admin": (302, 302), "member": (302, 404), "guest": (302, 404),
    "outsider": (404, 404), "anonymous": (302, 302),
}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_ask_endpoint_matrix(world, role):
    client = world.client_for(role)
    due = f"{timezone.localdate() + dt.timedelta(days=3):%Y-%m-%d}"
    for index, space in enumerate([world.open_space, world.private_space]):
        thread = make_thread(space, world.owner, f"Thread {index}", "Body")
        response = client.post(
            "/inbox/ask", {"thread_id": thread.pk, "people": [world.owner.pk], "due_on": due}
        )
        assert response.status_code == ASK_STATUS[role][index]
        made = Request.objects.filter(thread=thread).exists()
        assert made == (response.status_code == 302 and role not in ("anonymous", "owner"))


@pytest.mark.parametrize("role", ROLES)
def test_answered_and_cancel_endpoints_matrix(world, thread, role):
    request = _ask(world, thread, world.member, now=timezone.now(),
                   due=timezone.localdate() + dt.timedelta(days=3))  # fmt: skip
    row = request.recipients.get()
    client = world.client_for(role)
    answered = client.post(f"/inbox/requests/{row.pk}/answered")
    expected = {"member": 302, "anonymous": 302}.get(role, 404)
    assert answered.status_code == expected
    row.refresh_from_db()
    assert (row.answered_at is not None) == (role == "member")
    cancel = client.post(f"/inbox/requests/{request.pk}/cancel")
    assert cancel.status_code == {"owner": 302, "anonymous": 302}.get(role, 404)
    assert Request.objects.exists() == (role != "owner")


@pytest.mark.parametrize(
    "data",
    [
        {"due_on": "soon"},
        {"due_on": ""},
        {"people": []},
        {"people": ["abc"]},
        {"people": ["999999"]},
    ],
)
def test_bad_ask_input_says_what_to_do(world, thread, data):
    due = f"{timezone.localdate() + dt.timedelta(days=3):%Y-%m-%d}"
    form = {"thread_id": thread.pk, "people": [world.member.pk], "due_on": due, **data}
    response = world.client_for("owner").post("/inbox/ask", form, follow=True)
    assert response.status_code == 200
    assert "message-error" in response.content.decode()
    assert not Request.objects.exists()


# --- API.


@pytest.mark.parametrize("role", ROLES)
def test_requests_api_matrix(world, api_for, role):
    api = api_for(role)
    due = f"{timezone.localdate() + dt.timedelta(days=3)}"
    secret = make_thread(world.private_space, world.admin, "Reorg", "Private")
    public = make_thread(world.open_space, world.admin, "Launch", "Public")
    expected = {
        "owner": (201, 201),
        "admin": (422, 422),
        "member": (201, 404),
        "guest": (201, 404),
        "outsider": (404, 404),
        "anonymous": (401, 401),
    }[role]  # fmt: skip  (the admin asking only themself is refused)
    for index, thread in enumerate([public, secret]):
        response = api.post(
            "/requests", {"thread_id": thread.pk, "people": [world.admin.pk], "due_on": due}
        )
        assert response.status_code == expected[index]
        if response.status_code == 201:
            body = response.json()
            assert body["asked"][0]["person"]["id"] == world.admin.pk
            assert body["asked"][0]["answered_at"] is None and body["overdue"] is False
    waiting = api_for("admin").get("/requests/waiting").json()
    asked_by = {"owner": 2, "member": 1, "guest": 1}.get(role, 0)
    assert len(waiting) == asked_by
    if waiting:
        row = waiting[0]["id"]
        assert api.post(f"/requests/waiting/{row}/answered").status_code in (401, 404)
        answered = api_for("admin").post(f"/requests/waiting/{row}/answered")
        assert answered.status_code == 200 and answered.json()["overdue"] is False
        mine = api.get("/requests").json()
        assert any(a["answered_at"] for r in mine for a in r["asked"])
        request_id = mine[0]["id"]
        assert api_for("admin").delete(f"/requests/{request_id}").status_code == 404
        assert api.delete(f"/requests/{request_id}").status_code == 204


def test_requests_api_refuses_people_who_cannot_see(world, api_for):
    secret = make_thread(world.private_space, world.owner, "Reorg", "Private")
    due = f"{timezone.localdate() + dt.timedelta(days=3)}"
    response = api_for("owner").post(
        "/requests", {"thread_id": secret.pk, "people": [world.member.pk], "due_on": due}
    )
    assert response.status_code == 422
    assert "can see this thread" in response.content.decode()
    bad = api_for("owner").post(
        "/requests", {"thread_id": secret.pk, "people": [world.admin.pk], "due_on": "soon"}
    )
    assert bad.status_code == 422


# --- Asking from the composers.


def test_reply_composer_asks_people(world, thread, django_capture_on_commit_callbacks):
    due = f"{timezone.localdate() + dt.timedelta(days=3):%Y-%m-%d}"
    client = world.client_for("owner")
    form = {"body": "Can you two check this?", "ask_people": [world.member.pk, world.admin.pk],
            "ask_due": due}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/t/{thread.pk}/reply", form)
    assert response.status_code == 302
    request = Request.objects.get()
    assert request.reply.body == "Can you two check this?"
    assert {r.person_id for r in request.recipients.all()} == {world.member.pk, world.admin.pk}
    item = InboxItem.objects.get(person=world.member, thread=thread)
    assert item.reason == Reason.REQUEST


def test_composer_ask_mistakes_keep_the_post_unmade(world, thread):
    client = world.client_for("owner")
    secret = make_thread(world.private_space, world.owner, "Reorg", "Private")
    due = f"{timezone.localdate() + dt.timedelta(days=3):%Y-%m-%d}"
    cases = [
        (thread, {"ask_people": [world.member.pk], "ask_due": "tomorrow"}, "Pick the date"),
        (thread, {"ask_due": due}, "Pick at least one person"),
        (secret, {"ask_people": [world.member.pk], "ask_due": due}, "can see this thread"),
    ]
    for target, fields, message in cases:
        response = client.post(f"/t/{target.pk}/reply", {"body": "Please check", **fields})
        assert response.status_code == 400
        page = response.content.decode()
        assert message in page and "Please check" in page  # the draft comes back
    assert not Request.objects.exists()
    assert not thread.replies.exists() and not secret.replies.exists()


def test_new_thread_composer_asks_people(world, django_capture_on_commit_callbacks):
    due = f"{timezone.localdate() + dt.timedelta(days=2):%Y-%m-%d}"
    form = {"kind": "question", "title": "Which vendor?", "body": "Pick one",
            "ask_people": [world.admin.pk], "ask_due": due}  # fmt: skip
    client = world.client_for("member")
    page = client.get("/w/acme/s/general/new").content.decode()
    assert "Ask people to respond…" in page and "Adam Admin</label>" in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/w/acme/s/general/new", form).status_code == 302
    request = Request.objects.get()
    assert request.thread.title == "Which vendor?" and request.reply is None
    assert InboxItem.objects.get(person=world.admin, thread=request.thread).reason == (
        Reason.REQUEST
    )
