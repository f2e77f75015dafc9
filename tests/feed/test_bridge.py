"""Explore's bridge: notes in the other language that read like what the member enjoyed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from papercrane.accounts.models import Member
from papercrane.cli import worker
from papercrane.engagement import services as engagement
from papercrane.notes.models import Note
from papercrane.search import semantic
from tests.helpers import ApiClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("semantic_search")]


def test_a_chinese_note_like_the_english_one_she_liked_is_bridged(
    alice: Member,
    make_member: Callable[..., Member],
    post: Callable[..., Note],
    as_member: Callable[[Member], ApiClient],
) -> None:
    knitter, cook = make_member("knitter"), make_member("cook", language="zh-Hans")
    scarf = post(knitter, "Knitting a winter scarf", body="Chunky wool, a simple rib stitch.")
    post(cook, "红烧肉的做法", body="五花肉切块，冰糖炒色，小火慢炖一小时。")
    chinese_scarf = post(cook, "冬天织一条围巾", body="粗毛线，简单的罗纹针，一个周末就能织好。")
    worker(["--batch"])  # embeddings
    engagement.like_note(member=alice, note=scarf)
    semantic.reset()

    items = as_member(alice).get("/feeds/explore").json()["items"]

    bridged = next(item for item in items if item["id"] == str(chinese_scarf.pk))
    assert bridged["why"]["kind"] == "similar_language"
    assert bridged["reason"] == "Like notes you enjoyed, in Chinese"
