"""Events reach only the handlers the table names; a name it does not know is refused, and
every event an action publishes is in the table with handlers that take its payload."""

import ast
import inspect
from pathlib import Path

import pytest

from tidings import events
from tidings.handlers import HANDLERS

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "tidings"


def published() -> dict[str, set[frozenset[str]]]:
    """Each event name published in the source, with the keywords of each call."""
    found: dict[str, set[frozenset[str]]] = {}
    for path in PACKAGE.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "publish"):
                continue
            name = node.args[0]
            assert isinstance(name, ast.Constant), f"{path}: publish with a name spelt out"
            assert all(k.arg for k in node.keywords), f"{path}: publish with keywords spelt out"
            found.setdefault(name.value, set()).add(frozenset(k.arg for k in node.keywords))
    return found


def test_the_table_is_the_one_the_setting_names():
    assert events.table() is HANDLERS


def test_an_event_the_table_does_not_list_is_refused():
    with pytest.raises(events.UnknownEvent):
        events.publish("no_such_event", thread_id=1)


def test_every_published_event_is_in_the_table():
    names = published()
    assert names, "no publish call found: the scan is broken"
    assert not sorted(set(names) - set(HANDLERS)), "published but not in the table"
    assert not sorted(set(HANDLERS) - set(names)), "in the table but never published"


@pytest.mark.parametrize("event", sorted(published()))
def test_each_handler_takes_the_payload_it_is_published_with(event):
    listeners = HANDLERS[event]
    handlers = listeners.at_once + listeners.after_commit
    assert handlers, f"{event} has nobody listening"
    for keywords in published()[event]:
        for handler in handlers:
            try:
                inspect.signature(handler).bind(**dict.fromkeys(keywords))
            except TypeError as error:
                pytest.fail(f"{handler.__module__}.{handler.__qualname__}({event}): {error}")


def test_a_posted_thread_is_indexed_at_once_and_delivered_on_commit(
    world, django_capture_on_commit_callbacks
):
    from tidings.inbox.models import InboxItem  # the wiring under test spans the apps
    from tidings.search.models import SearchDocument
    from tidings.threads.actions import post_thread

    with django_capture_on_commit_callbacks(execute=False) as queued:
        thread = post_thread(
            world.member, world.open_space, kind="question", title="Which DB?", body="@adam?"
        )
        assert SearchDocument.objects.filter(thread=thread, reply=None).exists()
        assert not InboxItem.objects.filter(thread=thread).exists()
    for callback in queued:
        callback()
    assert InboxItem.objects.filter(thread=thread, person=world.admin).exists()
