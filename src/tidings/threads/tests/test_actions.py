import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from tidings.threads import actions
from tidings.threads.models import (
    Attachment,
    Reaction,
    ReadMark,
    Reply,
    Revision,
    Space,
    SpaceLevel,
    SpaceMember,
    SpaceSubscription,
    Thread,
    ThreadFollow,
)
from tidings.threads.tests.factories import png_bytes, reply_to, thread_in

# --- Spaces


def test_create_open_and_private_spaces(world):
    open_space = actions.create_space(world.member, world.workspace, name="  Design  Team ")
    assert open_space.name == "Design Team" and open_space.slug == f"{open_space.pk}-design-team"
    assert not open_space.members.exists()
    private = actions.create_space(
        world.member,
        world.workspace,
        name="Secret",
        visibility="private",
        member_ids=[str(world.guest.pk)],
    )
    members = set(private.members.values_list("person_id", flat=True))
    assert members == {world.member.pk, world.guest.pk}  # creator always included


def test_space_slug_says_nothing_of_hidden_spaces(world):
    """A name taken by a private space the creator cannot see gives the same kind of slug as a
    free name: `<id>-<name>`, never a telling `-2`; older slugs keep working."""
    taken = actions.create_space(world.member, world.workspace, name="Leadership")
    free = actions.create_space(world.member, world.workspace, name="Offsite")
    assert taken.slug == f"{taken.pk}-leadership"
    assert free.slug == f"{free.pk}-offsite"
    assert world.private_space.slug == "leadership"
    same = actions.create_space(world.member, world.workspace, name="Offsite")
    assert same.slug == f"{same.pk}-offsite"


def test_space_slug_steps_around_an_older_slug_of_the_same_shape(world):
    old = Space.objects.create(workspace=world.workspace, name="Old", slug="old")
    old.slug = f"{old.pk + 1}-plans"  # the slug the next space named Plans would get
    old.save()
    clash = actions.create_space(world.member, world.workspace, name="Plans")
    assert clash.slug.startswith(f"{clash.pk}-plans-") and len(clash.slug) > len("1-plans-")


def test_guests_and_outsiders_cannot_create_spaces(world):
    with pytest.raises(PermissionDenied):
        actions.create_space(world.guest, world.workspace, name="Nope")
    with pytest.raises(Http404):
        actions.create_space(world.outsider, world.workspace, name="Nope")
    assert not Space.objects.filter(name="Nope").exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_space_name_is_validated(world, name):
    with pytest.raises(ValidationError):
        actions.create_space(world.owner, world.workspace, name=name)


def test_private_space_members_must_be_of_the_workspace(world):
    with pytest.raises(ValidationError):
        actions.create_space(
            world.owner,
            world.workspace,
            name="X",
            visibility="private",
            member_ids=[world.outsider.pk],
        )
    with pytest.raises(ValidationError):
        actions.create_space(world.owner, world.workspace, name="X", visibility="secret")
    assert not Space.objects.filter(name="X").exists()


def test_set_space_members(world):
    actions.set_space_members(world.owner, world.private_space, [world.member.pk])
    members = set(world.private_space.members.values_list("person_id", flat=True))
    assert members == {world.owner.pk, world.member.pk}  # the admin was removed, owner kept
    with pytest.raises(ValidationError):
        actions.set_space_members(world.owner, world.private_space, [world.outsider.pk])
    with pytest.raises(ValidationError):
        actions.set_space_members(world.owner, world.open_space, [world.member.pk])
    with pytest.raises(Http404):  # the admin is no longer on the list
        actions.set_space_members(world.admin, world.private_space, [world.admin.pk])


def test_update_and_archive_space_rules(world):
    actions.update_space(world.admin, world.open_space, name="Everyone", description="All of us")
    world.open_space.refresh_from_db()
    assert world.open_space.name == "Everyone" and world.open_space.slug == "general"
    with pytest.raises(PermissionDenied):
        actions.update_space(world.member, world.open_space, name="Mine", description="")
    with pytest.raises(Http404):
        actions.update_space(world.member, world.private_space, name="Mine", description="")
    actions.archive_space(world.owner, world.open_space)
    with pytest.raises(PermissionDenied):
        thread_in(world.open_space, world.member)


def test_space_level(world):
    actions.set_space_level(world.member, world.open_space, SpaceLevel.MUTED)
    assert SpaceSubscription.objects.get(person=world.member).level == "muted"
    with pytest.raises(ValidationError):
        actions.set_space_level(world.member, world.open_space, "loud")
    with pytest.raises(Http404):
        actions.set_space_level(world.member, world.private_space, SpaceLevel.MUTED)


# --- Threads


def test_post_thread_follows_and_indexes(world, monkeypatch, django_capture_on_commit_callbacks):
    published = []
    monkeypatch.setattr(actions, "publish", lambda event, **kw: published.append((event, kw)))
    with django_capture_on_commit_callbacks(execute=True):
        thread = actions.post_thread(
            world.member,
            world.open_space,
            kind="question",
            title="  Which  DB? ",
            body="Asking @adam and @otto",
        )
    assert thread.title == "Which DB?"
    assert published == [
        (
            "thread_posted",
            {"thread_id": thread.id, "mentioned_ids": [world.admin.pk], "hold_delivery": False},
        )
    ]
    assert ThreadFollow.objects.get(thread=thread, person=world.member).following


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "x" * 100_000}, "title"),
        ({"kind": "rant"}, "kind"),
        ({"body": "x" * 50_001}, "body"),
    ],
)
def test_post_thread_rejects_bad_input_and_saves_nothing(world, fields, field):
    values = {"kind": "discussion", "title": "Fine", "body": "", **fields}
    with pytest.raises(ValidationError) as error:
        actions.post_thread(world.member, world.open_space, **values)
    assert field in error.value.message_dict
    assert error.value.message_dict[field][0].endswith(".")
    assert not Thread.objects.exists()


def test_private_space_is_404_to_people_off_the_list(world):
    for person in (world.member, world.guest, world.outsider):
        with pytest.raises(Http404):
            thread_in(world.private_space, person)
    thread = thread_in(world.private_space, world.admin)
    with pytest.raises(Http404):
        reply_to(thread, world.member)


def test_edit_thread_keeps_history(world):
    thread = thread_in(world.open_space, world.member, title="Old", body="first")
    actions.edit_thread(world.member, thread, title="New", body="second")
    thread.refresh_from_db()
    assert (thread.title, thread.body, thread.edited_at is not None) == ("New", "second", True)
    revision = Revision.objects.get(thread=thread)
    assert (revision.title, revision.body) == ("Old", "first")
    with pytest.raises(PermissionDenied):
        actions.edit_thread(world.admin, thread, title="Hijack", body="")


def test_delete_thread_rules(world):
    thread = thread_in(world.open_space, world.member)
    with pytest.raises(PermissionDenied):
        actions.delete_thread(world.guest, thread)
    actions.delete_thread(world.admin, thread)
    thread.refresh_from_db()
    assert thread.deleted_at is not None
    with pytest.raises(Http404):
        reply_to(thread, world.member)


# --- Replies


def test_post_reply_updates_thread_and_follows(world):
    thread = thread_in(world.open_space, world.member)
    before = thread.last_activity_at
    reply = reply_to(thread, world.guest, "Thanks @mia")
    thread.refresh_from_db()
    assert thread.reply_count == 1 and thread.last_activity_at >= before
    assert thread.last_activity_at == reply.created_at
    assert ThreadFollow.objects.filter(thread=thread, person=world.guest, following=True).exists()
    assert '<span class="mention">@Mia Member</span>' in reply.body_html


def test_empty_reply_is_rejected(world):
    thread = thread_in(world.open_space, world.member)
    with pytest.raises(ValidationError):
        actions.post_reply(world.member, thread, body="   ")
    assert not Reply.objects.exists()


def test_quote_must_come_from_the_quoted_post(world):
    thread = thread_in(world.open_space, world.member, body="We **ship** on Friday.\n\nThen rest.")
    first = reply_to(thread, world.admin, "I think _Monday_ is safer")
    quoted = actions.post_reply(
        world.owner, thread, body="Agreed", quoted_reply_id=first.pk, quote_text="Monday is safer"
    )
    assert quoted.quoted_reply == first
    opening = actions.post_reply(
        world.owner, thread, body="Yes", quote_text="ship on   friday. Then"
    )
    assert opening.quoted_reply is None and opening.quote_text
    with pytest.raises(ValidationError):  # not in the reply it claims to quote
        actions.post_reply(
            world.owner, thread, body="x", quoted_reply_id=first.pk, quote_text="ship on Friday"
        )
    with pytest.raises(ValidationError):  # a made-up passage of the opening post
        actions.post_reply(world.owner, thread, body="x", quote_text="We cancel everything")
    other = thread_in(world.open_space, world.owner)
    foreign = reply_to(other, world.owner, "Elsewhere words")
    with pytest.raises(ValidationError):  # a reply of another thread
        actions.post_reply(
            world.owner, thread, body="x", quoted_reply_id=foreign.pk, quote_text="Elsewhere"
        )
    assert thread.replies.count() == 3


def test_edit_reply_keeps_revision(world):
    thread = thread_in(world.open_space, world.member)
    reply = reply_to(thread, world.guest, "first take")
    actions.edit_reply(world.guest, reply, body="second take")
    reply.refresh_from_db()
    assert reply.edited_at and reply.body == "second take"
    assert Revision.objects.get(reply=reply).body == "first take"
    with pytest.raises(PermissionDenied):
        actions.edit_reply(world.owner, reply, body="not mine")


def test_delete_reply_rules(world, monkeypatch):
    removed = []
    thread = thread_in(world.open_space, world.member)
    reply = reply_to(thread, world.guest)
    monkeypatch.setattr(actions, "publish", lambda event, **kw: removed.append((event, kw)))
    with pytest.raises(PermissionDenied):
        actions.delete_reply(world.member, reply)
    actions.delete_reply(world.admin, reply)
    reply.refresh_from_db()
    thread.refresh_from_db()
    assert reply.deleted_at and reply.deleted_by == world.admin and thread.reply_count == 0
    assert removed == [("reply_deleted", {"reply_id": reply.pk, "thread_id": thread.pk})]
    with pytest.raises(Http404):
        actions.delete_reply(world.guest, reply)


# --- Reactions, decisions, following, reading


def test_toggle_reaction(world):
    thread = thread_in(world.open_space, world.member)
    reply = reply_to(thread, world.guest)
    assert actions.toggle_reaction(world.owner, thread, None, "👍") is True
    assert actions.toggle_reaction(world.owner, thread, reply, "👍") is True
    assert Reaction.objects.count() == 2
    assert actions.toggle_reaction(world.owner, thread, None, "👍") is False
    assert Reaction.objects.count() == 1
    with pytest.raises(ValidationError):
        actions.toggle_reaction(world.owner, thread, None, "💩")
    with pytest.raises(Http404):
        actions.toggle_reaction(world.outsider, thread, None, "👍")


def test_resolve_and_reopen(world):
    thread = thread_in(world.open_space, world.member, kind="decision")
    with pytest.raises(ValidationError):
        actions.resolve_thread(world.member, thread, "   ")
    with pytest.raises(PermissionDenied):  # guests resolve only their own threads
        actions.resolve_thread(world.guest, thread, "Decision: no")
    actions.resolve_thread(world.admin, thread, "Decision: **PostgreSQL**")
    thread.refresh_from_db()
    assert (
        thread.resolved_by == world.admin and "<strong>PostgreSQL</strong>" in thread.outcome_html
    )
    actions.reopen_thread(world.member, thread)
    thread.refresh_from_db()
    assert thread.resolved_at is None and thread.outcome == ""


def test_follow_and_mark_read(world, monkeypatch):
    calls = []
    thread = thread_in(world.open_space, world.member)
    monkeypatch.setattr(actions, "publish", lambda event, **kw: calls.append((event, kw)))
    actions.follow_thread(world.member, thread, False)
    assert not ThreadFollow.objects.get(thread=thread, person=world.member).following
    actions.mark_thread_read(world.guest, thread)
    assert ReadMark.objects.filter(thread=thread, person=world.guest).exists()
    assert calls == [("thread_read", {"person_id": world.guest.pk, "thread_id": thread.pk})]
    with pytest.raises(Http404):
        actions.follow_thread(world.outsider, thread, True)


# --- Attachments


def test_upload_image_is_sniffed_from_bytes(world):
    image = actions.upload_attachment(
        world.member,
        world.open_space,
        SimpleUploadedFile("../../photo.txt", png_bytes(), content_type="text/plain"),
    )
    assert image.is_image and image.content_type == "image/png"
    assert image.name == "photo.txt" and len(image.token) == 32
    fake = actions.upload_attachment(
        world.member,
        world.open_space,
        SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png"),
    )
    assert not fake.is_image and fake.content_type == "application/octet-stream"
    html = actions.upload_attachment(
        world.member, world.open_space, SimpleUploadedFile("page.html", b"<html></html>")
    )
    assert html.content_type == "application/octet-stream"


def test_upload_size_limit(world, settings):
    settings.MAX_ATTACHMENT_BYTES = 1024 * 1024
    with pytest.raises(ValidationError) as error:
        actions.upload_attachment(
            world.member, world.open_space, SimpleUploadedFile("big.bin", b"x" * (1024 * 1024 + 1))
        )
    assert "1 MB" in str(error.value)
    with pytest.raises(ValidationError):
        actions.upload_attachment(world.member, world.open_space, SimpleUploadedFile("e.txt", b""))
    assert not Attachment.objects.exists()


def test_attachments_are_linked_by_token_once(world):
    upload = actions.upload_attachment(
        world.member, world.open_space, SimpleUploadedFile("notes.txt", b"hello")
    )
    thread = actions.post_thread(
        world.member,
        world.open_space,
        kind="discussion",
        title="With file",
        body="",
        attachment_tokens=[upload.token],
    )
    upload.refresh_from_db()
    assert upload.thread == thread and upload.reply is None
    with pytest.raises(ValidationError):  # already used
        actions.post_reply(world.member, thread, body="again", attachment_tokens=[upload.token])
    theirs = actions.upload_attachment(
        world.guest, world.open_space, SimpleUploadedFile("g.txt", b"guest")
    )
    with pytest.raises(ValidationError):  # someone else's upload
        actions.post_reply(world.member, thread, body="x", attachment_tokens=[theirs.token])
    reply = actions.post_reply(world.guest, thread, body="", attachment_tokens=[theirs.token])
    theirs.refresh_from_db()
    assert theirs.reply == reply


def test_uploads_need_the_space(world):
    with pytest.raises(Http404):
        actions.upload_attachment(
            world.member, world.private_space, SimpleUploadedFile("a.txt", b"a")
        )
    assert not SpaceMember.objects.filter(person=world.member).exists()
