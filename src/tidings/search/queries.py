"""Search: one interface over two backends (SQLite FTS5, PostgreSQL full text).

Visibility comes from the access rules (threads.access): documents are filtered to the spaces
the person may see before ranking or counting, so private spaces never leak through results or
totals.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from tidings.accounts.models import User
from tidings.recordings.queries import clock
from tidings.search.index import plain_text
from tidings.search.models import SearchDocument
from tidings.threads.access import visible_spaces, visible_workspaces
from tidings.transcripts.queries import first_mentions
from tidings.workspaces.models import Membership

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tidings.accounts.models import User
    from tidings.workspaces.models import Workspace

SNIPPET_WORDS = 24
# Matches ranked per search: all of them for rarer words, the newest ones for common words.
RANK_WINDOW = 1000
# As in the migration that made search_fts, so a page's snippets match as the index does.
SQLITE_TOKENIZER = "porter unicode61 remove_diacritics 2"
# A "phrase" in double quotes, or a run of other characters.
_QUERY_PART = re.compile(r'"([^"]*)"?|([^\s"]+)')
# Words as the indexes see them: letters and digits only, so no query syntax survives.
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SearchQuery:
    """What the person typed, reduced to words: phrases, plain words, and a last-word prefix."""

    phrases: tuple[tuple[str, ...], ...] = ()
    words: tuple[str, ...] = ()
    prefix: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.phrases or self.words or self.prefix)

    def fts5(self) -> str:
        """An FTS5 MATCH expression in which every word is quoted (so NEAR, AND, * are words)."""
        parts = ['"' + " ".join(phrase) + '"' for phrase in self.phrases]
        parts += [f'"{word}"' for word in self.words]
        if self.prefix:
            parts.append(f'"{self.prefix}"*')
        return " ".join(parts)

    def terms(self) -> list[str]:
        """Every word asked for, lower case, the prefix last."""
        words = [word for phrase in self.phrases for word in phrase] + list(self.words)
        return [word.lower() for word in [*words, self.prefix] if word]

    def websearch(self) -> str:
        """Text for websearch_to_tsquery holding only words and quoted phrases."""
        parts = ['"' + " ".join(phrase) + '"' for phrase in self.phrases]
        return " ".join(parts + list(self.words))


def parse_query(text: str) -> SearchQuery:
    """Split typed text into phrases and words; a last word still being typed matches as prefix."""
    text = (text or "")[:500]
    phrases: list[tuple[str, ...]] = []
    words: list[str] = []
    last_is_open_word = False
    for match in _QUERY_PART.finditer(text):
        quoted, bare = match.groups()
        tokens = tuple(_WORD.findall(quoted if quoted is not None else bare))
        last_is_open_word = False
        if not tokens:
            continue
        if quoted is not None and len(tokens) > 1:
            phrases.append(tokens)
        elif quoted is not None:
            words.extend(tokens)
        else:
            words.extend(tokens)
            last_is_open_word = match.end() == len(text)
    prefix = ""
    if last_is_open_word and words:
        prefix = words.pop()
    return SearchQuery(tuple(phrases), tuple(words), prefix)


@dataclass(frozen=True)
class SearchHit:
    thread_id: int
    reply_id: int | None
    title: str
    space_name: str
    author_name: str
    created_at: dt.datetime
    snippet: SafeString
    kind: str
    kind_label: str
    resolved: bool
    # Words spoken in a recording: which one, and the moment the first of them is said.
    recording_token: str = ""
    moment_ms: int | None = None
    query: str = ""
    # A resolved thread's outcome, shown with the hit on its opening post.
    outcome: str = ""

    @property
    def spoken(self) -> bool:
        return bool(self.recording_token)

    @property
    def moment(self) -> str:
        return clock(self.moment_ms or 0)

    @property
    def url(self) -> str:
        base = reverse("threads:thread", args=[self.thread_id])
        if self.recording_token:
            # Opens the recording at the moment, with the words marked in its transcript.
            seconds = (self.moment_ms or 0) // 1000
            found = urlencode({"t": seconds, "rec": self.recording_token, "q": self.query})
            return f"{base}?{found}#rec-{self.recording_token}"
        return f"{base}#reply-{self.reply_id}" if self.reply_id else base


@dataclass
class SearchResults:
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    # True when there were more than RANK_WINDOW matches: `total` then reads "1,000+".
    total_is_capped: bool = False
    limit: int = 20
    offset: int = 0

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.hits) < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


@dataclass(frozen=True)
class DocumentFilter:
    """Which documents a search looks at: the spaces the person may see, narrowed by filters.

    The index itself is the truth about what exists: the threads app removes deleted threads
    and replies from it in the same transaction, so no join to threads or replies is needed.
    """

    space_ids: tuple[int, ...]
    author_id: int | None = None
    kind: str | None = None
    created_from: dt.datetime | None = None
    created_before: dt.datetime | None = None
    resolved: bool | None = None

    def sql(self, alias: str) -> tuple[str, list]:
        """A WHERE fragment over the document table under `alias`, and its parameters."""
        marks = ", ".join(["%s"] * len(self.space_ids))
        clauses, params = [f"{alias}.space_id IN ({marks})"], list(self.space_ids)
        adapt = connection.ops.adapt_datetimefield_value
        for column, op, value in [
            ("author_id", "=", self.author_id),
            ("kind", "=", self.kind),
            ("created_at", ">=", adapt(self.created_from) if self.created_from else None),
            ("created_at", "<", adapt(self.created_before) if self.created_before else None),
            ("resolved", "=", self.resolved),
        ]:
            if value is not None:
                clauses.append(f"{alias}.{column} {op} %s")
                params.append(value)
        return " AND ".join(clauses), params


def document_filter(
    person: User | None,
    *,
    workspace: Workspace | None = None,
    space_id: int | None = None,
    author_id: int | None = None,
    kind: str | None = None,
    date_from: dt.date | dt.datetime | None = None,
    date_to: dt.date | dt.datetime | None = None,
    resolved: bool | None = None,
    visible_space_ids: Iterable[int] | None = None,
) -> DocumentFilter | None:
    """The filter for what the person may see; None when that is nothing at all.

    Visible spaces are resolved first (a short list) so the search query stays a plain join
    of the full-text index to its documents, which databases plan well. `visible_space_ids`,
    when given, must be exactly the ids of `visible_spaces(person, workspace)`, read earlier in
    the same request."""
    if visible_space_ids is None:
        space_ids = tuple(visible_spaces(person, workspace).values_list("pk", flat=True))
    else:
        space_ids = tuple(visible_space_ids)
    if space_id is not None:
        space_ids = tuple(pk for pk in space_ids if pk == space_id)
    if not space_ids:
        return None
    return DocumentFilter(
        space_ids=space_ids,
        author_id=author_id,
        kind=kind or None,
        created_from=_day_start(date_from) if date_from is not None else None,
        created_before=_day_after(date_to) if date_to is not None else None,
        resolved=resolved,
    )


def author_choices(
    person: User | None, visible_space_ids: Iterable[int] | None = None
) -> QuerySet[User]:
    """People who wrote something the person can find, for the author filter.

    `visible_space_ids`, when given, must be exactly the ids of `visible_spaces(person)` (a
    page that has already read them passes them instead of reading them again)."""
    if visible_space_ids is None:
        visible_space_ids = visible_spaces(person).values_list("pk", flat=True)
    space_ids = tuple(visible_space_ids)
    if not space_ids:
        return User.objects.none()
    # One indexed probe per person of the person's workspaces, not a scan of every document.
    wrote_visible = SearchDocument.objects.filter(author_id=OuterRef("pk"), space_id__in=space_ids)
    colleagues = Membership.objects.filter(workspace__in=visible_workspaces(person))
    return User.objects.filter(
        Exists(wrote_visible), pk__in=colleagues.values("person_id")
    ).order_by("name")


def _day_start(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time.min, tzinfo=timezone.get_current_timezone())


def _day_after(value: dt.date | dt.datetime) -> dt.datetime:
    """The first moment after the day (or after the exact time) given as the last one."""
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(microseconds=1)
    return _day_start(value + dt.timedelta(days=1))


def search(
    person: User | None,
    text: str,
    *,
    workspace: Workspace | None = None,
    space_id: int | None = None,
    author_id: int | None = None,
    kind: str | None = None,
    date_from: dt.date | dt.datetime | None = None,
    date_to: dt.date | dt.datetime | None = None,
    resolved: bool | None = None,
    limit: int = 20,
    offset: int = 0,
    visible_space_ids: Iterable[int] | None = None,
) -> SearchResults:
    """Visible documents matching the text, best first, with highlighted snippets.

    Ranking looks at the newest RANK_WINDOW matches: every match when there are fewer (a rare
    word is ranked over the whole history), the most recent ones for a word found everywhere,
    whose total is then shown as "1,000+". This keeps a search on a million posts as fast as on
    a thousand. `visible_space_ids`: as for `document_filter`."""
    limit = max(1, min(int(limit), 100))
    offset = max(0, int(offset))
    results = SearchResults(limit=limit, offset=offset)
    query = parse_query(text)
    if query.is_empty:
        return results
    found = document_filter(
        person, workspace=workspace, space_id=space_id, author_id=author_id, kind=kind,
        date_from=date_from, date_to=date_to, resolved=resolved,
        visible_space_ids=visible_space_ids,
    )  # fmt: skip
    if found is None:  # nothing visible at all (signed out, or no spaces)
        return results
    backend = _Postgres(query) if connection.vendor == "postgresql" else _Sqlite(query)
    # Newest matches first, one more than the window to know whether there are more.
    candidates = backend.candidates(found, RANK_WINDOW + 1)
    results.total = min(len(candidates), RANK_WINDOW)
    results.total_is_capped = len(candidates) > RANK_WINDOW
    ranked = sorted(candidates[:RANK_WINDOW], key=backend.rank_key)
    page_ids = [doc_id for doc_id, _rank in ranked[offset : offset + limit]]
    if not page_ids:
        return results
    # Random per search, so text in a document can never pose as a highlight marker.
    start, stop = f"hl{secrets.token_hex(8)}s", f"hl{secrets.token_hex(8)}e"
    snippets = backend.snippets(page_ids, start, stop)
    found_docs = SearchDocument.objects.filter(pk__in=page_ids).select_related(
        "space", "author", "thread", "recording"
    )
    documents = {doc.pk: doc for doc in found_docs.only(*HIT_FIELDS)}
    moments = first_mentions(
        [doc.recording_id for doc in documents.values() if doc.recording_id],
        query.terms(),
    )
    for doc_id in page_ids:
        doc = documents.get(doc_id)
        if doc is None:
            continue
        results.hits.append(
            SearchHit(
                thread_id=doc.thread_id,
                reply_id=doc.reply_id,
                title=doc.thread.title,
                space_name=doc.space.name,
                author_name=doc.author.name if doc.author else "Former member",
                created_at=doc.created_at,
                snippet=_highlight(snippets.get(doc_id) or "", start, stop),
                kind=doc.kind,
                kind_label=doc.get_kind_display(),
                resolved=doc.resolved,
                recording_token=doc.recording.token if doc.recording_id else "",
                moment_ms=moments.get(doc.recording_id),
                query=" ".join(text.split())[:200] if doc.recording_id else "",
                outcome=_outcome(doc),
            )
        )
    return results


HIT_FIELDS = (
    "thread_id", "reply_id", "recording_id", "created_at", "kind", "resolved",
    "thread__title", "thread__outcome", "space__name", "author__name", "recording__token",
)  # fmt: skip
OUTCOME_CHARS = 240


def _outcome(doc: SearchDocument) -> str:
    """The outcome of a resolved thread, on the hit of its opening post only."""
    if not doc.resolved or doc.reply_id or doc.recording_id or not doc.thread.outcome:
        return ""
    return Truncator(" ".join(plain_text(doc.thread.outcome).split())).chars(OUTCOME_CHARS)


def _highlight(raw: str, start: str, stop: str) -> SafeString:
    """Escape everything, then turn the markers the database put around matches into <mark>."""
    escaped = html.escape(raw)
    return mark_safe(escaped.replace(start, "<mark>").replace(stop, "</mark>"))


class _Sqlite:
    """FTS5: the index is walked newest first (its rowid is the document id) and joined to
    the documents by primary key; bm25 weighs a title match 8 times a body match."""

    def __init__(self, query: SearchQuery) -> None:
        self.match = query.fts5()

    @staticmethod
    def rank_key(row: tuple[int, float]) -> tuple:
        return (row[1], -row[0])  # bm25: lower is better

    def candidates(self, found: DocumentFilter, count: int) -> list[tuple[int, float]]:
        where, params = found.sql("d")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT f.rowid, bm25(search_fts, 8.0, 1.0) FROM search_fts f"
                " JOIN search_searchdocument d ON d.id = f.rowid"
                f" WHERE search_fts MATCH %s AND {where} ORDER BY f.rowid DESC LIMIT %s",
                [self.match, *params, count],
            )
            return cursor.fetchall()

    def snippets(self, ids: list[int], start: str, stop: str) -> dict[int, str]:
        """Snippets come from a throwaway index of just the page's documents: on the big index
        a prefix word is expanded over every document once per snippet (8 ms each on a
        million posts); on twenty documents it costs nothing, and the highlighting is the
        same because the tokenizer is."""
        marks = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_page"
                f" USING fts5(title, body, tokenize='{SQLITE_TOKENIZER}')"
            )
            cursor.execute("DELETE FROM temp.search_page")
            cursor.execute(
                "INSERT INTO temp.search_page(rowid, title, body)"
                f" SELECT id, title, body FROM search_searchdocument WHERE id IN ({marks})",
                ids,
            )
            cursor.execute(
                "SELECT rowid, snippet(search_page, 1, %s, %s, '…', %s) FROM temp.search_page"
                " WHERE search_page MATCH %s",
                [start, stop, SNIPPET_WORDS, self.match],
            )
            return dict(cursor.fetchall())


class _Postgres:
    """A generated tsvector column with a GIN index.

    The planner cannot tell a common word from a rare one when the last word is a prefix, and
    each guess is slow the other way round: the GIN index for a word in a third of all posts
    reads 300,000 rows, a newest-first walk for a rare word reads the whole table. So the
    newest posts are walked in growing stretches, and once the matches found show the word is
    rare, the rest comes from the GIN index, which is then small."""

    FIRST_STRETCH = 5_000
    # Switch to the index when it should return fewer rows than this.
    INDEX_ROWS = 20_000

    def __init__(self, query: SearchQuery) -> None:
        # websearch_to_tsquery never raises on odd input; the prefix is letters and digits only.
        parts, self.params = [], []
        if query.phrases or query.words:
            parts.append("websearch_to_tsquery('english', %s)")
            self.params.append(query.websearch())
        if query.prefix:
            parts.append("to_tsquery('english', %s)")
            self.params.append(f"{query.prefix}:*")
        self.tsquery = f"({' && '.join(parts)})"

    @staticmethod
    def rank_key(row: tuple[int, float]) -> tuple:
        return (-row[1], -row[0])  # ts_rank: higher is better

    def candidates(self, found: DocumentFilter, count: int) -> list[tuple[int, float]]:
        where, params = found.sql("d")
        select = f"SELECT d.id, ts_rank(d.search_vector, {self.tsquery})"
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM search_searchdocument")
            top = below = cursor.fetchone()[0] + 1  # ids still to look at are below `below`
            rows: list[tuple[int, float]] = []
            stretch = self.FIRST_STRETCH
            while below > 1 and len(rows) < count:
                walked = min(stretch, below - 1)
                # "IS TRUE" keeps the GIN index out: this is a walk of the primary key.
                cursor.execute(
                    f"{select} FROM search_searchdocument d"
                    f" WHERE d.id < %s AND d.id >= %s AND (d.search_vector @@ {self.tsquery})"
                    f" IS TRUE AND {where} ORDER BY d.id DESC LIMIT %s",
                    [*self.params, below, below - walked, *self.params, *params, count - len(rows)],
                )
                rows += cursor.fetchall()
                below -= walked
                # Matches left for the GIN index, estimated from the stretch walked so far.
                left = len(rows) * below / (top - below)
                if below > 1 and len(rows) < count and left < self.INDEX_ROWS:
                    cursor.execute(
                        f"{select} FROM search_searchdocument d"
                        f" WHERE d.search_vector @@ {self.tsquery} AND d.id < %s AND {where}",
                        [*self.params, *self.params, below, *params],
                    )
                    older = sorted(cursor.fetchall(), key=lambda row: -row[0])
                    return rows + older[: count - len(rows)]
                stretch *= 4
            return rows

    def snippets(self, ids: list[int], start: str, stop: str) -> dict[int, str]:
        options = (
            f"StartSel={start}, StopSel={stop}, MaxWords={SNIPPET_WORDS}, MinWords=8,"
            ' MaxFragments=2, FragmentDelimiter=" … "'
        )
        marks = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT d.id, ts_headline('english', d.body, {self.tsquery}, %s)"
                f" FROM search_searchdocument d WHERE d.id IN ({marks})",
                [*self.params, options, *ids],
            )
            return dict(cursor.fetchall())
