"""The inbox's parts of the post composer and of a thread's posts: asking people to respond
(in the composer or on a post), reminders, and who was asked and who answered. Thread pages
and composers of other apps use these, so they live apart from the inbox's own pages."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Container

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tidings.inbox import actions, queries, send_later
from tidings.threads import access


def due_text(due_on, due_at, now) -> tuple[str, bool]:
    """("Due Fri 28 Nov", False), or ("Overdue since Fri 28 Nov", True) once past due."""
    day = f"{due_on:%a} {due_on.day} {due_on:%b}"
    return (f"Overdue since {day}", True) if now >= due_at else (f"Due {day}", False)


def composer_ask(request: HttpRequest, space, *, people_url: str = "") -> dict:
    """The people who may be asked to respond in a space (read only when a form shows them),
    and what the person picked last time the form came back with a mistake.

    With `people_url` (a thread page) the composer fetches them when its "Ask people to
    respond…" opens: a workspace of hundreds would otherwise weigh on every thread page. They
    come with the page when the form comes back with a mistake, and when the page is asked for
    them (`?ask`, the link shown without JavaScript)."""
    person = request.user
    people = functools.cache(lambda: ask_candidates(person, space))
    checked = {int(v) for v in request.POST.getlist("ask_people") if v.isascii() and v.isdigit()}
    shown_now = request.method == "POST" or "ask" in request.GET
    return {
        "ask_people": people,
        "ask_people_boxes": lambda: ask_boxes(people(), checked),
        "ask_people_url": people_url,
        "ask_people_later": bool(people_url) and not shown_now,
        "ask_open": "ask" in request.GET,
        "ask_due": request.POST.get("ask_due", "")[:10],
        "ask_min": f"{timezone.localtime(timezone.now(), person.zone):%Y-%m-%d}",
    }


def ask_candidates(person, space) -> list[tuple[int, str]]:
    """(id, name) of everyone but the person who can see the space, by name."""
    people = access.mentionable_people(space).values_list("pk", "name")
    return [(pk, name) for pk, name in people if pk != person.pk]


def ask_boxes(
    people: list[tuple[int, str]], checked: Container[int] = frozenset(), field: str = "ask_people"
) -> SafeString:
    """A checkbox per person, written here rather than in a template loop (a workspace of
    hundreds would make it most of a page's time). Attributes unquoted: the label repeats once
    per person, and ids are digits."""
    if not people:
        return mark_safe('<p class="muted">No one else can see this thread yet.</p>')
    return mark_safe(
        "".join(
            f"<label><input type=checkbox name={field} value={pk}"
            f"{' checked' if pk in checked else ''}> {escape(name)}</label>"
            for pk, name in people
        )
    )


def ask_from_composer(request: HttpRequest, thread_id: int, reply_id: int | None = None) -> None:
    """The composer's "Ask people to respond…": ask them about the post just made. Mistakes are
    raised as the composer's "ask" errors, so the post is not made either."""
    people, due = request.POST.getlist("ask_people"), request.POST.get("ask_due", "").strip()
    if not people and not due:
        return
    try:
        due_on = dt.date.fromisoformat(due)
    except ValueError:
        raise ValidationError({"ask": ["Pick the date to respond by."]}) from None
    try:
        actions.ask_to_respond(request.user, thread_id, people, due_on, reply_id=reply_id)
    except ValidationError as error:
        raise ValidationError({"ask": error.messages}) from None


def thread_post_tools(request: HttpRequest, thread) -> dict:
    """What the "Remind me" and "Ask to respond" tools on a thread's posts share, made once
    per page: their URLs, the preset times and the people who may be asked."""
    zone = request.user.zone
    ask = composer_ask(
        request,
        thread.space,
        people_url=reverse("inbox:ask-people", kwargs={"thread_id": thread.pk}),
    )
    return {
        "remind_url": reverse("inbox:remind"),
        "remind_presets": actions.preset_menu(actions.REMIND_PRESETS, request.user),
        "ask_url": reverse("inbox:ask"),
        "now_min": f"{timezone.localtime(timezone.now(), zone):%Y-%m-%dT%H:%M}",
        **ask,
        # A post's "Ask to respond" where its people come with the page (its actions page).
        "ask_menu_boxes": lambda: ask_boxes(ask["ask_people"](), field="people"),
    }


def attach_asks(request: HttpRequest, thread, rows: list[dict]) -> None:
    """Give each post row of a thread page its requests: who was asked, who answered."""
    if not rows:
        return
    found = queries.thread_requests(thread)
    if not found:
        return
    now = timezone.now()
    by_post: dict[str, list[dict]] = {}
    for asked in found:
        label, overdue = due_text(asked.due_on, asked.due_at, now)
        people = [
            {"name": r.person.name, "answered": r.answered_at is not None}
            for r in asked.recipients.all()
        ]
        waiting = any(not p["answered"] for p in people)
        by_post.setdefault(str(asked.reply_id) if asked.reply_id else "post", []).append(
            {
                "asker": asked.asker.name if asked.asker else "Former member",
                "people": people,
                "due": label,
                "overdue": overdue and waiting,
                "cancel_url": reverse("inbox:request-cancel", args=[asked.pk])
                if asked.asker_id == request.user.pk
                else "",
            }
        )
    for row in rows:
        if not row.get("deleted"):
            row["asks"] = by_post.get(row["key"], ())


# How many held readers the confirmation names before it counts the rest.
HELD_NAMED = 8


def held_delivery_notice(author, thread, *, now: dt.datetime | None = None) -> str:
    """What "Post now, deliver in working hours" will do, said to the poster when they post:
    whose delivery is held and until when (each reader's clock and zone), and who gets it now
    because they are at work."""
    now = now or timezone.now()
    held, at_work = [], []
    for person, deliver_at in send_later.working_hours_deliveries(thread, author.pk, now):
        if deliver_at <= now:
            at_work.append(person.name)
        else:
            local = deliver_at.astimezone(person.zone)
            held.append(f"{person.name} at {local:%a %H:%M} {local.tzname()}")
    if not held and not at_work:
        return "Posted. Nobody else can see this space yet."
    parts = ["Posted."]
    if held:
        named = ", ".join(held[:HELD_NAMED])
        more = len(held) - HELD_NAMED
        named += f" and {more} more" if more > 0 else ""
        parts.append(f"Held until each reader's working day starts: {named}.")
    if at_work:
        names = ", ".join(at_work[:HELD_NAMED])
        more = len(at_work) - HELD_NAMED
        names += f" and {more} more" if more > 0 else ""
        parts.append(f"In working hours now, so they get it now: {names}.")
    return " ".join(parts)
