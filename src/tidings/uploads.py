"""Uploads never posted are forgotten after a while: their rows go in small batches, and
their files once the deletion of those rows has committed (a rollback keeps both)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import QuerySet

BATCH = 200


def forget_in_batches(
    unposted: QuerySet, files_of: Callable[[list[int]], list[str]], storage: Storage
) -> int:
    """Delete the rows of `unposted` and the files `files_of(their ids)` names in `storage`.
    A row locked right now (a post claiming it) is skipped. Returns how many rows went."""
    removed = 0
    while True:
        with transaction.atomic():
            batch = list(
                unposted.select_for_update(skip_locked=True).values_list("pk", flat=True)[:BATCH]
            )
            if not batch:
                return removed
            names = files_of(batch)
            unposted.model.objects.filter(pk__in=batch).delete()
            transaction.on_commit(lambda names=names: delete_files(storage, names))
        removed += len(batch)


def delete_files(storage: Storage, names: list[str]) -> None:
    for name in names:
        storage.delete(name)
