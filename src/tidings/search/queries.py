"""Search: one interface over two backends (SQLite FTS5, PostgreSQL full text).

Visibility comes from workspaces.access: documents are filtered to the spaces the person may
see before ranking or counting, so private spaces never leak through results or totals.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.safestring import SafeString, mark_safe

from tidings.search.models import SearchDocument
from tidings.workspaces.access import visible_spaces

if TYPE_CHECKING:
    from tidings.accounts.models import User
    from tidings.workspaces.models import Workspace

SNIPPET_WORDS = 24
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

    @property
    def url(self) -> str:
        base = f"/t/{self.thread_id}/"
        return f"{base}#reply-{self.reply_id}" if self.reply_id else base


@dataclass
class SearchResults:
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    limit: int = 20
    offset: int = 0

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.hits) < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


def searchable_documents(
    person: User | None,
    *,
    workspace: Workspace | None = None,
    space_id: int | None = None,
    author_id: int | None = None,
    kind: str | None = None,
    date_from: dt.date | dt.datetime | None = None,
    date_to: dt.date | dt.datetime | None = None,
    resolved: bool | None = None,
) -> QuerySet[SearchDocument]:
    """Documents the person may see, narrowed by the filters."""
    docs = SearchDocument.objects.filter(
        space__in=visible_spaces(person, workspace).values("pk"), thread__deleted_at=None
    ).filter(Q(reply=None) | Q(reply__deleted_at=None))
    if space_id is not None:
        docs = docs.filter(space_id=space_id)
    if author_id is not None:
        docs = docs.filter(author_id=author_id)
    if kind:
        docs = docs.filter(kind=kind)
    if date_from is not None:
        docs = docs.filter(**_date_filter("gte", date_from))
    if date_to is not None:
        docs = docs.filter(**_date_filter("lte", date_to))
    if resolved is not None:
        docs = docs.filter(resolved=resolved)
    return docs


def author_choices(person: User | None) -> QuerySet[User]:
    """People who wrote something the person can find, for the author filter."""
    from tidings.accounts.models import User

    authors = searchable_documents(person).values("author_id")
    return User.objects.filter(pk__in=authors).order_by("name")


def _date_filter(op: str, value: dt.date | dt.datetime) -> dict:
    if isinstance(value, dt.datetime):
        return {f"created_at__{op}": value}
    return {f"created_at__date__{op}": value}


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
) -> SearchResults:
    """Visible documents matching the text, best first, with highlighted snippets."""
    limit = max(1, min(int(limit), 100))
    offset = max(0, int(offset))
    results = SearchResults(limit=limit, offset=offset)
    query = parse_query(text)
    if query.is_empty:
        return results
    docs = searchable_documents(
        person, workspace=workspace, space_id=space_id, author_id=author_id, kind=kind,
        date_from=date_from, date_to=date_to, resolved=resolved,
    )  # fmt: skip
    try:
        allowed_sql, allowed_params = docs.values("id").query.sql_with_params()
    except EmptyResultSet:  # nothing visible at all (signed out, or no spaces)
        return results
    # Random per search, so text in a document can never pose as a highlight marker.
    start, stop = f"hl{secrets.token_hex(8)}s", f"hl{secrets.token_hex(8)}e"
    if connection.vendor == "postgresql":
        total, rows = _postgres(query, allowed_sql, allowed_params, start, stop, limit, offset)
    else:
        total, rows = _sqlite(query, allowed_sql, allowed_params, start, stop, limit, offset)
    results.total = total
    found = {
        doc.pk: doc
        for doc in SearchDocument.objects.filter(pk__in=[r[0] for r in rows]).select_related(
            "thread", "space", "author"
        )
    }
    for doc_id, raw_snippet in rows:
        doc = found.get(doc_id)
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
                snippet=_highlight(raw_snippet or "", start, stop),
                kind=doc.kind,
                kind_label=doc.get_kind_display(),
                resolved=doc.resolved,
            )
        )
    return results


def _highlight(raw: str, start: str, stop: str) -> SafeString:
    """Escape everything, then turn the markers the database put around matches into <mark>."""
    escaped = html.escape(raw)
    return mark_safe(escaped.replace(start, "<mark>").replace(stop, "</mark>"))


def _sqlite(query, allowed_sql, allowed_params, start, stop, limit, offset):
    match = query.fts5()
    where = f"search_fts MATCH %s AND search_fts.rowid IN ({allowed_sql})"
    params = [match, *allowed_params]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM search_fts WHERE {where}", params)
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT search_fts.rowid, snippet(search_fts, 1, %s, %s, '…', %s)"
            f" FROM search_fts WHERE {where}"
            " ORDER BY bm25(search_fts, 8.0, 1.0), search_fts.rowid DESC LIMIT %s OFFSET %s",
            [start, stop, SNIPPET_WORDS, *params, limit, offset],
        )
        return total, cursor.fetchall()


def _postgres(query, allowed_sql, allowed_params, start, stop, limit, offset):
    # websearch_to_tsquery never raises on odd input; the prefix word is letters and digits only.
    tsquery = "websearch_to_tsquery('english', %s)"
    tsparams: list = [query.websearch()]
    if query.prefix:
        tsquery = f"({tsquery} && to_tsquery('english', %s))"
        tsparams.append(f"{query.prefix}:*")
    where = f"d.search_vector @@ q.query AND d.id IN ({allowed_sql})"
    source = f"search_searchdocument d, (SELECT {tsquery} AS query) q"
    options = (
        f"StartSel={start}, StopSel={stop}, MaxWords={SNIPPET_WORDS}, MinWords=8,"
        ' MaxFragments=2, FragmentDelimiter=" … "'
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {source} WHERE {where}", [*tsparams, *allowed_params])
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT d.id, ts_headline('english', d.body, q.query, %s)"
            f" FROM {source} WHERE {where}"
            " ORDER BY ts_rank(d.search_vector, q.query) DESC, d.id DESC LIMIT %s OFFSET %s",
            [options, *tsparams, *allowed_params, limit, offset],
        )
        return total, cursor.fetchall()
