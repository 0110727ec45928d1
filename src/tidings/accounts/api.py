"""API for people: who am I, and my personal access tokens."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from tidings.accounts import actions, queries
from tidings.accounts.models import AccessToken, User

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


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="The raw token. It is shown only this once.")


class TokenIn(Schema):
    name: str = Field(..., max_length=1000)


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


@router.get("/tokens", response=list[TokenOut], tags=["tokens"], summary="My active tokens")
def list_tokens(request: HttpRequest) -> list[AccessToken]:
    return list(queries.active_access_tokens(request.auth))


@router.post(
    "/tokens",
    response={201: TokenCreatedOut},
    tags=["tokens"],
    summary="Create a token (the raw value is returned once)",
)
def create_token(request: HttpRequest, payload: TokenIn) -> Status:
    token, raw = actions.create_access_token(request.auth, payload.name)
    return Status(201, {**TokenOut.model_validate(token).model_dump(), "token": raw})


@router.delete(
    "/tokens/{token_id}", response={204: None}, tags=["tokens"], summary="Revoke a token"
)
def revoke_token(request: HttpRequest, token_id: int) -> Status:
    actions.revoke_access_token(request.auth, token_id)
    return Status(204, None)
