"""The data inventory: every kind of personal data Papercrane keeps, why, for how long, on what
legal basis and who can see it, and the models that hold it.

One source of truth: the "Your data" page, the privacy policy, the export and the erasure all
read this. A test fails when a model that refers to a member (or holds an address or a user
agent) is not declared here, so nothing new is stored without being explained.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.models import Model, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Holder:
    """A model holding a category's data, and how its rows belong to a member."""

    model: str  # "app_label.ModelName"
    member_fields: tuple[str, ...]  # lookups to the member: a row is theirs if any matches
    exported: bool = True  # False: derived or system data, described but not in the zip

    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)

    def rows_of(self, member_id: int) -> QuerySet[Model]:
        condition = Q()
        for lookup in self.member_fields:
            condition |= Q(**{lookup: member_id})
        return self.model_class()._default_manager.filter(condition)


@dataclass(frozen=True)
class Category:
    key: str
    title: Promise
    what: Promise  # what is kept
    purpose: Promise
    retention: Promise
    legal_basis: Promise
    visible_to: Promise
    holders: tuple[Holder, ...]


CONTRACT = _("Contract: needed to provide the service you signed up for (GDPR art. 6(1)(b))")
CONSENT = _("Consent: only while you keep the setting on (GDPR art. 6(1)(a))")
LEGITIMATE = _("Legitimate interest: keeping the service safe (GDPR art. 6(1)(f))")
LEGAL_DUTY = _("Legal obligation: the EU Digital Services Act (GDPR art. 6(1)(c))")
WHILE_ACCOUNT = _("As long as your account exists; erased 30 days after you delete it")

CATEGORIES: tuple[Category, ...] = (
    Category(
        "profile",
        _("Profile and account"),
        _(
            "Username, display name, bio, avatar, e-mail address, password hash, language, time "
            "zone, city for Nearby, and your settings"
        ),
        _("To run your account and show your profile"),
        WHILE_ACCOUNT,
        CONTRACT,
        _("Everyone sees your username, display name, bio and avatar; the rest only you"),
        (Holder("accounts.Member", ("pk",)),),
    ),
    Category(
        "notes",
        _("Notes and photos"),
        _(
            "Your notes and drafts, their photos (without any metadata), topics, places you typed "
            "and the members you mentioned"
        ),
        _("To publish what you post to the audience you choose"),
        WHILE_ACCOUNT,
        CONTRACT,
        _("The audience you choose for each note; drafts only you"),
        (
            Holder("notes.Note", ("author",)),
            Holder("notes.Mention", ("member", "note__author")),
            Holder("notes.NoteTopic", ("note__author",), exported=False),
            Holder("media.Media", ("owner",)),
        ),
    ),
    Category(
        "comments",
        _("Comments"),
        _("Your comments and replies, and the members you mentioned in them"),
        _("To publish your comments under notes"),
        WHILE_ACCOUNT,
        CONTRACT,
        _("Everyone who can see the note"),
        (
            Holder("engagement.Comment", ("author",)),
            Holder("engagement.CommentMention", ("member", "comment__author")),
        ),
    ),
    Category(
        "live",
        _("Live rooms"),
        _(
            "The live rooms you opened or co-hosted, your chat messages in live rooms (with "
            "their translations), and whom you muted or banned in your rooms, or who did so to you"
        ),
        _("To run live rooms and keep their transcripts readable after they end"),
        WHILE_ACCOUNT,
        CONTRACT,
        _(
            "Rooms and chat: everyone who can see the room; mutes and bans: the room's hosts "
            "and the member concerned"
        ),
        (
            Holder("live.Room", ("host",)),
            Holder("live.CoHost", ("member",)),
            Holder("live.Message", ("author",)),
            Holder("live.Restriction", ("member", "by")),
        ),
    ),
    Category(
        "likes",
        _("Likes"),
        _("The notes and comments you liked"),
        _("To count likes and show you what you liked"),
        WHILE_ACCOUNT,
        CONTRACT,
        _("The note's author sees who liked it; others only if you make your likes public"),
        (
            Holder("engagement.Like", ("member",)),
            Holder("engagement.CommentLike", ("member",)),
        ),
    ),
    Category(
        "collects",
        _("Collects and boards"),
        _("The notes you collected and your boards"),
        _("To keep what you collect, in boards you name"),
        WHILE_ACCOUNT,
        CONTRACT,
        _("Public boards: everyone; private boards: only you"),
        (
            Holder("engagement.Collect", ("member",)),
            Holder("engagement.Board", ("owner",)),
            Holder("engagement.BoardEntry", ("board__owner",)),
        ),
    ),
    Category(
        "follows",
        _("Follows, blocks and mutes"),
        _("Whom you follow and who follows you, follow requests, whom you blocked or muted"),
        _("To build your Following feed and keep away whom you do not want to hear from"),
        WHILE_ACCOUNT,
        CONTRACT,
        _("Follows: everyone; follow requests, blocks and mutes: only you"),
        (
            Holder("accounts.Follow", ("follower", "followee")),
            Holder("accounts.FollowRequest", ("requester", "target")),
            Holder("accounts.Block", ("blocker",)),
            Holder("accounts.Mute", ("muter",)),
        ),
    ),
    Category(
        "notifications",
        _("Notifications"),
        _("What others did with your posts, and whether you read it"),
        _("To tell you about likes, comments, follows and moderation decisions"),
        _("As long as your account exists"),
        CONTRACT,
        _("Only you"),
        (Holder("notifications.Notification", ("recipient", "actor"), exported=True),),
    ),
    Category(
        "explore",
        _("Explore personalization"),
        _(
            "Topics you chose, 'not interested' and 'fewer like this', which notes Explore showed "
            "you and how long you read them (per day), and the profile computed from them"
        ),
        _("To choose notes for you on Explore"),
        _("Impressions and reading time: 90 days; the rest until you turn personalization off"),
        CONSENT,
        _("Only you"),
        (
            Holder("feed.ChosenTopic", ("member",)),
            Holder("feed.Feedback", ("member",)),
            Holder("feed.ShownDay", ("member",)),
            Holder("feed.Impression", ("member",)),
            Holder("feed.Profile", ("member",), exported=False),
            Holder("feed.Ranking", ("member",), exported=False),
        ),
    ),
    Category(
        "search",
        _("Search history"),
        _("Your recent searches, only if you turned the history on"),
        _("To suggest what you searched before"),
        _("Until you clear it or turn it off"),
        CONSENT,
        _("Only you"),
        (Holder("search.HistoryEntry", ("member",)),),
    ),
    Category(
        "reports",
        _("Reports you filed"),
        _("What you reported, under which rule, your details and the outcome"),
        _("To review reports and tell you the outcome"),
        WHILE_ACCOUNT,
        LEGAL_DUTY,
        _("You and the moderators; the member you reported is never told who you are"),
        (Holder("moderation.Report", ("reporter",)),),
    ),
    Category(
        "decisions",
        _("Moderation decisions about you"),
        _(
            "Decisions that restricted your posts or account, their statements of reasons, your "
            "appeals, and the cases opened about your posts"
        ),
        _("To explain every restriction and let you appeal it"),
        _("As long as your account exists; statements kept after that contain no personal data"),
        LEGAL_DUTY,
        _("You and the moderators"),
        (
            Holder("moderation.Decision", ("subject", "moderator")),
            Holder("moderation.Appeal", ("member", "decided_by")),
            Holder("moderation.Case", ("subject",), exported=False),
            Holder("moderation.AuditEntry", ("actor",), exported=False),
        ),
    ),
    Category(
        "sessions",
        _("Sign-ins, sessions and API tokens"),
        _(
            "When and from which browser and address you signed in, your open sessions and your "
            "API tokens (stored hashed)"
        ),
        _("To keep your account secure and let you end sessions you do not recognise"),
        _("Addresses and browsers: 30 days; sign-in history: 90 days; tokens until revoked"),
        LEGITIMATE,
        _("Only you"),
        (
            Holder("privacy.SignIn", ("member",)),
            Holder("accounts.ApiToken", ("member",)),
        ),
    ),
    Category(
        "exports",
        _("Data exports"),
        _("The archives of your data you asked for"),
        _("To give you a copy of your data"),
        _("7 days after it is ready"),
        LEGAL_DUTY,
        _("Only you"),
        (Holder("privacy.ExportRequest", ("member",)),),
    ),
)


def categories() -> tuple[Category, ...]:
    return CATEGORIES


def category(key: str) -> Category | None:
    return next((found for found in CATEGORIES if found.key == key), None)


def holders() -> list[Holder]:
    return [holder for found in CATEGORIES for holder in found.holders]


def declared_models() -> set[str]:
    return {holder.model_class()._meta.label for holder in holders()}


def counts(member_id: int) -> dict[str, int]:
    """How many rows of each category the member has: the "Your data" page's live counts."""
    return {
        found.key: sum(holder.rows_of(member_id).count() for holder in found.holders)
        for found in CATEGORIES
    }
