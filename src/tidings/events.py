"""Events: how an action says that something happened without knowing who listens.

An action calls `publish("reply_posted", reply_id=…)` inside its transaction. The table in
`tidings.handlers` (named by the EVENT_HANDLERS setting, like ROOT_URLCONF names the URLs)
says who listens: handlers `at_once` run there and then, inside the action's transaction, for
what must change with it (search documents, answered requests); `after_commit` handlers are
Huey jobs, queued once the transaction commits and run by a worker (inbox fan-out, emails).

This module sits below every app and imports none of them: actions publish downwards-free,
and the table, above all apps, wires each event to the apps that care.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Listeners:
    """Who listens to one event. Every handler takes the event's payload as keyword
    arguments (ids and plain values, so that a job can be queued with them)."""

    at_once: tuple[Callable[..., object], ...] = ()
    after_commit: tuple[Callable[..., object], ...] = ()


class UnknownEvent(LookupError):
    """An event the table does not list: a misspelt name, caught by the first test."""


@cache
def table() -> Mapping[str, Listeners]:
    return import_string(settings.EVENT_HANDLERS)


def publish(event: str, **payload: object) -> None:
    """Run the event's at-once handlers now and queue its jobs for when the current
    transaction commits (at once when there is none)."""
    try:
        listeners = table()[event]
    except KeyError:
        raise UnknownEvent(event) from None
    for handler in listeners.at_once:
        handler(**payload)
    if listeners.after_commit:
        transaction.on_commit(lambda: _queue(listeners.after_commit, payload))


def _queue(jobs: tuple[Callable[..., object], ...], payload: dict[str, object]) -> None:
    for job in jobs:
        job(**payload)
