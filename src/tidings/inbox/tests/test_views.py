import datetime as dt
import re

import pytest
from django.utils import timezone

from conftest import ROLES
from tidings.accounts.delivery import settings_for
from tidings.inbox import actions
from tidings.inbox.actions import fan_out_reply_posted, fan_out_thread_posted
from tidings.inbox.models import InboxItem

from .factories import make_reply, make_thread

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def items(world):
    """The member has an open item; the owner and admin have one in a private thread."""
    public = make_thread(world.open_space, world.guest, "Launch checklist", "Ship **it**")
    fan_out_reply_posted(make_reply(public, world.owner, "Looks *great* <b>x</b>"), [world.member])
    secret = make_thread(world.private_space, world.owner, "Secret reorg plan", "Very private")
    fan_out_thread_posted(secret, [])
    return {
        "member": InboxItem.objects.get(person=world.member),
        "admin": InboxItem.objects.get(person=world.admin, thread=secret),
    }


# role -> expected status of GET /inbox/ and /inbox/count
PAGE_STATUS = {"owner": 200, "admin": 200, "member": 200, "guest": 200, "outsider": 200,
               "anonymous": 302}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ["/inbox/", "/inbox/?tab=snoozed", "/inbox/?tab=done",
                                 "/inbox/?partial=1", "/inbox/count"])  # fmt: skip
def test_inbox_pages_matrix(world, items, role, url):
    response = world.client_for(role).get(url)
    assert response.status_code == PAGE_STATUS[role]
    body = response.content.decode()
    if role not in ("owner", "admin"):
        assert "Secret reorg plan" not in body
    if role == "anonymous":
        assert "/sign-in" in response["Location"] or "sign" in response["Location"]


def test_inbox_shows_the_item_with_plain_excerpt(world, items):
    body = world.client_for("member").get("/inbox/").content.decode()
    assert "Launch checklist" in body
    assert "Mentioned you" in body
    assert "Looks great" in body  # Markdown symbols are gone
    assert "<b>x</b>" not in body  # typed HTML is shown as text, never as markup
    assert f'href="/t/{items["member"].thread_id}/#reply-' in body
    assert "is-unread" in body


def test_count_partial_keeps_its_markup(world, items):
    body = world.client_for("member").get("/inbox/count").content.decode()
    assert 'id="inbox-count"' in body and ">1<" in body


def test_empty_states(world):
    assert "Inbox zero" in world.client_for("member").get("/inbox/").content.decode()
    assert (
        "Nothing snoozed" in world.client_for("member").get("/inbox/?tab=snoozed").content.decode()
    )


ACTIONS = ["done", "undone", "snooze", "unsnooze", "read"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_actions_on_someone_elses_item_are_404(world, items, role, action):
    expected = {"member": 200, "anonymous": 302}.get(role, 404)
    item = items["member"]
    response = world.client_for(role).post(
        f"/inbox/{item.pk}/{action}", {"preset": "tomorrow", "tab": "open"}, **HTMX
    )
    assert response.status_code == expected
    assert "Launch checklist" not in response.content.decode() or role == "member"
    if role != "member":
        item.refresh_from_db()
        assert item.done_at is None and item.snoozed_until is None and item.read_at is None


def test_private_item_of_admin_is_404_for_member_even_with_bad_date(world, items):
    response = world.client_for("member").post(
        f"/inbox/{items['admin'].pk}/snooze", {"until": "not a date"}, **HTMX
    )
    assert response.status_code == 404


def test_get_on_an_action_is_refused(world, items):
    assert world.client_for("member").get(f"/inbox/{items['member'].pk}/done").status_code == 405


def _swapped_counts(body: str) -> tuple[str, str, str]:
    """The open and snoozed tab counts and the top bar count a triage response swaps in."""
    tabs = re.search(r'<nav id="inbox-tabs"[^>]*hx-swap-oob="true">(.*?)</nav>', body, re.S)
    tab_counts = re.findall(r'class="tab-count">(\d+)<', tabs.group(1))
    badge = re.search(r'<span id="inbox-count"[^>]*hx-swap-oob="true">.*?(\d+)<', body, re.S)
    return tab_counts[0], tab_counts[1], badge.group(1)


def test_done_swaps_row_with_undo_and_refreshes_the_count(world, items):
    client = world.client_for("member")
    item = items["member"]
    response = client.post(f"/inbox/{item.pk}/done", {"tab": "open"}, **HTMX)
    body = response.content.decode()
    assert "Marked done." in body and f"/inbox/{item.pk}/undone" in body
    assert _swapped_counts(body) == ("0", "0", "0")
    assert ">0<" in client.get("/inbox/count").content.decode()
    client.post(f"/inbox/{item.pk}/undone", {"tab": "open"}, **HTMX)
    item.refresh_from_db()
    assert item.done_at is None


def test_done_without_htmx_redirects_back(world, items):
    response = world.client_for("member").post(f"/inbox/{items['member'].pk}/done", {"tab": "done"})
    assert response.status_code == 302 and response["Location"] == "/inbox/?tab=done"


@pytest.mark.parametrize(
    ("until", "message"),
    [
        ("yesterday", "Enter a date and time"),
        ("2030-02-30T09:00", "Enter a date and time"),
        ("99999-01-01T00:00", "Enter a date and time"),
        ("2001-01-01T09:00", "in the future"),
        ("", "Pick when the item should come back"),
    ],
)
def test_bad_snooze_dates_give_a_clear_message(world, items, until, message):
    item = items["member"]
    response = world.client_for("member").post(
        f"/inbox/{item.pk}/snooze", {"until": until, "tab": "open"}, **HTMX
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    item.refresh_from_db()
    assert item.snoozed_until is None


def test_bad_snooze_without_htmx_shows_message_after_redirect(world, items):
    client = world.client_for("member")
    response = client.post(f"/inbox/{items['member'].pk}/snooze", {"until": "soon"}, follow=True)
    assert "Enter a date and time" in response.content.decode()


def test_custom_snooze_is_in_the_persons_zone(world, items):
    # Mia is in Asia/Kolkata: 09:00 there is 03:30 UTC.
    day = (timezone.now() + dt.timedelta(days=3)).date()
    item = items["member"]
    response = world.client_for("member").post(
        f"/inbox/{item.pk}/snooze", {"until": f"{day}T09:00", "tab": "open"}, **HTMX
    )
    assert "Snoozed until" in response.content.decode()
    item.refresh_from_db()
    assert item.snoozed_until == dt.datetime.combine(day, dt.time(3, 30), tzinfo=dt.UTC)
    body = world.client_for("member").get("/inbox/?tab=snoozed").content.decode()
    assert "Launch checklist" in body and "09:00" in body


def test_preset_snooze_moves_item_to_snoozed_tab(world, items):
    client = world.client_for("member")
    client.post(f"/inbox/{items['member'].pk}/snooze", {"preset": "tomorrow"}, **HTMX)
    assert "Launch checklist" not in client.get("/inbox/").content.decode()
    assert "Launch checklist" in client.get("/inbox/?tab=snoozed").content.decode()


def test_snooze_menu_sends_the_preset_pressed_and_links_each_row(world, items):
    """The presets are buttons of one form: each sends its own name, to this row's URL."""
    item = items["member"]
    settings = settings_for(world.member)
    settings.quiet_start = settings.quiet_end = None  # "Later today" is offered until 21:00
    settings.save()
    body = world.client_for("member").get("/inbox/").content.decode()
    offered = ["tomorrow", "monday"]
    if actions.preset_time("later", world.member) is not None:
        offered.insert(0, "later")
    assert re.findall(r'name="preset" value="(\w+)"', body) == offered
    assert f'action="/inbox/{item.pk}/snooze"' in body
    assert f'action="/inbox/{item.pk}/done"' in body


def test_every_triage_response_carries_the_new_tab_and_top_bar_counts(world, items):
    """Done, snooze, unsnooze and undo each swap in the counts they leave behind."""
    client = world.client_for("member")
    item = items["member"]
    second = make_thread(world.open_space, world.owner, "Second thing", "Also")
    fan_out_thread_posted(second, [world.member])
    url = f"/inbox/{item.pk}"
    steps = [
        ("done", {}, ("1", "0", "1")),
        ("undone", {}, ("2", "0", "2")),
        ("snooze", {"preset": "tomorrow"}, ("1", "1", "1")),
        ("unsnooze", {}, ("2", "0", "2")),
    ]
    for action, data, expected in steps:
        response = client.post(f"{url}/{action}", {"tab": "open", **data}, **HTMX)
        assert response.status_code == 200
        assert _swapped_counts(response.content.decode()) == expected, action


def test_the_list_refresh_carries_the_top_bar_count(world, items):
    body = world.client_for("member").get("/inbox/?partial=1").content.decode()
    assert 'id="inbox-list"' in body
    assert re.search(r'<span id="inbox-count"[^>]*hx-swap-oob="true">.*?1<', body, re.S)
