"""The pages of spaces and threads that show what several apps add to them: a thread's
recordings with their players and transcripts (recordings, transcripts), "Remind me" and
"Ask to respond" (inbox), the emails posts came from and a space's address (mail). They sit
above every app, so each app stays below the pages that gather them; the threads app keeps
its own single-purpose pages (editing, history, spaces' settings)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.backends.utils import csrf_input
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from tidings.inbox import composer as inbox_composer
from tidings.mail import inbound as mail_inbound
from tidings.mail.addresses import space_address
from tidings.recordings import queries as recording_queries
from tidings.security import is_page_view
from tidings.threads import access, actions, queries
from tidings.threads import composer as post_composer
from tidings.threads.context import sidebar_spaces
from tidings.threads.markdown import plain_text
from tidings.threads.models import (
    REACTION_PALETTE,
    Attachment,
    Thread,
    ThreadKind,
)
from tidings.threads.post_html import posts_html, reactions_html
from tidings.threads.templatetags.threads_tags import long_time, short_time
from tidings.threads.views import (
    LEVEL_CHOICES,
    PAGE_SIZE,
    form_errors,
    is_htmx,
    thread_url,
)
from tidings.transcripts.player import thread_players
from tidings.workspaces.queries import workspace_for

QUOTE_PREFILL_CHARS = 1000


def _with_recordings(person, page) -> None:
    """Each thread of a list page gets `list_recording`, the recording its row shows (or
    None), and its thumbnail: one query for the page."""
    threads = list(page.object_list)
    shown = recording_queries.thread_list_recordings(person, [thread.pk for thread in threads])
    for thread in threads:
        recording = thread.list_recording = shown.get(thread.pk)
        if recording is not None:
            thread.recording_card = recording_queries.thumbnail(person, recording)
            thread.recording_label = recording_queries.label(recording)
    page.object_list = threads


@login_required
@require_GET
def workspace_home(request: HttpRequest, workspace: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    page = Paginator(queries.recent_threads(request.user, ws), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    _with_recordings(request.user, page)
    can_create_space = access.can_create_space(request.user, ws)
    return render(
        request,
        "threads/workspace_home.html",
        {
            "workspace": ws,
            "page": page,
            "can_create_space": can_create_space,
            "sidebar_can_create": can_create_space,
            "has_spaces": bool(sidebar_spaces(request, ws)),  # the sidebar's list, read once
        },
    )


@login_required
@require_GET
def space_page(request: HttpRequest, workspace: str, space: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    sp = queries.space_for(request.user, ws, space)
    kind = request.GET.get("kind", "")
    state = request.GET.get("state", "")
    threads = queries.space_threads(request.user, sp, kind=kind, state=state)
    page = Paginator(threads, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_recordings(request.user, page)
    return render(
        request,
        "threads/space.html",
        {
            "workspace": ws,
            "space": sp,
            "page": page,
            "kind": kind if kind in ThreadKind.values else "",
            "state": state if state in ("open", "resolved") else "",
            "kinds": ThreadKind.choices,
            "level": queries.space_level(request.user, sp),
            "levels": LEVEL_CHOICES,
            "can_manage": access.can_manage_space(request.user, sp),
            "can_post": access.can_post_in_space(request.user, sp),
            "email_address": (
                space_address(sp) if access.can_post_in_space(request.user, sp) else ""
            ),
        },
    )


@login_required
def space_manage(request: HttpRequest, workspace: str, space: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    sp = queries.space_for(request.user, ws, space)
    if not access.can_manage_space(request.user, sp):
        raise PermissionDenied("Only the space's creator or a workspace admin can change it.")
    errors: dict[str, list[str]] = {}
    status = 200
    member_ids = {str(pk) for pk in access.space_list_people(sp).values_list("pk", flat=True)}
    form = {"name": sp.name, "description": sp.description}
    if request.method == "POST":
        form = {
            "name": request.POST.get("name", ""),
            "description": request.POST.get("description", ""),
        }
        member_ids = set(request.POST.getlist("member_ids"))
        try:
            with transaction.atomic():
                actions.update_space(request.user, sp, **form)
                if sp.is_private:
                    actions.set_space_members(request.user, sp, member_ids)
        except ValidationError as error:
            errors, status = form_errors(error), 400
            sp.refresh_from_db()
        else:
            messages.success(request, "Space updated.")
            return redirect("threads:space", workspace=ws.slug, space=sp.slug)
    return render(
        request,
        "threads/space_manage.html",
        {
            "workspace": ws,
            "space": sp,
            "form": form,
            "errors": errors,
            "people": queries.workspace_people(ws) if sp.is_private else [],
            "member_ids": member_ids,
            "space_mail": mail_inbound.space_mail(request.user, sp),
        },
        status=status,
    )


@login_required
def thread_new(request: HttpRequest, workspace: str, space: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    sp = queries.space_for(request.user, ws, space)
    if not access.can_post_in_space(request.user, sp):
        raise PermissionDenied("This space is archived; nothing new can be posted in it.")
    form = {"kind": request.GET.get("kind", ThreadKind.DISCUSSION), "title": "", "body": ""}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        form = {key: request.POST.get(key, "") for key in ("kind", "title", "body")}
        uploaded: list[Attachment] = []
        try:
            with transaction.atomic():
                uploaded = post_composer.upload_files(request, sp)
                thread = actions.post_thread(
                    request.user,
                    sp,
                    **form,
                    attachment_tokens=[a.token for a in uploaded],
                    **post_composer.recording_fields(request),
                    hold_delivery=post_composer.holds_delivery(request),
                )
                inbox_composer.ask_from_composer(request, thread.pk)
        except ValidationError as error:
            post_composer.discard_files(uploaded)
            errors, status = form_errors(error), 400
        else:
            if post_composer.holds_delivery(request):
                messages.success(request, inbox_composer.held_delivery_notice(request.user, thread))
            return redirect(thread_url(thread))
    return render(
        request,
        "threads/thread_new.html",
        {
            "workspace": ws,
            "space": sp,
            "form": form,
            "errors": errors,
            "kinds": ThreadKind.choices,
            "max_mb": settings.MAX_ATTACHMENT_BYTES // (1024 * 1024),
            **inbox_composer.composer_ask(request, sp),
        },
        status=status,
    )


def _reaction_controls(request: HttpRequest, thread: Thread) -> dict:
    """What every post's forms share, made once per page rather than once per post (a thread
    of 200 replies would otherwise render the palette, its URL and the CSRF field 200 times)."""
    return {
        "csrf_input": csrf_input(request),
        "react_url": reverse("threads:react", kwargs={"thread_id": thread.pk}),
        "palette_buttons": render_to_string("threads/_palette.html", {"palette": REACTION_PALETTE}),
        **inbox_composer.thread_post_tools(request, thread),  # "Remind me" and "Ask to respond"
    }


def _posts_html(
    controls: dict, thread: Thread, shown: list[dict], *, actions_page: bool = False
) -> SafeString:
    """The shown posts' markup, with the page's shared controls (`_reaction_controls`)."""
    return posts_html(
        controls["csrf_input"],
        thread,
        shown,
        react_url=controls["react_url"],
        actions_page=actions_page,
    )


def _per_reply_url(name: str, thread_id: int) -> Callable[[int], str]:
    """A reply URL maker that reverses once per page; each reply's URL is then string
    formatting (a page of 200 replies would otherwise reverse hundreds of times)."""
    marker = "987654321"
    url = reverse(name, kwargs={"thread_id": thread_id, "reply_id": int(marker)})
    if url.count(marker) != 1:  # the thread id happens to contain the marker
        return lambda reply_id: reverse(name, kwargs={"thread_id": thread_id, "reply_id": reply_id})
    head, _, tail = url.partition(marker)
    return lambda reply_id: f"{head}{reply_id}{tail}"


def _shown(
    request: HttpRequest, thread: Thread, posts: list[queries.Post], *, is_admin: bool
) -> list[dict]:
    """What each post shows, worked out in Python once per page: names, times in the reader's
    zone, tool URLs and the buttons offered (the actions check again on submit). Plain dicts,
    because the template engine looks keys up faster than attributes, hundreds of times."""
    person = request.user
    zone = person.zone
    now = timezone.localtime(timezone.now(), zone)
    edit_url = _per_reply_url("threads:reply-edit", thread.pk)
    delete_url = _per_reply_url("threads:reply-delete", thread.pk)
    history_url = _per_reply_url("threads:reply-history", thread.pk)
    actions_url = _per_reply_url("threads:reply-actions", thread.pk)
    # Each post's actions page, relative to the thread page (the only page that lists posts,
    # live updates included): bytes saved on every post of a long thread.
    here = reverse("threads:thread", kwargs={"thread_id": thread.pk})
    thread_author = thread.author.name if thread.author_id and thread.author else ""
    players, moment_links = thread_players(person, thread, posts, is_admin=is_admin)
    shown = []
    for post in posts:
        reply = post.reply
        row = {
            "reply": reply,
            "key": post.key,
            "anchor": post.anchor,
            "new_divider": post.new_divider,
            "reactions": post.reactions,
            "attachments": post.attachments,
            "deleted": reply is not None and reply.deleted_at is not None,
            "quote_author": "",
        }
        shown.append(row)
        if row["deleted"]:
            continue
        row["players"] = players.get(post.key, ())
        row["players_html"] = _players_html(row["players"])
        row["moment"] = moment_links.get(post.key)
        if reply is None:  # the opening post
            own = thread.author_id == person.pk
            author, created_at, edited_at = thread_author, thread.created_at, thread.edited_at
            kwargs = {"thread_id": thread.pk}
            row["body_html"] = thread.body_html.rstrip()
            history = reverse("threads:thread-history", kwargs=kwargs) if edited_at else ""
            row["edited_url"] = history
            row["edit_url"] = reverse("threads:thread-edit", kwargs=kwargs) if own else ""
            row["delete_url"] = (
                reverse("threads:thread-delete", kwargs=kwargs) if own or is_admin else ""
            )
            row["delete_prompt"] = "Delete the whole thread?"
            row["actions_url"] = reverse("threads:thread-actions", kwargs=kwargs).removeprefix(here)
        else:
            own = reply.author_id == person.pk
            author = reply.author_name or ""
            created_at, edited_at = reply.created_at, reply.edited_at
            row["body_html"] = reply.body_html.rstrip()
            row["edited_url"] = history_url(reply.pk) if edited_at else ""
            row["edit_url"] = edit_url(reply.pk) if own else ""
            row["delete_url"] = delete_url(reply.pk) if own or is_admin else ""
            row["delete_prompt"] = "Delete this reply?"
            row["actions_url"] = actions_url(reply.pk).removeprefix(here)
            if reply.quote_text:
                if reply.quoted_reply_id is not None:
                    row["quote_href"] = f"#reply-{reply.quoted_reply_id}"
                    name = reply.quoted_author_name or ""
                else:
                    row["quote_href"], name = "#post", thread_author
                row["quote_author"] = name or "Former member"
                row["quote_text"] = reply.quote_text
        # The page's once-rendered tools offer Edit and Delete on one's own posts, and Delete
        # on every post to an admin (the template says so once); the actions check again.
        row["own"] = own
        row["author_name"] = author or "Former member"
        row["initial"] = (author or "?")[:1].upper()
        local = row["local_time"] = created_at.astimezone(zone)
        row["time_iso"] = f"{created_at.astimezone(dt.UTC):%Y-%m-%dT%H:%MZ}"
        row["time_text"] = short_time(local, now)
        row["edited_title"] = long_time(edited_at.astimezone(zone)) if edited_at else ""
    inbox_composer.attach_asks(request, thread, shown)  # who was asked to respond, who answered
    originals = mail_inbound.original_links(
        thread, [p.reply.pk for p in posts if p.reply is not None]
    )
    for row in shown:
        # The post's author or an admin (access.can_view_original_email): who may delete it.
        key = row["reply"].pk if row["reply"] else None
        row["original_url"] = originals.get(key, "") if row.get("delete_url") else ""
    return shown


def _players_html(players: list[dict]) -> SafeString:
    """A post's players, rendered here for the threads app's posts (the player is a transcripts
    template, above threads). Without the request's context processors: the page has run them."""
    if not players:
        return SafeString()
    return mark_safe(
        "".join(
            render_to_string("transcripts/_player.html", {"player": player}) for player in players
        )
    )


def _thread_context(request: HttpRequest, thread: Thread, **extra) -> dict:
    person = request.user
    read_at, following = queries.reader_state(person, thread)
    opening, posts = queries.thread_page_posts(person, thread, read_at=read_at)
    # The thread came from queries.thread_for (visible): one membership read answers the rest.
    rights = access.thread_rights(person, thread)
    is_admin = rights.is_admin
    shown = _shown(request, thread, [opening, *posts], is_admin=is_admin)
    composer = {"body": "", "quoted_reply_id": "", "quote_text": "", "quote_author": ""}
    quote = request.GET.get("quote")
    if quote:
        composer.update(_quote_prefill(thread, posts, quote))
    composer.update(extra.pop("composer", {}))
    composer.update(_moment_prefill(shown, composer))
    controls = _reaction_controls(request, thread)
    return {
        "workspace": thread.space.workspace,
        "space": thread.space,
        "thread": thread,
        "opening": opening,
        "opening_html": _posts_html(controls, thread, shown[:1]),
        "posts": shown[1:],
        "posts_html": _posts_html(controls, thread, shown[1:]),
        "last_reply_id": max([p.reply.pk for p in posts], default=0),
        "can_edit_thread": thread.author_id == person.pk,
        "can_delete_thread": thread.author_id == person.pk or is_admin,
        "can_resolve": rights.can_resolve,
        "can_post": rights.can_post,
        # "Ask to respond" is offered on one's own posts: its menu is sent only if there are some.
        "asks_offered": any(row.get("own") for row in shown),
        "may_delete_any": is_admin,
        "following": following,
        "sidebar_can_create": rights.can_create_space,
        **controls,
        "composer": composer,
        "errors": {},
        "outcome_draft": "",
        **extra,
    }


def _moment_prefill(shown: list[dict], composer: dict) -> dict:
    """A reply sent back with errors keeps the moment it was made at, chip included."""
    token = composer.get("moment_recording", "")
    for row in shown:
        for player in row.get("players", ()):
            if token and player["token"] == token:
                ms = composer.get("moment_ms", "")
                plain = ms.isascii() and ms.isdigit() and len(ms) <= 12
                time = recording_queries.clock(int(ms)) if plain else ""
                return {"moment_title": player["title"], "moment_time": time}
    return {"moment_recording": "", "moment_ms": ""}


def _quote_prefill(thread: Thread, posts, quote: str) -> dict:
    """Without JavaScript the "Quote" link quotes the whole post (its opening, if long)."""
    if quote == "post":
        return {
            "quoted_reply_id": "",
            "quote_text": plain_text(thread.body_html)[:QUOTE_PREFILL_CHARS],
            "quote_author": thread.author.name if thread.author else "",
        }
    for post in posts:
        if str(post.reply.pk) == quote and post.reply.deleted_at is None:
            return {
                "quoted_reply_id": str(post.reply.pk),
                "quote_text": plain_text(post.reply.body_html)[:QUOTE_PREFILL_CHARS],
                "quote_author": post.reply.author_name or "",
            }
    return {}


@login_required
@require_GET
def thread_page(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = queries.thread_for_reader(request.user, thread_id)
    context = _thread_context(request, thread)
    if is_page_view(request):
        actions.mark_thread_read(request.user, thread, found_visible=True)
    return render(request, "threads/thread.html", context)


@login_required
@require_GET
def post_actions(request: HttpRequest, thread_id: int, reply_id: int | None = None) -> HttpResponse:
    """One post and everything a person may do with it, as a page of its own: where each
    post's "Actions" link leads without JavaScript (with it, the thread page fills its
    once-rendered menus for the clicked post instead)."""
    thread = queries.thread_for(request.user, thread_id)
    reply = queries.reply_for(request.user, thread, reply_id) if reply_id is not None else None
    rights = access.thread_rights(request.user, thread)
    post = queries.page_post(request.user, thread, reply)
    shown = _shown(request, thread, [post], is_admin=rights.is_admin)
    controls = _reaction_controls(request, thread)
    return render(
        request,
        "threads/post_actions.html",
        {
            "workspace": thread.space.workspace,
            "space": thread.space,
            "thread": thread,
            "post": shown[0],
            "posts_html": _posts_html(controls, thread, shown, actions_page=True),
            # The row the React menu fills, where the post shows none yet.
            "reactions_row": ""
            if post.reactions
            else reactions_html(
                post.key,
                [],
                csrf_input=controls["csrf_input"],
                react_url=controls["react_url"],
            ),
            "can_post": rights.can_post,
            "sidebar_can_create": rights.can_create_space,
            **controls,
        },
    )


@login_required
@require_POST
def reply_post(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = queries.thread_for(request.user, thread_id)
    typed = {
        key: request.POST.get(key, "")
        for key in ("body", "quoted_reply_id", "quote_text", "moment_recording", "moment_ms")
    }
    uploaded: list[Attachment] = []
    try:
        with transaction.atomic():
            uploaded = post_composer.upload_files(request, thread.space)
            reply = actions.post_reply(
                request.user,
                thread,
                body=typed["body"],
                quoted_reply_id=typed["quoted_reply_id"] or None,
                quote_text=typed["quote_text"],
                attachment_tokens=[a.token for a in uploaded],
                mark_read=True,
                # A player's "Comment at" button fills these: the reply is made at a moment.
                moment_recording=typed["moment_recording"],
                moment_ms=typed["moment_ms"],
                **post_composer.recording_fields(request),
                hold_delivery=post_composer.holds_delivery(request),
            )
            inbox_composer.ask_from_composer(request, thread.pk, reply.pk)
    except ValidationError as error:
        post_composer.discard_files(uploaded)
        context = _thread_context(request, thread, composer=typed, errors=form_errors(error))
        return render(request, "threads/thread.html", context, status=400)
    if post_composer.holds_delivery(request):
        messages.success(request, inbox_composer.held_delivery_notice(request.user, thread))
    return redirect(thread_url(thread, f"reply-{reply.pk}"))


@login_required
@require_GET
def thread_updates(request: HttpRequest, thread_id: int) -> HttpResponse:
    """Replies newer than `after`, and a fresh poller that continues from the last of them."""
    thread = queries.thread_for(request.user, thread_id)
    after = request.GET.get("after", "0")
    if not (after.isascii() and after.isdigit()):  # int() would also take "٣" or "1_0"
        return HttpResponse(
            "“after” must be a reply number.", status=422, content_type="text/plain"
        )
    _opening, posts = queries.thread_page_posts(
        request.user, thread, after_id=int(after), include_opening=False
    )
    if posts and is_page_view(request):
        actions.mark_thread_read(request.user, thread, found_visible=True)
    # The thread came from queries.thread_for (visible): one membership read answers the rest.
    rights = access.thread_rights(request.user, thread)
    shown = _shown(request, thread, posts, is_admin=rights.is_admin)
    controls = _reaction_controls(request, thread)
    return render(
        request,
        "threads/_updates.html",
        {
            "thread": thread,
            "posts": shown,
            "posts_html": _posts_html(controls, thread, shown),
            "last_reply_id": max([p.reply.pk for p in posts], default=after),
            **controls,
            "can_post": rights.can_post,
        },
    )


@login_required
@require_POST
def react(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = queries.thread_for(request.user, thread_id)
    reply_id = request.POST.get("reply_id", "")
    reply = None
    if reply_id:
        if not reply_id.isdigit():
            raise Http404("No such reply.")
        reply = queries.reply_for(request.user, thread, int(reply_id))
    try:
        actions.toggle_reaction(request.user, thread, reply, request.POST.get("emoji", ""))
    except ValidationError as error:
        return HttpResponse(" ".join(error.messages), status=400, content_type="text/plain")
    if is_htmx(request):
        post = queries.Post(reply, queries.reactions_for(request.user, thread, reply), [])
        react_url = reverse("threads:react", kwargs={"thread_id": thread.pk})
        return HttpResponse(
            reactions_html(
                post.key, post.reactions, csrf_input=csrf_input(request), react_url=react_url
            )
        )
    return redirect(thread_url(thread, f"reply-{reply.pk}" if reply else "post"))


@login_required
@require_POST
def resolve(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = queries.thread_for(request.user, thread_id)
    outcome = request.POST.get("outcome", "")
    try:
        actions.resolve_thread(request.user, thread, outcome)
    except ValidationError as error:
        if is_htmx(request):  # the form comes back open, its error beside the field
            context = {
                "thread": thread,
                "resolve_errors": form_errors(error),
                "outcome_draft": outcome,
            }
            return render(request, "threads/_resolve_box.html", context, status=422)
        context = _thread_context(
            request, thread, resolve_errors=form_errors(error), outcome_draft=outcome
        )
        return render(request, "threads/thread.html", context, status=422)
    messages.success(request, "Thread resolved. The outcome is in the decision log.")
    if is_htmx(request):
        return HttpResponse(headers={"HX-Redirect": thread_url(thread)})
    return redirect(thread_url(thread))
