"""Every operation of the OpenAPI document, fed generated input with a member's token: no
answer is a 5xx, and every answer is one the document describes (its status code, content
type and body). The examples are the same on every run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tidings.accounts.actions import create_access_token
from tidings.inbox.models import InboxItem, Reason
from tidings.recordings.upload import start_recording
from tidings.threads import actions
from tidings.wsgi import application

# The token is sent by the test: generated Authorization headers would only test sign-in.
# The coverage phase (every boundary of every field) alone takes minutes; a few generated
# examples per operation, valid and invalid, find the same kinds of mistakes.
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"with-security-parameters": False, "deterministic": True},
        "phases": {"coverage": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application, config=CONFIG)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class MemberSetup:
    token: str
    path_ids: dict[str, object]
    file_token: str


@pytest.fixture
def connection_kept_open():
    """The requests go through the real WSGI application, which closes the database
    connection around each one; the test's transaction lives on it, so (as Django's test
    client does) the closing is held back."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def member_setup(world, api_for, connection_kept_open) -> MemberSetup:
    """The member's token, and real things the member may see to put in the paths, so that
    generated bodies reach the actions rather than stopping at 404."""
    member = world.member
    thread = actions.post_thread(
        member, world.open_space, kind="question", title="Style guide?", body="Where is it?"
    )
    reply = actions.post_reply(world.guest, thread, body="In the wiki.")
    upload = actions.upload_attachment(
        member, world.open_space, SimpleUploadedFile("plan.txt", b"the plan", "text/plain")
    )
    actions.post_reply(member, thread, body="", attachment_tokens=[upload.token])
    item = InboxItem.objects.create(person=member, thread=thread, reason=Reason.REPLY)
    spare_token, _raw = create_access_token(member, "Spare")
    recording = start_recording(member, space=world.open_space, source="camera")
    return MemberSetup(
        token=api_for("member").token,
        path_ids={
            "workspace_id": world.workspace.pk,
            "space_id": world.open_space.pk,
            "thread_id": thread.pk,
            "reply_id": reply.pk,
            "item_id": item.pk,
            "token_id": spare_token.pk,  # not the one in use: revoking it ends the run
            "token": recording.token,
            "name": upload.name,
        },
        file_token=upload.token,
    )


@schema.parametrize()
@settings(
    max_examples=3,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, member_setup):
    ids = dict(member_setup.path_ids)
    if case.path.startswith("/api/attachments/"):
        ids["token"] = member_setup.file_token
    for name in case.path_parameters or {}:
        if name in ids:
            case.path_parameters[name] = ids[name]
    response = case.call(headers={"Authorization": f"Bearer {member_setup.token}"})
    case.validate_response(response, checks=CHECKS)
