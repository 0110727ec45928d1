"""State changes of workspaces: first setup."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from tidings.accounts.models import (
    User,
    hash_token,
    validate_display_name,
    validate_time_zone,
)
from tidings.workspaces.models import Membership, Role, SetupToken, Workspace


def issue_setup_link_if_needed() -> str | None:
    """With no account yet, make a fresh one-time setup link (older ones stop working)."""
    if User.objects.exists():
        return None
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        SetupToken.objects.filter(used_at=None).delete()
        SetupToken.objects.create(token_hash=hash_token(raw))
    return f"{settings.SITE_URL}/setup/{raw}/"


def setup_token_is_valid(raw: str) -> bool:
    return (
        not User.objects.exists()
        and SetupToken.objects.filter(token_hash=hash_token(raw), used_at=None).exists()
    )


def unique_workspace_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def time_zone_and_password_errors(
    time_zone: str, password: str, new_person: User
) -> dict[str, list[str]]:
    """What is wrong with a new account's name, time zone and password, by field."""
    errors: dict[str, list[str]] = {}
    try:
        validate_display_name(new_person.name)
    except ValidationError as error:
        errors["name"] = error.messages
    try:
        validate_time_zone(time_zone)
    except ValidationError as error:
        errors["time_zone"] = error.messages
    try:
        validate_password(password, new_person)
    except ValidationError as error:
        errors["password"] = error.messages
    return errors


@transaction.atomic
def create_owner_and_workspace(
    *, email: str, name: str, password: str, workspace_name: str, time_zone: str = "UTC"
) -> tuple[User, Workspace]:
    """Create a person as owner of a new workspace. Raises ValidationError on bad input."""
    email = User.objects.normalize_email(email).strip().lower()
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Enter your name."]
    if not workspace_name.strip():
        errors["workspace_name"] = ["Enter a name for the workspace."]
    if User.objects.filter(email=email).exists():
        errors["email"] = ["An account with this email already exists."]
    errors = (
        time_zone_and_password_errors(time_zone, password, User(email=email, name=name)) | errors
    )
    if errors:
        raise ValidationError(errors)
    owner = User.objects.create_user(email, password, name=name, time_zone=time_zone)
    workspace = Workspace.objects.create(
        name=workspace_name.strip()[:120], slug=unique_workspace_slug(workspace_name)
    )
    Membership.objects.create(workspace=workspace, person=owner, role=Role.OWNER)
    return owner, workspace


@transaction.atomic
def complete_setup(raw_token: str, **fields: str) -> tuple[User, Workspace]:
    """Use the one-time setup link. Works once, and only while no account exists."""
    token = (
        SetupToken.objects.select_for_update()
        .filter(token_hash=hash_token(raw_token), used_at=None)
        .first()
    )
    if token is None or User.objects.exists():
        raise ValidationError("This setup link has already been used or is not valid.")
    result = create_owner_and_workspace(**fields)
    token.used_at = timezone.now()
    token.save(update_fields=["used_at"])
    return result
