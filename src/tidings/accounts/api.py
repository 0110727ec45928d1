"""API for people: who am I, my delivery settings, and my personal access tokens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.responses import Status

from tidings.accounts import actions, delivery, queries
from tidings.accounts.models import (
    AccessToken,
    DeliverySettings,
    TokenScope,
    User,
    default_token_scopes,
)
from tidings.accounts.token_auth import needs

router = Router(tags=["me"])


class PersonOut(Schema):
    """A person as others see them."""

    id: int
    name: str
    handle: str


class MeOut(Schema):
    id: int
    name: str
    email: str
    handle: str
    time_zone: str
    date_joined: datetime


class MeIn(Schema):
    name: str = Field(..., max_length=1000)
    time_zone: str = Field(..., max_length=64)


Clock = str | None
Cadence = Literal["immediately", "hourly", "daily", "weekly", "never"]


class DeliveryOut(Schema):
    time_zone: str = Field(..., description="IANA zone; all the times below are in it.")
    working_hours: dict[str, list[str] | None] = Field(
        ..., description='mon…sun: ["HH:MM", "HH:MM"], or null for a day off.'
    )
    quiet_start: Clock = Field(..., description="HH:MM; null with quiet_end for none.")
    quiet_end: Clock
    away_until: date | None = Field(..., description="No email through this local date.")
    cadence: Cadence
    digest_time: str = Field(..., description="HH:MM of the daily or weekly digest.")
    digest_weekday: int = Field(..., description="Weekly digest day: 0 is Monday, 6 Sunday.")
    next_digest_at: datetime | None = Field(..., description="When the next digest goes out.")


class DeliveryIn(Schema):
    """Fields left out keep their value."""

    time_zone: str | None = Field(None, max_length=64)
    working_hours: dict[str, list[str] | None] | None = None
    quiet_start: Clock = Field(None, max_length=8)
    quiet_end: Clock = Field(None, max_length=8)
    away_until: date | None = None
    cadence: Cadence | None = None
    digest_time: str | None = Field(None, max_length=8)
    digest_weekday: int | None = Field(None, ge=0, le=6)


def delivery_out(row: DeliverySettings) -> DeliveryOut:
    def clock(value) -> str | None:
        return value.strftime("%H:%M") if value is not None else None

    return DeliveryOut(
        time_zone=row.user.time_zone,
        working_hours=row.working_hours,
        quiet_start=clock(row.quiet_start),
        quiet_end=clock(row.quiet_end),
        away_until=row.away_until,
        cadence=row.cadence,
        digest_time=clock(row.digest_time),
        digest_weekday=row.digest_weekday,
        next_digest_at=delivery.next_digest_time(row, timezone.now()),
    )


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[TokenScope]
    created_at: datetime
    expires_at: datetime | None = Field(..., description="null: works until revoked.")
    last_used_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="The raw token. It is shown only this once.")


class TokenIn(Schema):
    name: str = Field(..., max_length=1000)
    scopes: list[TokenScope] = Field(
        default_factory=default_token_scopes,
        max_length=4,
        description="read, write, admin, tokens; a token made with a token gets only scopes "
        "that token has.",
    )
    expires_in_days: Literal[30, 90, 365] | None = Field(
        actions.DEFAULT_TOKEN_DAYS, description="30, 90 or 365; null: works until revoked."
    )


def person_out(person: User | None) -> PersonOut | None:
    if person is None:
        return None
    return PersonOut(id=person.pk, name=person.name, handle=person.handle)


@router.get("/me", response=MeOut, summary="The person this token belongs to")
def me(request: HttpRequest) -> User:
    return request.auth


@router.patch("/me", response=MeOut, summary="Change my name and time zone")
def update_me(request: HttpRequest, payload: MeIn) -> User:
    return actions.update_profile(request.auth, name=payload.name, time_zone=payload.time_zone)


@router.get("/me/delivery", response=DeliveryOut, summary="When Tidings may email me")
def get_delivery(request: HttpRequest) -> DeliveryOut:
    return delivery_out(delivery.settings_for(request.auth))


@router.put(
    "/me/delivery",
    response=DeliveryOut,
    summary="Change my hours and email cadence (fields left out keep their value)",
)
def put_delivery(request: HttpRequest, payload: DeliveryIn) -> DeliveryOut:
    # Only what the client sent: null for quiet hours or away_until clears them.
    fields = payload.model_dump(exclude_unset=True)
    return delivery_out(actions.update_delivery_settings(request.auth, **fields))


@router.get(
    "/tokens",
    response=list[TokenOut],
    tags=["tokens"],
    auth=needs(TokenScope.TOKENS),
    summary="My active tokens (needs the tokens scope)",
)
def list_tokens(request: HttpRequest) -> list[AccessToken]:
    return list(queries.active_access_tokens(request.auth))


@router.post(
    "/tokens",
    response={201: TokenCreatedOut},
    tags=["tokens"],
    auth=needs(TokenScope.TOKENS),
    summary="Create a token (the raw value is returned once; needs the tokens scope)",
)
def create_token(request: HttpRequest, payload: TokenIn) -> Status:
    token, raw = actions.create_access_token(
        request.auth,
        payload.name,
        scopes=[str(scope) for scope in payload.scopes],
        expires_in_days=payload.expires_in_days,
        made_with=request.access_token,
    )
    return Status(201, {**TokenOut.model_validate(token).model_dump(), "token": raw})


@router.delete(
    "/tokens/{token_id}",
    response={204: None},
    tags=["tokens"],
    auth=needs(TokenScope.TOKENS),
    summary="Revoke a token (needs the tokens scope)",
)
def revoke_token(request: HttpRequest, token_id: int) -> Status:
    actions.revoke_access_token(request.auth, token_id)
    return Status(204, None)
