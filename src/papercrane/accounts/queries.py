"""Read paths for accounts: lookups by name and token, profiles as a viewer may see them."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from papercrane import compiled
from papercrane.accounts.models import (
    ApiToken,
    Audience,
    Block,
    Follow,
    FollowRequest,
    Member,
    Mute,
)
from papercrane.accounts.services import hash_token


def signed_in(viewer: Member | None) -> Member | None:
    """The member, or None for nobody and for an anonymous user alike."""
    return viewer if viewer is not None and viewer.is_authenticated else None


def member_by_username(username: str) -> Member | None:
    if not username or "\x00" in username:  # PostgreSQL refuses NUL in text: no such member
        return None
    return Member.objects.filter(username__iexact=username, is_active=True).first()


def visible_member(viewer: Member | None, username: str) -> Member | None:
    """The member as ``viewer`` may see them: None when absent, inactive or blocked either way."""
    member = member_by_username(username)
    if member is None or viewer is None or not viewer.is_authenticated:
        return member
    blocked = Block.objects.filter(
        Q(blocker=viewer, blocked=member) | Q(blocker=member, blocked=viewer)
    ).exists()
    return None if blocked else member


TOKEN_FIELDS = tuple(field.attname for field in ApiToken._meta.concrete_fields)
MEMBER_FIELDS = tuple(field.attname for field in Member._meta.concrete_fields)


def token_for_secret(secret: str) -> ApiToken | None:
    """The live token with this secret, its member attached; compiled once (``compiled``):
    every API request asks, and building the query cost more than running it."""
    found = compiled.lookup("token for secret", _live_token, hash_token(secret))
    if not found:
        return None
    row = found[0]
    token = compiled.instance(ApiToken, TOKEN_FIELDS, row[: len(TOKEN_FIELDS)])
    token.member = compiled.instance(Member, MEMBER_FIELDS, row[len(TOKEN_FIELDS) :])
    return token


def _live_token(_ids: list[int], token_hash: str) -> QuerySet[ApiToken]:
    member = [f"member__{name}" for name in MEMBER_FIELDS]
    tokens = ApiToken.objects.filter(
        token_hash=token_hash, revoked_at__isnull=True, member__is_active=True
    )
    return tokens.values_list(*TOKEN_FIELDS, *member)[:1]


def live_tokens(member: Member) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(member=member, revoked_at__isnull=True)


def followers(member: Member) -> QuerySet[Follow]:
    return Follow.objects.filter(followee=member, follower__is_active=True).select_related(
        "follower"
    )


def following(member: Member) -> QuerySet[Follow]:
    return Follow.objects.filter(follower=member, followee__is_active=True).select_related(
        "followee"
    )


def follow_requests(member: Member) -> QuerySet[FollowRequest]:
    """Requests waiting for ``member``'s answer, with the requester loaded."""
    return FollowRequest.objects.filter(target=member, requester__is_active=True).select_related(
        "requester"
    )


def pending_request(target: Member, username: str) -> FollowRequest | None:
    """The request ``username`` sent to ``target``; None when there is none (or it is not
    ``target``'s to answer)."""
    requester = member_by_username(username)
    if requester is None:
        return None
    return follow_requests(target).filter(requester=requester).first()


def relationship(viewer: Member, other: Member) -> dict[str, bool]:
    return {
        "following": Follow.objects.filter(follower=viewer, followee=other).exists(),
        "followed_by": Follow.objects.filter(follower=other, followee=viewer).exists(),
        "blocking": Block.objects.filter(blocker=viewer, blocked=other).exists(),
        "requested": FollowRequest.objects.filter(requester=viewer, target=other).exists(),
        "muting": Mute.objects.filter(muter=viewer, muted=other).exists(),
    }


def muted_ids(member: Member | int) -> QuerySet[Mute, int]:
    """Ids of the members ``member`` muted, as a subquery: their content stays out of the
    muter's notifications and feeds (``.exclude(author__in=muted_ids(viewer))``)."""
    return Mute.objects.filter(muter=member).values_list("muted_id", flat=True)


def blocked_ids(member: Member | int) -> QuerySet[Block, int]:
    """Ids of the members ``member`` blocked, as a subquery."""
    return Block.objects.filter(blocker=member).values_list("blocked_id", flat=True)


def blocker_ids(member: Member | int) -> QuerySet[Block, int]:
    """Ids of the members who blocked ``member``, as a subquery."""
    return Block.objects.filter(blocked=member).values_list("blocker_id", flat=True)


def blocked_member(viewer: Member, username: str) -> Member | None:
    """A member ``viewer`` blocked (hidden from them otherwise), so they can still unblock."""
    member = member_by_username(username)
    if member is None or not Block.objects.filter(blocker=viewer, blocked=member).exists():
        return None
    return member


def accepting_from(setting: str, actor_id: int) -> Q:
    """A filter on members for those whose ``setting`` (``comments_from`` or
    ``mentions_from``) lets the member ``actor_id`` reach them: everyone, or their followers
    when ``actor_id`` follows them. A member always accepts themselves."""
    followed = Follow.objects.filter(follower_id=actor_id).values("followee")
    return (
        Q(**{setting: Audience.EVERYONE})
        | Q(**{setting: Audience.FOLLOWERS, "pk__in": followed})
        | Q(pk=actor_id)
    )


def accepts_from(member_id: int, setting: str, actor_id: int) -> bool:
    """Whether ``member_id`` accepts comments or mentions (``setting``) from ``actor_id``."""
    return Member.objects.filter(accepting_from(setting, actor_id), pk=member_id).exists()
