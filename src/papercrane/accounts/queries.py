"""Read paths for accounts: lookups by name and token, profiles as a viewer may see them."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from papercrane.accounts.models import ApiToken, Block, Follow, Member
from papercrane.accounts.services import hash_token


def member_by_username(username: str) -> Member | None:
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


def token_for_secret(secret: str) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("member")
        .filter(token_hash=hash_token(secret), revoked_at__isnull=True, member__is_active=True)
        .first()
    )


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


def relationship(viewer: Member, other: Member) -> dict[str, bool]:
    return {
        "following": Follow.objects.filter(follower=viewer, followee=other).exists(),
        "followed_by": Follow.objects.filter(follower=other, followee=viewer).exists(),
        "blocking": Block.objects.filter(blocker=viewer, blocked=other).exists(),
    }


def search_members(text: str, limit: int = 20) -> list[Member]:
    """Members whose username or display name contains ``text`` (until the search index lands)."""
    text = text.strip()
    if not text:
        return []
    return list(
        Member.objects.filter(is_active=True)
        .filter(Q(username__icontains=text) | Q(display_name__icontains=text))
        .order_by("-follower_count", "username")[:limit]
    )
