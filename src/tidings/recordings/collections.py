"""The library's changes: renaming a recording, and collections (ordered lists of posted
recordings that their owner keeps and may share with a space).
Conventions (as in threads.actions): Http404 for what the person cannot see,
PermissionDenied for visible-but-not-allowed, ValidationError with a sentence for bad input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from tidings.recordings import access
from tidings.recordings.models import Collection, CollectionItem, Recording
from tidings.recordings.upload import clean_recording_title
from tidings.threads.models import Space
from tidings.workspaces.models import Workspace

if TYPE_CHECKING:
    from tidings.accounts.models import User

COLLECTION_TITLE_MAX = 120
COLLECTION_DESCRIPTION_MAX = 500
MOVE_STEPS = {"up": -1, "down": 1}


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _clean_collection_fields(title: str, description: str) -> tuple[str, str]:
    title, description = _one_line(title), (description or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Give the collection a title, such as “Onboarding”."]
    elif len(title) > COLLECTION_TITLE_MAX:
        errors["title"] = [
            f"Keep the title to {COLLECTION_TITLE_MAX} characters or fewer (it has {len(title)})."
        ]
    if len(description) > COLLECTION_DESCRIPTION_MAX:
        errors["description"] = [
            f"Keep the description to {COLLECTION_DESCRIPTION_MAX} characters or fewer"
            f" (it has {len(description)})."
        ]
    if errors:
        raise ValidationError(errors)
    return title, description


def _require_collection_owner(person: User | None, collection: Collection) -> None:
    """Only the collection's owner changes it; readers of its space get 403, others 404."""
    if access.visible_collections(person).filter(pk=collection.pk, owner=person).exists():
        return
    if access.visible_collections(person).filter(pk=collection.pk).exists():
        raise PermissionDenied("Only the person who made this collection can change it.")
    raise Http404("No such collection.")


def _renumber(items: list[CollectionItem]) -> None:
    """Positions 0..n-1 in list order, so they stay dense after any change."""
    changed = []
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position
            changed.append(item)
    CollectionItem.objects.bulk_update(changed, ["position"])


def _locked_items(collection: Collection) -> list[CollectionItem]:
    return list(
        CollectionItem.objects.select_for_update()
        .filter(collection=collection)
        .order_by("position", "id")
    )


def create_collection(
    person: User, workspace: Workspace, *, title: str, description: str = ""
) -> Collection:
    """A new, empty, unshared collection owned by `person` in a workspace they belong to."""
    if access.membership(person, workspace) is None:
        raise Http404("No such workspace.")
    title, description = _clean_collection_fields(title, description)
    return Collection.objects.create(
        workspace=workspace, owner=person, title=title, description=description
    )


def update_collection(
    person: User, collection: Collection, *, title: str, description: str = ""
) -> Collection:
    _require_collection_owner(person, collection)
    collection.title, collection.description = _clean_collection_fields(title, description)
    collection.updated_at = timezone.now()
    collection.save(update_fields=["title", "description", "updated_at"])
    return collection


def delete_collection(person: User, collection: Collection) -> None:
    """Removes the list only; the recordings in it stay where they were posted."""
    _require_collection_owner(person, collection)
    collection.delete()


def share_collection(person: User, collection: Collection, space: Space | None) -> Collection:
    """Show the collection to the readers of `space` (None: stop sharing). The owner must be
    able to post in the space. Each reader still sees only the recordings they may see."""
    _require_collection_owner(person, collection)
    if space is not None:
        if space.workspace_id != collection.workspace_id or not access.can_view_space(
            person, space
        ):
            raise ValidationError({"space": ["Choose a space of this workspace that you can see."]})
        if not access.can_post_in_space(person, space):
            raise ValidationError(
                {"space": ["This space is archived; share the collection to another space."]}
            )
    collection.shared_space = space
    collection.updated_at = timezone.now()
    collection.save(update_fields=["shared_space", "updated_at"])
    return collection


def add_to_collection(
    person: User, collection: Collection, recording: Recording
) -> tuple[CollectionItem, bool]:
    """Put a posted recording the owner can see at the end of the collection. Adding it again
    changes nothing; returns (item, created)."""
    _require_collection_owner(person, collection)
    if not access.visible_recordings(person).filter(pk=recording.pk).exists():
        raise Http404("No such recording.")
    if recording.posted_at is None:
        raise ValidationError(
            {"recording": ["Post the recording first; then it can go in a collection."]}
        )
    if recording.space.workspace_id != collection.workspace_id:
        raise ValidationError(
            {"recording": ["That recording belongs to another workspace than the collection."]}
        )
    with transaction.atomic():
        items = _locked_items(collection)
        for item in items:
            if item.recording_id == recording.pk:
                return item, False
        item = CollectionItem.objects.create(
            collection=collection, recording=recording, position=len(items)
        )
        _renumber([*items, item])
        Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())
    return item, True


def remove_from_collection(person: User, collection: Collection, recording_id: int) -> None:
    """Take a recording out of the collection (the recording itself stays). Removing one that
    is not there changes nothing."""
    _require_collection_owner(person, collection)
    with transaction.atomic():
        items = _locked_items(collection)
        kept = [item for item in items if item.recording_id != recording_id]
        if len(kept) == len(items):
            return
        CollectionItem.objects.filter(collection=collection, recording_id=recording_id).delete()
        _renumber(kept)
        Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())


def move_in_collection(
    person: User, collection: Collection, recording_id: int, direction: str
) -> int:
    """Swap a recording with its neighbour above ("up") or below ("down") among those the owner
    can still see; at either end nothing moves. Returns the recording's new position (0-based
    among all items)."""
    _require_collection_owner(person, collection)
    step = MOVE_STEPS.get(direction)
    if step is None:
        raise ValidationError({"direction": ["Move a recording up or down."]})
    visible = set(
        access.visible_recordings(person)
        .filter(collection_items__collection=collection)
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        items = _locked_items(collection)
        index = next((i for i, it in enumerate(items) if it.recording_id == recording_id), None)
        if index is None:
            raise Http404("That recording is not in this collection.")
        # The owner may have lost sight of some recordings: step over them, so a move
        # always changes what the owner sees.
        target = index + step
        while 0 <= target < len(items) and items[target].recording_id not in visible:
            target += step
        if 0 <= target < len(items):
            items[index], items[target] = items[target], items[index]
            index = target
            _renumber(items)
            Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())
    return index


def rename_recording(person: User, recording: Recording, title: str) -> Recording:
    """Only the person who recorded it renames it; the title shows in the library and
    collections (a blank one falls back to the thread's title)."""
    if not access.visible_recordings(person).filter(pk=recording.pk).exists():
        raise Http404("No such recording.")
    if recording.owner_id != person.pk:
        raise PermissionDenied("Only the person who recorded it can rename it.")
    recording.title = clean_recording_title(title)
    recording.updated_at = timezone.now()
    recording.save(update_fields=["title", "updated_at"])
    return recording
