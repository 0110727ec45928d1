"""The scene every permission row is asked in, built once per module on top of the world:
in each place (the open space, the private space, and an open space of another workspace)
a thread with a reply, an attachment, a posted recording with its transcript and an action
item, an unposted recording, a collection, an inbox item, a reminder, a request, a post
waiting to be sent, an invitation and emails received; and for each person a token.

The place's things are made by the person who runs it (the owner of the workspace: Olivia in
Acme, Otto in the other workspace); personal things (inbox item, reminder, request, scheduled
post, collection, recordings) belong to that person, so the others must not reach them."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.utils import timezone

from conftest import World, build_world
from tidings.accounts.actions import create_access_token
from tidings.accounts.models import SignedInSession, TokenScope, User
from tidings.inbox import actions as inbox_actions
from tidings.inbox import send_later
from tidings.inbox.models import InboxItem, RequestRecipient
from tidings.mail.models import InboundMessage, InboundResult
from tidings.mail.outbox import unsubscribe_token
from tidings.people import actions as people_actions
from tidings.recordings import collections as recording_collections
from tidings.recordings.media import media_url
from tidings.recordings.models import Collection, Recording
from tidings.recordings.tests.factories import posted_recording, recording_with_chunks
from tidings.threads import actions as thread_actions
from tidings.threads.models import Attachment, Reply, Space, Thread
from tidings.transcripts.models import ActionItem, Segment, Transcript, TranscriptState
from tidings.workspaces.models import Invite, Membership, Workspace

PLACES = ("open", "private", "other")

# Words of the private space and of the other workspace that must never reach someone who
# may not see them: in any answer, page or JSON, whatever its status.
SECRETS = {
    "private": ("Leadership", "leadership", "Zanzibar merger", "Quillfeather"),
    "other": ("Other Co", "Otterbay", "Harbour plans", "Kestrelwing"),
}


@dataclass
class Place:
    """What one place holds; every id is real, so a refusal can only come from the rules."""

    name: str
    workspace: Workspace
    space: Space
    runner: User  # who made everything here: the workspace's owner
    thread: Thread
    reply: Reply
    attachment: Attachment
    recording: Recording  # posted in the thread, processed, with a transcript
    unposted: Recording  # its chunks reached the server; waiting in the runner's library
    action_item: ActionItem
    collection: Collection
    inbox_item: InboxItem
    reminder_id: int
    request_id: int
    recipient_id: int  # the request as its recipient sees it (asked of the place's other)
    scheduled_id: int
    invite: Invite
    held: InboundMessage
    original: InboundMessage
    membership: Membership  # someone else's membership in this workspace
    unsubscribe: str  # the runner's link to stop this space's email
    media: str  # a signed link to the recording's media
    token_id: int  # one of the runner's own personal access tokens
    extra: dict = field(default_factory=dict)


@dataclass
class Scene:
    world: World
    places: dict[str, Place]
    tokens: dict[str, str]  # role → a raw personal access token with every scope

    def place(self, name: str) -> Place:
        return self.places[name]


def _place(name: str, world: World, space: Space, runner: User, asked: User, words) -> Place:
    title, body = words
    thread = thread_actions.post_thread(
        runner, space, kind="question", title=title, body=f"{body} opening words"
    )
    upload = thread_actions.upload_attachment(
        runner, space, SimpleUploadedFile(f"{body}.txt", b"the plan", "text/plain")
    )
    reply = thread_actions.post_reply(
        runner, thread, body=f"{body} reply", attachment_tokens=[upload.token]
    )
    attachment = Attachment.objects.get(token=upload.token)
    recording = posted_recording(runner, thread, reply=reply, title=f"{body} walkthrough")
    recording.poster.save("poster.jpg", ContentFile(b"\xff\xd8\xff"), save=True)
    transcript = Transcript.objects.create(
        recording=recording, state=TranscriptState.READY, text=f"{body} said", progress=100
    )
    Segment.objects.create(
        transcript=transcript,
        index=0,
        start_ms=0,
        end_ms=900,
        text=f"{body} said",
        words=[[0, 400, body, 0.9, False], [400, 900, "said", 0.9, False]],
    )
    action_item = ActionItem.objects.create(
        transcript=transcript, start_ms=0, text=f"{body} will send the numbers"
    )
    unposted = recording_with_chunks(runner, space, [b"\x1aE\xdf\xa3" + b"0" * 64])
    collection = recording_collections.create_collection(
        runner, space.workspace, title=f"{body} collection"
    )
    recording_collections.add_to_collection(runner, collection, recording)
    inbox_item, _ = InboxItem.objects.get_or_create(
        person=runner, thread=thread, defaults={"reason": "mention", "actor": runner}
    )
    reminder = inbox_actions.create_reminder(
        runner, thread.pk, at=timezone.now() + dt.timedelta(days=2)
    )
    request = inbox_actions.ask_to_respond(
        runner, thread.pk, [asked.pk], timezone.localdate() + dt.timedelta(days=3)
    )
    scheduled = send_later.schedule_post(
        runner,
        thread=thread,
        body=f"{body} later",
        send_at=(timezone.now() + dt.timedelta(days=5)).replace(tzinfo=None),
    )
    invite, invite_link = people_actions.create_invite(
        runner, space.workspace, email=f"new-{name}@example.test", role="member"
    )
    held = InboundMessage.objects.create(
        recipient=f"{space.slug}@mail.test",
        sender="stranger@example.test",
        subject=f"{body} held",
        result=InboundResult.HELD,
        space=space,
    )
    held.held_file.save("held.eml", ContentFile(b"Subject: held\r\n\r\nheld words"), save=True)
    original = InboundMessage.objects.create(
        recipient=f"{space.slug}@mail.test",
        sender=runner.email,
        subject=f"{body} original",
        result=InboundResult.ACCEPTED,
        space=space,
        thread=thread,
    )
    original.original.save("original.eml", ContentFile(b"Subject: o\r\n\r\nwords"), save=True)
    token, _ = create_access_token(runner, f"{name} laptop", scopes=TokenScope.values)
    session = SignedInSession.objects.create(user=runner, session_key=secrets.token_hex(16))
    return Place(
        name=name,
        workspace=space.workspace,
        space=space,
        runner=runner,
        thread=thread,
        reply=reply,
        attachment=attachment,
        recording=recording,
        unposted=unposted,
        action_item=action_item,
        collection=collection,
        inbox_item=inbox_item,
        reminder_id=reminder.pk,
        request_id=request.pk,
        recipient_id=RequestRecipient.objects.get(request=request).pk,
        scheduled_id=scheduled.pk,
        invite=invite,
        held=held,
        original=original,
        membership=Membership.objects.get(workspace=space.workspace, person=asked),
        unsubscribe=unsubscribe_token(runner, space),
        media=media_url(recording, "poster", runner),
        token_id=token.pk,
        extra={"invite_link": invite_link, "session_id": session.pk},
    )


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def build_scene() -> Scene:
    from huey.contrib.djhuey import HUEY

    immediate, HUEY.immediate = HUEY.immediate, True
    try:
        world = build_world()
        world.private_space.name = "Leadership Quillfeather"
        world.private_space.save()
        world.other_workspace.name = "Other Co Kestrelwing"
        world.other_workspace.save()
        other_space = Space.objects.create(
            workspace=world.other_workspace,
            name="Otterbay",
            slug="otterbay",
            created_by=world.outsider,
        )
        # Someone besides Otto in the other workspace, to be asked, managed and removed.
        colleague = User.objects.create_user("pia@other.test", secrets.token_hex(8), name="Pia")
        Membership.objects.create(workspace=world.other_workspace, person=colleague)
        with TestCase.captureOnCommitCallbacks(execute=True):
            places = {
                "open": _place(
                    "open",
                    world,
                    world.open_space,
                    world.owner,
                    world.member,
                    ("Where is the style guide", "Bluebell"),
                ),
                "private": _place(
                    "private",
                    world,
                    world.private_space,
                    world.owner,
                    world.admin,
                    ("Zanzibar merger", "Quillfeather"),
                ),
                "other": _place(
                    "other",
                    world,
                    other_space,
                    world.outsider,
                    colleague,
                    ("Harbour plans", "Kestrelwing"),
                ),
            }
        tokens = {}
        for role in ("owner", "admin", "member", "guest", "outsider"):
            _, raw = create_access_token(world.person(role), role, scopes=TokenScope.values)
            tokens[role] = raw
        return Scene(world, places, tokens)
    finally:
        HUEY.immediate = immediate
