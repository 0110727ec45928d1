"""Who listens to which event: the one table that wires the apps together.

It sits above every app. An action publishes an event (`tidings.events.publish`) and knows
nothing of who listens; this table names, for each event, the handlers that run at once in
the action's transaction and the jobs a worker runs once it commits.
"""

from __future__ import annotations

from tidings.events import Listeners

HANDLERS: dict[str, Listeners] = {}
