"""Accounts API: signup, tokens, the member's own account, public profiles and the social graph."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from papercrane import ratelimit
from papercrane.accounts import queries, services
from papercrane.accounts.models import (
    ApiToken,
    Audience,
    Follow,
    FollowRequest,
    Language,
    Member,
)
from papercrane.api.auth import AuthedRequest, member_auth, viewer_of
from papercrane.api.pagination import paginate
from papercrane.api.problems import Problem, not_found
from papercrane.api.threads import in_worker_thread

router = Router(tags=["accounts"])


class Counts(Schema):
    followers: int
    following: int


class AccountOut(Schema):
    id: str
    username: str
    display_name: str
    bio: str
    avatar_url: str | None
    avatar_thumbnail_url: str | None
    created_at: datetime
    counts: Counts
    is_private: bool
    likes_public: bool

    @staticmethod
    def resolve_id(member: Member) -> str:
        return str(member.pk)

    @staticmethod
    def resolve_display_name(member: Member) -> str:
        return member.name

    @staticmethod
    def resolve_avatar_url(member: Member) -> str | None:
        return member.avatar.url if member.avatar else None

    @staticmethod
    def resolve_avatar_thumbnail_url(member: Member) -> str | None:
        if member.avatar_thumbnail:
            return member.avatar_thumbnail.url
        return member.avatar.url if member.avatar else None

    @staticmethod
    def resolve_created_at(member: Member) -> datetime:
        return member.date_joined

    @staticmethod
    def resolve_counts(member: Member) -> dict[str, int]:
        return {"followers": member.follower_count, "following": member.following_count}


class AuthorOut(Schema):
    """The few fields a note or comment shows about its author."""

    id: str
    username: str
    display_name: str
    avatar_url: str | None

    @staticmethod
    def resolve_id(member: Member) -> str:
        return str(member.pk)

    @staticmethod
    def resolve_display_name(member: Member) -> str:
        return member.name

    @staticmethod
    def resolve_avatar_url(member: Member) -> str | None:
        return AccountOut.resolve_avatar_thumbnail_url(member)


class PrivateAccountOut(AccountOut):
    email: str
    language: str
    time_zone: str
    is_moderator: bool
    keeps_search_history: bool
    feed_personalized: bool
    auto_translate: bool
    city: str
    records_reading: bool
    discoverable: bool
    comments_from: Audience
    mentions_from: Audience


class RelationshipOut(Schema):
    username: str
    following: bool
    followed_by: bool
    blocking: bool
    requested: bool
    muting: bool


class ProfileOut(AccountOut):
    relationship: RelationshipOut | None = None


class AccountPage(Schema):
    items: list[AccountOut]
    next_cursor: str | None


class SignupIn(Schema):
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=1024)
    email: str = Field("", max_length=254)
    display_name: str = Field("", max_length=50)
    language: Language = Language.ENGLISH


class ProfilePatch(Schema):
    display_name: str | None = Field(None, max_length=50)
    bio: str | None = Field(None, max_length=500)
    language: Language | None = None
    time_zone: str | None = Field(None, max_length=64)
    email: str | None = Field(None, max_length=254)
    is_private: bool | None = None
    likes_public: bool | None = None
    keeps_search_history: bool | None = None
    feed_personalized: bool | None = None
    auto_translate: bool | None = None
    city: str | None = Field(None, max_length=100)
    records_reading: bool | None = None
    discoverable: bool | None = None
    comments_from: Audience | None = None
    mentions_from: Audience | None = None


class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=1024)
    name: str = Field("", max_length=100)


class TokenOut(Schema):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    id: str
    name: str


class TokenInfo(Schema):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    current: bool = False

    @staticmethod
    def resolve_id(token: ApiToken) -> str:
        return str(token.pk)


class TokenPage(Schema):
    items: list[TokenInfo]
    next_cursor: str | None


def _target(request: HttpRequest, username: str) -> Member:
    member = queries.visible_member(viewer_of(request), username)
    if member is None:
        raise not_found()
    return member


def _blockable(username: str) -> Member:
    """Block (and unmute) targets skip the visibility check: a member you block stays reachable
    to unblock."""
    member = queries.member_by_username(username)
    if member is None:
        raise not_found()
    return member


def _relationship(viewer: Member, other: Member) -> dict[str, Any]:
    return {"username": other.username, **queries.relationship(viewer, other)}


@router.post("/accounts", response={201: PrivateAccountOut}, auth=None)
async def create_account(request: HttpRequest, payload: SignupIn) -> Status[Member]:
    member = await in_worker_thread(
        services.sign_up,
        username=payload.username,
        password=payload.password,
        email=payload.email,
        display_name=payload.display_name,
        language=payload.language,
        ip=ratelimit.client_ip(request),
    )
    return Status(201, member)


@router.post("/auth/token", response=TokenOut, auth=None)
async def create_token(request: HttpRequest, payload: TokenIn) -> dict[str, Any]:
    def sign_in() -> services.IssuedToken:
        member = services.authenticate(
            username=payload.username, password=payload.password, ip=ratelimit.client_ip(request)
        )
        if member is None:
            raise Problem(401, "invalid-credentials", _("Wrong username or password"))
        return services.issue_token(member=member, name=payload.name)

    issued = await in_worker_thread(sign_in)
    return {"access_token": issued.secret, "id": str(issued.token.pk), "name": issued.token.name}


@router.get("/auth/tokens", response=TokenPage, auth=member_auth)
def list_tokens(
    request: AuthedRequest, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)
) -> dict[str, Any]:
    tokens, next_cursor = paginate(queries.live_tokens(request.auth), cursor=cursor, limit=limit)
    current = getattr(request, "api_token", None)
    for token in tokens:
        token.current = current is not None and token.pk == current.pk  # type: ignore[attr-defined]
    return {"items": tokens, "next_cursor": next_cursor}


@router.delete("/auth/tokens/{token_id}", response={204: None}, auth=member_auth)
def revoke_token(request: AuthedRequest, token_id: int) -> Status[None]:
    if not services.revoke_token(member=request.auth, token_id=token_id):
        raise not_found()
    return Status(204, None)


@router.get("/accounts/me", response=PrivateAccountOut, auth=member_auth)
def me(request: AuthedRequest) -> Member:
    return request.auth


@router.patch("/accounts/me", response=PrivateAccountOut, auth=member_auth)
def update_me(request: AuthedRequest, payload: ProfilePatch) -> Member:
    return services.update_profile(member=request.auth, **payload.dict(exclude_unset=True))


@router.post("/accounts/me/avatar", response=PrivateAccountOut, auth=member_auth)
def upload_avatar(request: AuthedRequest, file: File[UploadedFile]) -> Member:
    return services.set_avatar(member=request.auth, upload=file)


@router.get("/accounts/me/follow-requests", response=AccountPage, auth=member_auth)
def follow_requests(
    request: AuthedRequest, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)
) -> dict[str, Any]:
    """Members waiting for approval to follow the signed-in (private) member, newest first."""
    return _member_page(queries.follow_requests(request.auth), "requester", cursor, limit)


def _requester(request: AuthedRequest, username: str) -> Member:
    """Who sent the signed-in member the pending request; 404 when there is no such request."""
    pending = queries.pending_request(request.auth, username)
    if pending is None:
        raise not_found()
    return pending.requester


@router.post(
    "/accounts/me/follow-requests/{username}/approve",
    response=RelationshipOut,
    auth=member_auth,
)
def approve_follow_request(request: AuthedRequest, username: str) -> dict[str, Any]:
    requester = _requester(request, username)
    services.approve_follow_request(member=request.auth, requester=requester)
    return _relationship(request.auth, requester)


@router.post(
    "/accounts/me/follow-requests/{username}/decline",
    response=RelationshipOut,
    auth=member_auth,
)
def decline_follow_request(request: AuthedRequest, username: str) -> dict[str, Any]:
    requester = _requester(request, username)
    services.decline_follow_request(member=request.auth, requester=requester)
    return _relationship(request.auth, requester)


@router.get("/accounts/{username}", response=ProfileOut, auth=None)
def profile(request: HttpRequest, username: str) -> ProfileOut:
    member = _target(request, username)
    viewer = viewer_of(request)
    data = ProfileOut.from_orm(member)
    if viewer is not None and viewer.pk != member.pk:
        data.relationship = RelationshipOut(**_relationship(viewer, member))
    return data


def _member_page(
    follows: QuerySet[Follow] | QuerySet[FollowRequest], side: str, cursor: str | None, limit: int
) -> dict[str, Any]:
    """A page of the members on ``side`` of ``follows`` (or requests), most recent first."""
    rows, next_cursor = paginate(
        follows, cursor=cursor, limit=limit, ordering=("-created_at", "-pk")
    )
    return {"items": [getattr(row, side) for row in rows], "next_cursor": next_cursor}


@router.get("/accounts/{username}/followers", response=AccountPage, auth=None)
def followers(
    request: HttpRequest,
    username: str,
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    member = _target(request, username)
    return _member_page(queries.followers(member), "follower", cursor, limit)


@router.get("/accounts/{username}/following", response=AccountPage, auth=None)
def following(
    request: HttpRequest,
    username: str,
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    member = _target(request, username)
    return _member_page(queries.following(member), "followee", cursor, limit)


@router.post("/accounts/{username}/follow", response=RelationshipOut, auth=member_auth)
def follow(request: AuthedRequest, username: str) -> dict[str, Any]:
    target = _target(request, username)
    services.follow(member=request.auth, target=target)
    return _relationship(request.auth, target)


@router.delete("/accounts/{username}/follow", response=RelationshipOut, auth=member_auth)
def unfollow(request: AuthedRequest, username: str) -> dict[str, Any]:
    """Unfollow, or withdraw a pending follow request."""
    target = _target(request, username)
    services.unfollow(member=request.auth, target=target)
    return _relationship(request.auth, target)


@router.post("/accounts/{username}/block", response=RelationshipOut, auth=member_auth)
def block(request: AuthedRequest, username: str) -> dict[str, Any]:
    target = _blockable(username)
    services.block(member=request.auth, target=target)
    return _relationship(request.auth, target)


@router.delete("/accounts/{username}/block", response=RelationshipOut, auth=member_auth)
def unblock(request: AuthedRequest, username: str) -> dict[str, Any]:
    target = _blockable(username)
    services.unblock(member=request.auth, target=target)
    return _relationship(request.auth, target)


@router.post("/accounts/{username}/mute", response=RelationshipOut, auth=member_auth)
def mute(request: AuthedRequest, username: str) -> dict[str, Any]:
    target = _target(request, username)
    services.mute(member=request.auth, target=target)
    return _relationship(request.auth, target)


@router.delete("/accounts/{username}/mute", response=RelationshipOut, auth=member_auth)
def unmute(request: AuthedRequest, username: str) -> dict[str, Any]:
    target = _blockable(username)
    services.unmute(member=request.auth, target=target)
    return _relationship(request.auth, target)
