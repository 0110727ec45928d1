"""What threads do when something happens below them. Each function takes an event's payload
as keyword arguments (see `tidings.handlers`) and runs in the action's transaction."""

from __future__ import annotations

from tidings.threads import actions


def forget_member(person_id: int, workspace_id: int) -> None:
    """A person removed from a workspace loses their space lists, levels and follows there."""
    actions.forget_person_in_workspace(person_id, workspace_id)


def add_guest_to_spaces(person_id: int, space_ids: list[int]) -> None:
    """A guest who accepted an invitation joins the private spaces it named."""
    actions.add_to_spaces(person_id, space_ids)
