"""The small world every test builds on: one workspace with a person of each role, an
outsider from another workspace, an open space and a private space."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from tidings.accounts.actions import create_access_token
from tidings.accounts.models import TokenScope, User
from tidings.apikit.testing import ApiClient
from tidings.threads.models import Space, SpaceMember, Visibility
from tidings.workspaces.models import Membership, Role, Workspace

PASSWORD = "correct horse battery staple"


@dataclass
class World:
    workspace: Workspace
    other_workspace: Workspace
    owner: User
    admin: User
    member: User
    guest: User
    outsider: User
    open_space: Space
    private_space: Space

    def person(self, role: str) -> User | None:
        """'anonymous' gives None; other names give the person of that role."""
        return None if role == "anonymous" else getattr(self, role)

    def client_for(self, role: str) -> Client:
        client = Client()
        person = self.person(role)
        if person is not None:
            client.force_login(person)
        return client


def make_person(email: str, name: str, time_zone: str = "UTC") -> User:
    return User.objects.create_user(email, PASSWORD, name=name, time_zone=time_zone)


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.RATELIMIT_ENABLE = False


@pytest.fixture
def rate_limits(settings):
    """Rate limits on, counting from zero."""
    settings.RATELIMIT_ENABLE = True
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _huey_immediate():
    """Background tasks run inline in tests unless a test starts a real worker."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


def build_world() -> World:
    """The world, written to the database; for fixtures of a wider scope than a test."""
    workspace = Workspace.objects.create(name="Acme", slug="acme")
    other = Workspace.objects.create(name="Other Co", slug="other")
    owner = make_person("olivia@acme.test", "Olivia Owner", "Europe/Berlin")
    admin = make_person("adam@acme.test", "Adam Admin", "America/New_York")
    member = make_person("mia@acme.test", "Mia Member", "Asia/Kolkata")
    guest = make_person("gus@client.test", "Gus Guest", "Australia/Adelaide")
    outsider = make_person("otto@other.test", "Otto Outsider")
    for person, role in [
        (owner, Role.OWNER),
        (admin, Role.ADMIN),
        (member, Role.MEMBER),
        (guest, Role.GUEST),
    ]:
        Membership.objects.create(workspace=workspace, person=person, role=role)
    Membership.objects.create(workspace=other, person=outsider, role=Role.OWNER)
    open_space = Space.objects.create(
        workspace=workspace, name="General", slug="general", created_by=owner
    )
    SpaceMember.objects.create(space=open_space, person=guest)
    private_space = Space.objects.create(
        workspace=workspace,
        name="Leadership",
        slug="leadership",
        visibility=Visibility.PRIVATE,
        created_by=owner,
    )
    SpaceMember.objects.create(space=private_space, person=owner)
    SpaceMember.objects.create(space=private_space, person=admin)
    return World(workspace, other, owner, admin, member, guest, outsider, open_space, private_space)


@pytest.fixture
def world(db) -> World:
    return build_world()


ROLES = ["owner", "admin", "member", "guest", "outsider", "anonymous"]


def by_role(owner, admin, member, guest, outsider, anonymous) -> dict[str, int]:
    """Expected statuses keyed by role name, given in the order of ROLES."""
    return dict(zip(ROLES, [owner, admin, member, guest, outsider, anonymous], strict=True))


def pytest_terminal_summary(terminalreporter) -> None:
    """No skip is silent: the reasons, counted, end the report, and scripts/test.py repeats
    them in its summary (through the file named by TIDINGS_SKIP_REPORT)."""
    reasons = [skip_reason(report) for report in terminalreporter.stats.get("skipped", [])]
    if not reasons:
        return
    terminalreporter.section(f"{len(reasons)} skipped, and why")
    for reason, count in Counter(reasons).most_common():
        terminalreporter.write_line(f"{count} × {reason}")
    if target := os.environ.get("TIDINGS_SKIP_REPORT"):
        Path(target).write_text(json.dumps(reasons))


def skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, line, "Skipped: why")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.fixture
def api_for(world):
    """api_for("member") gives an ApiClient with a fresh token of that role's person, with
    every scope (test_scopes.py takes scopes away)."""

    def make(role: str) -> ApiClient:
        person = world.person(role)
        if person is None:
            return ApiClient(None)
        _, raw = create_access_token(person, f"{role} tests", scopes=TokenScope.values)
        return ApiClient(raw)

    return make
