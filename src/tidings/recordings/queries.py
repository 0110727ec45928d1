"""Reads of recordings, already filtered by what a person may see (recordings.access)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, F, Max, Q, QuerySet, Value, When, Window
from django.db.models.functions import Coalesce, Lower, NullIf, RowNumber, Substr
from django.http import Http404
from django.utils import timezone

from tidings.recordings import access
from tidings.recordings.media import media_url
from tidings.recordings.models import (
    Collection,
    CollectionItem,
    Moment,
    Recording,
    RecordingView,
    Source,
    State,
)
from tidings.threads.markdown import plain_text

if TYPE_CHECKING:
    from tidings.accounts.models import User
    from tidings.threads.models import Space, Thread
    from tidings.workspaces.models import Workspace

# --- Finding recordings.

TOKEN_MAX = 64


def recording_for(person: User | None, token: str) -> Recording:
    """A recording the person may see, by token: posted ones follow their thread's
    visibility, unposted ones only their owner. The same 404 for missing and hidden."""
    recording = (
        access.visible_recordings(person)
        .select_related("space", "thread", "owner", "transcript")
        .filter(token=str(token)[:TOKEN_MAX])
        .first()
    )
    if recording is None:
        raise Http404("No such recording.")
    return recording


def visible_recording_list(person: User | None) -> QuerySet[Recording]:
    """Every recording the person may see, newest first (the API's list)."""
    return access.visible_recordings(person).select_related("owner").order_by("-created_at", "-pk")


# --- Recordings named outside their thread: inbox rows, thread lists, emails.

# Enough of a transcript to quote the start of what is said.
SAID_CHARS = 400
# Transcripts.TranscriptState.READY: this app sits below transcripts and cannot import it.
TRANSCRIPT_READY = "ready"
# What a list row or an email reads of a recording (its waveform and file names stay unread).
_GLANCE_FIELDS = (
    "pk",
    "token",
    "thread_id",
    "reply_id",
    "space_id",
    "owner__name",
    "source",
    "state",
    "duration_ms",
    "has_video",
    # media_url reads every stored file's name to find the poster's.
    "poster",
    "playable",
    "rendition",
    "original",
    "audio_track",
    "posted_at",
    "processed_at",
    "updated_at",
)


def posted_recordings() -> QuerySet[Recording]:
    """Recordings posted and still there, with their post (the posted half of
    `access.visible_recordings`). For callers that already hold threads a reader may see, such
    as a digest read for many people at once; everyone else starts from `visible_recordings`."""
    return Recording.objects.filter(posted_at__isnull=False, deleted_at=None).filter(
        Q(reply=None) | Q(reply__deleted_at=None)
    )


def visible_in_threads(person: User | None, thread_ids: Iterable[int]) -> QuerySet[Recording]:
    """The posted recordings the person may see in these threads: the posted half of
    `access.visible_recordings`, with the thread rule checked for these threads alone (a few
    primary-key looks rather than a subquery that lists every thread the person may see)."""
    threads = access.visible_threads(person).filter(pk__in=list(thread_ids)).values("pk")
    return posted_recordings().filter(thread__in=threads)


def glances(recordings: QuerySet[Recording]) -> QuerySet[Recording]:
    """What a list row or an email shows of each recording, read in the same query: its
    owner's name and `said`, the start of its transcript once it is ready ("" before, or
    when nothing was said). `length_label` and `label` (below) word the rest."""
    said = Case(
        When(
            transcript__state=TRANSCRIPT_READY,
            then=Substr("transcript__text", 1, SAID_CHARS),
        ),
        default=Value(""),
    )
    return recordings.select_related("owner").only(*_GLANCE_FIELDS).annotate(said=said)


def length_label(recording: Recording) -> str:
    """ "2:14", or "" while the length is not known yet (before processing)."""
    return clock(recording.duration_ms) if recording.duration_ms else ""


def label(recording: Recording) -> str:
    """ "Recording, 2:14" or "Audio recording, 0:42": how a list or an email names it."""
    kind = "Audio recording" if recording.source == Source.AUDIO else "Recording"
    length = length_label(recording)
    return f"{kind}, {length}" if length else kind


def thumbnail(person: User | None, recording: Recording) -> dict:
    """What recordings/_rec_thumb.html shows in a list row: the poster through a link signed
    for this person (checked again on every fetch), else an icon, and the length on top."""
    return {
        "recording": recording,
        "poster_url": media_url(recording, "poster", person) if recording.poster else "",
        "duration": length_label(recording),
    }


def clock(ms: int) -> str:
    """A length or a position as people read it on a player: 0:42, 12:05, 1:02:03."""
    seconds = max(0, int(ms)) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@dataclass
class PostRecordings:
    """The first recording of some posts: by reply id, and by thread id for opening posts."""

    by_reply: dict[int, Recording] = field(default_factory=dict)
    by_opening: dict[int, Recording] = field(default_factory=dict)

    def of(self, thread_id: int, reply_id: int | None) -> Recording | None:
        if reply_id is None:
            return self.by_opening.get(thread_id)
        return self.by_reply.get(reply_id)


def recordings_of_posts(
    recordings: QuerySet[Recording],
    *,
    reply_ids: Iterable[int] = (),
    opening_thread_ids: Iterable[int] = (),
) -> PostRecordings:
    """The first recording (by when it was posted) of each of these replies and opening
    posts, among `recordings` (a person's visible ones, or `posted_recordings()`), with what
    `glances` reads: one query however many posts."""
    reply_ids, opening_thread_ids = list(reply_ids), list(opening_thread_ids)
    found = PostRecordings()
    if not reply_ids and not opening_thread_ids:
        return found
    rows = glances(
        recordings.filter(posted_at__isnull=False).filter(
            Q(reply_id__in=reply_ids) | Q(reply=None, thread_id__in=opening_thread_ids)
        )
    ).order_by("-posted_at", "-pk")  # the earliest is written last and wins
    for recording in rows:
        if recording.reply_id is None:
            found.by_opening[recording.thread_id] = recording
        else:
            found.by_reply[recording.reply_id] = recording
    return found


def thread_list_recordings(person: User | None, thread_ids: Iterable[int]) -> dict[int, Recording]:
    """For a list of threads: the recording each thread row shows (its opening post's, else
    its newest recorded reply's), by thread id, each with `thread_recordings`, how many
    recordings the person may see in that thread. One query for the whole list."""
    thread_ids = list(thread_ids)
    if not thread_ids:
        return {}
    per_thread = {"partition_by": F("thread_id")}
    rows = glances(visible_in_threads(person, thread_ids)).annotate(
        place=Window(
            RowNumber(),
            order_by=[F("reply_id").desc(nulls_first=True), F("pk").asc()],
            **per_thread,
        ),
        thread_recordings=Window(Count("pk"), **per_thread),
    )
    return {recording.thread_id: recording for recording in rows.filter(place=1)}


# --- Player, moments and viewers.

EXCERPT_CHARS = 80


@dataclass(frozen=True)
class MomentRow:
    """A reply made at a moment of a recording, as its player and its reply show it."""

    reply_id: int
    recording_id: int
    recording_token: str
    recording_title: str
    position_ms: int
    author_name: str
    excerpt: str


@dataclass
class ThreadMedia:
    """The recordings shown with some posts of a thread, and what their players need."""

    # Recordings by the reply they were posted with; None for the opening post.
    recordings: dict[int | None, list[Recording]] = field(default_factory=dict)
    # Timeline markers by recording id, in time order.
    markers: dict[int, list[MomentRow]] = field(default_factory=dict)
    # The moment each reply was made at, by reply id.
    moments: dict[int, MomentRow] = field(default_factory=dict)
    # How many people watched, only for recordings whose viewers the person may see.
    seen_by: dict[int, int] = field(default_factory=dict)


def _excerpt(body_html: str) -> str:
    text = plain_text(body_html)
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


def thread_media(
    person: User, thread: Thread, reply_ids: list[int], *, include_opening: bool, is_admin: bool
) -> ThreadMedia:
    """Posted recordings of the opening post (when asked) and of these replies of a thread the
    person can see (the caller found it visible), with every moment of them in the thread and
    the moments these replies were made at. Three queries whatever the number of posts.
    `is_admin`: the person is an admin of the thread's workspace (from `access.thread_rights`)."""
    media = ThreadMedia()
    # A thread holds few recordings and moments: all of them are read and those of other
    # posts dropped here, rather than sending the page's hundreds of reply ids to the database.
    wanted = set(reply_ids)
    if include_opening:
        wanted.add(None)
    # Moments are made only at posted recordings, so these are all the watchable ones. The
    # thread is visible, so its posted recordings are: the rule of `visible_recordings` without
    # its subqueries of every visible thread, which cost more to build than to run.
    watchable = list(
        posted_recordings()
        .filter(thread=thread)
        .select_related("transcript")
        # A player needs its transcript's state, not its words (long for a long recording).
        .defer("transcript__text", "transcript__summary")
        .order_by("posted_at", "pk")
    )
    recordings = [recording for recording in watchable if recording.reply_id in wanted]
    for recording in recordings:
        media.recordings.setdefault(recording.reply_id, []).append(recording)
    ids = {r.pk for r in recordings}
    rows = (
        Moment.objects.filter(reply__thread=thread, reply__deleted_at=None)
        .filter(recording_id__in=[r.pk for r in watchable])
        .order_by("position_ms", "reply_id")
        .values_list(
            "reply_id",
            "recording_id",
            "recording__token",
            "recording__title",
            "position_ms",
            "reply__author__name",
            "reply__body_html",
        )
    )
    for reply_id, recording_id, token, title, position, author, body_html in rows:
        if recording_id not in ids and reply_id not in wanted:
            continue
        moment = MomentRow(
            reply_id, recording_id, token, title, position, author or "", _excerpt(body_html)
        )
        media.markers.setdefault(recording_id, []).append(moment)
        media.moments[reply_id] = moment
    watched = [
        r.pk for r in recordings if access.can_see_recording_viewers(person, r, is_admin=is_admin)
    ]
    if watched:
        counts = (
            RecordingView.objects.filter(recording_id__in=watched)
            .exclude(viewer_id=F("recording__owner_id"))
            .values_list("recording_id")
            .annotate(count=Count("pk"))
        )
        media.seen_by = dict.fromkeys(watched, 0) | dict(counts)
    return media


def recording_media(person: User, recording: Recording) -> ThreadMedia:
    """As `thread_media`, for one recording the person can see (its player on its own)."""
    if recording.thread_id is None or not recording.is_posted:
        return ThreadMedia(recordings={recording.reply_id: [recording]})
    is_admin = access.is_workspace_admin(person, recording.space.workspace_id)
    media = thread_media(
        person,
        recording.thread,
        [recording.reply_id] if recording.reply_id else [],
        include_opening=recording.reply_id is None,
        is_admin=is_admin,
    )
    media.recordings = {recording.reply_id: [recording]}
    return media


def recording_viewers(person: User, recording: Recording) -> list[RecordingView]:
    """Who watched a recording and how much, most recent first, for its author and the
    admins of its workspace (PermissionDenied for everyone else who can see it). The percent
    is worked out against the recording's length now (it may have been unknown when they
    watched)."""
    if not access.can_see_recording_viewers(person, recording):
        raise PermissionDenied("Only the author and workspace admins see who watched.")
    views = list(
        recording.views.exclude(viewer_id=recording.owner_id)
        .select_related("viewer")
        .order_by("-last_viewed_at", "-pk")
    )
    length = recording.duration_ms
    if length:
        for view in views:
            watched = sum(min(end, length) - start for start, end in view.watched if start < length)
            view.percent = min(100, round(watched * 100 / length))
    return views


# --- Library and collections.

LIBRARY_TABS = ("mine", "shared")
LIBRARY_SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "title": "Title A–Z",
    "longest": "Longest first",
    "most_viewed": "Most viewed",
}
SEARCH_WORDS_MAX = 8
# A recording whose tab is alive sends a chunk every few seconds: one silent for this long
# lost its tab (closed, crashed, offline) and is offered in the library to post or discard.
UNFINISHED_AFTER = timedelta(minutes=2)


def _library_rows(recordings: QuerySet[Recording]) -> QuerySet[Recording]:
    """What a library card shows: the title it goes by (its own, else its thread's) and how
    many people other than its author watched it."""
    own_views = Count("views", filter=Q(views__viewer_id=F("owner_id")))
    return recordings.select_related("owner", "space", "thread").annotate(
        display_title=Coalesce(NullIf("title", Value("")), "thread__title"),
        view_count=Count("views") - own_views,
    )


def library_recordings(
    person: User | None, workspace: Workspace, *, tab: str = "mine", q: str = "", sort: str = ""
) -> QuerySet[Recording]:
    """Posted recordings of the workspace the person may see: their own ("mine") or other
    people's ("shared"), matching every word of `q` in the recording's or its thread's
    title or in what is said in it, in one of LIBRARY_SORTS (unknown: newest)."""
    recordings = access.visible_recordings(person).filter(
        space__workspace=workspace, posted_at__isnull=False
    )
    if tab == "shared":
        recordings = recordings.exclude(owner=person)
    else:
        recordings = recordings.filter(owner=person)
    for word in q.split()[:SEARCH_WORDS_MAX]:
        recordings = recordings.filter(
            Q(title__icontains=word)
            | Q(thread__title__icontains=word)
            | Q(transcript__text__icontains=word)
        )
    recordings = _library_rows(recordings)
    order = {
        "oldest": ["created_at", "pk"],
        "title": [Lower("display_title"), "-created_at", "-pk"],
        "longest": [F("duration_ms").desc(nulls_last=True), "-created_at", "-pk"],
        "most_viewed": ["-view_count", "-created_at", "-pk"],
    }.get(sort, ["-created_at", "-pk"])
    return recordings.order_by(*order)


def unfinished_recordings(person: User | None, workspace: Workspace) -> QuerySet[Recording]:
    """The person's recordings in this workspace that stopped before being posted (their tab
    died), with something saved: newest first, each with `saved_chunks`."""
    cutoff = timezone.now() - UNFINISHED_AFTER
    return (
        access.visible_recordings(person)
        .filter(owner=person, posted_at=None, state=State.RECORDING, space__workspace=workspace)
        .filter(held_for_later=False)
        .annotate(last_chunk_at=Max("chunks__received_at"), saved_chunks=Count("chunks"))
        .filter(last_chunk_at__lt=cutoff)
        .select_related("space", "thread")
        .order_by("-created_at", "-pk")
    )


def _with_item_counts(person: User | None, collections: QuerySet[Collection]):
    """Each collection with `item_count`: only the recordings this person may see count."""
    visible = access.visible_recordings(person).filter(posted_at__isnull=False).values("pk")
    return collections.annotate(
        item_count=Count("items", filter=Q(items__recording__in=visible))
    ).select_related("owner", "shared_space")


def own_collections(person: User | None, workspace: Workspace) -> QuerySet[Collection]:
    collections = access.visible_collections(person).filter(owner=person, workspace=workspace)
    return _with_item_counts(person, collections).order_by(Lower("title"), "pk")


def shared_collections(person: User | None, workspace: Workspace) -> QuerySet[Collection]:
    """Other people's collections shared to spaces the person can see."""
    collections = (
        access.visible_collections(person).filter(workspace=workspace).exclude(owner=person)
    )
    return _with_item_counts(person, collections).order_by(Lower("title"), "pk")


def space_collections(person: User | None, space: Space) -> QuerySet[Collection]:
    """Collections shared to a space, for its page."""
    collections = access.visible_collections(person).filter(shared_space=space)
    return _with_item_counts(person, collections).order_by(Lower("title"), "pk")


def collection_for(person: User | None, workspace: Workspace, collection_id: int) -> Collection:
    collection = (
        _with_item_counts(person, access.visible_collections(person))
        .filter(workspace=workspace, pk=collection_id)
        .first()
    )
    if collection is None:
        raise Http404("No such collection.")
    return collection


def collection_recordings(person: User | None, collection: Collection) -> list[Recording]:
    """The collection's recordings in their hand-made order, only those the person may see;
    each with `position` (0-based among them)."""
    visible = access.visible_recordings(person).filter(posted_at__isnull=False)
    items = CollectionItem.objects.filter(
        collection=collection, recording__in=visible.values("pk")
    ).order_by("position", "id")
    order = list(items.values_list("recording_id", flat=True))
    rows = _library_rows(visible.filter(pk__in=order)).in_bulk()
    recordings = [rows[pk] for pk in order if pk in rows]
    for position, recording in enumerate(recordings):
        recording.position = position
    return recordings


def share_spaces(person: User | None, workspace: Workspace) -> QuerySet[Space]:
    """Spaces a collection can be shared to: those the person can post in."""
    return access.visible_spaces(person, workspace).filter(archived_at=None).order_by("name")


def ahead_in_line(recording: Recording) -> int:
    """How many recordings posted before this one still wait to be prepared or are being
    prepared: the number its page shows while it waits (a count only, never which)."""
    if recording.posted_at is None:
        return 0
    waiting = Recording.objects.filter(state__in=[State.QUEUED, State.PROCESSING])
    return waiting.filter(posted_at__lt=recording.posted_at).count()
