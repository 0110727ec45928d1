"""What threads do when something happens below them. Each function takes an event's payload
as keyword arguments (see `tidings.handlers`) and runs in the action's transaction."""

from __future__ import annotations

from tidings.threads import actions


def forget_member(person_id: int, workspace_id: int) -> None:
    """A person removed from a workspace loses their space lists, levels and follows there."""
    actions.forget_person_in_workspace(person_id, workspace_id)
