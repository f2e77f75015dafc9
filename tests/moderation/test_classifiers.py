"""Automated text signals: operator keyword rules, English profanity and spam heuristics."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from papercrane.moderation.classifiers import (
    PROFANITY_HIDE_THRESHOLD,
    InvalidPatternError,
    KeywordMatcher,
    PatternSpec,
    classify_text,
    classify_texts,
    find_links,
    is_english,
    profanity_signals,
    spam_signals,
    toxicity,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
OLD_ACCOUNT = timedelta(days=400)
NEW_ACCOUNT = timedelta(days=2)


def matcher(*specs: PatternSpec) -> KeywordMatcher:
    return KeywordMatcher.from_specs(specs)


def rules_hit(m: KeywordMatcher, text: str, language: str) -> list[str]:
    return [signal.rule_code for signal in m.signals(text, language)]


def spam(
    text: str,
    *,
    account_age: timedelta = OLD_ACCOUNT,
    recent_texts: list[str] | None = None,
    recent_post_times: list[datetime] | None = None,
) -> dict[str, bool]:
    """{label: high_confidence} of the spam signals for a post made at NOW."""
    found = spam_signals(
        text,
        account_age=account_age,
        recent_texts=recent_texts or [],
        recent_post_times=recent_post_times or [],
        now=NOW,
    )
    return {signal.label: signal.high_confidence for signal in found}


# --- Keyword rules ---------------------------------------------------------------------------


def test_a_traditional_script_pattern_catches_simplified_text() -> None:
    m = matcher(PatternSpec("賭博", "gambling"))
    assert rules_hit(m, "周末一起去赌博吧", "zh-Hans") == ["gambling"]


def test_a_simplified_pattern_catches_traditional_text() -> None:
    m = matcher(PatternSpec("赌博", "gambling"))
    assert rules_hit(m, "週末一起去賭博吧", "zh-Hant") == ["gambling"]


def test_a_chinese_pattern_matches_where_the_text_is_segmented_differently() -> None:
    # "代开" alone segments as 代 / 开, but in "代开发票" as 代 / 开发 / 发票.
    m = matcher(PatternSpec("代開", "invoices"))
    assert rules_hit(m, "专业代开发票，价格优惠", "zh-Hans") == ["invoices"]


def test_a_chinese_pattern_survives_spaces_and_symbols_between_its_characters() -> None:
    m = matcher(PatternSpec("赌博", "gambling"))
    assert rules_hit(m, "来 赌-博 吧", "zh-Hans") == ["gambling"]


def test_an_english_pattern_does_not_match_inside_a_longer_word() -> None:
    m = matcher(PatternSpec("ass", "insult", "en"))
    assert rules_hit(m, "The class read a passage about grass.", "en") == []
    assert rules_hit(m, "What an ASS.", "en") == ["insult"]


def test_an_english_pattern_catches_other_forms_of_the_word() -> None:
    m = matcher(PatternSpec("spam", "spam-words", "en"))
    assert rules_hit(m, "Stop spamming the thread", "en") == ["spam-words"]


def test_a_phrase_matches_only_as_consecutive_words() -> None:
    m = matcher(PatternSpec("free money", "scam", "en"))
    assert rules_hit(m, "Get FREE  money now!", "en") == ["scam"]
    assert rules_hit(m, "Money is never free.", "en") == []


def test_a_rule_for_one_language_leaves_the_other_alone() -> None:
    m = matcher(PatternSpec("bad", "en-only", "en"), PatternSpec("坏", "zh-only", "zh"))
    assert rules_hit(m, "bad 坏", "en") == ["en-only"]
    assert rules_hit(m, "bad 坏", "zh-Hant") == ["zh-only"]


def test_a_text_of_unknown_language_meets_every_rule() -> None:
    m = matcher(PatternSpec("bad", "en-only", "en"), PatternSpec("坏", "zh-only", "zh"))
    assert rules_hit(m, "bad 坏", "") == ["en-only", "zh-only"]


def test_a_regular_expression_matches_the_normalised_text() -> None:
    m = matcher(PatternSpec(r"wechat\s*[:：]?\s*\w+", "contact", is_regex=True))
    assert rules_hit(m, "add my ＷＥＣＨＡＴ： abc123", "en") == ["contact"]


def test_a_traditional_regular_expression_matches_simplified_text() -> None:
    m = matcher(PatternSpec(r"加[微薇]信", "contact", is_regex=True))
    assert rules_hit(m, "请加薇信聊", "zh-Hans") == ["contact"]
    m = matcher(PatternSpec(r"聯繫\d+", "contact", is_regex=True))
    assert rules_hit(m, "联系123", "zh-Hans") == ["contact"]


def test_a_hostile_regular_expression_cannot_hang(caplog: pytest.LogCaptureFixture) -> None:
    m = matcher(
        PatternSpec(r"(x+x+)+y", "hostile", is_regex=True), PatternSpec("hello", "greeting")
    )
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        found = rules_hit(m, "hello " + "x" * 5000, "en")
    assert time.perf_counter() - started < 1.0
    assert found == ["greeting"]
    assert "hostile" in caplog.text
    assert "xxxx" not in caplog.text  # the rule is logged, never the member's text


@pytest.mark.parametrize(
    "spec",
    [
        PatternSpec("(unclosed", "broken", is_regex=True),
        PatternSpec("   ", "broken"),
        PatternSpec("!!!", "broken"),
    ],
)
def test_an_unusable_pattern_is_refused_naming_its_rule(spec: PatternSpec) -> None:
    with pytest.raises(InvalidPatternError, match="broken"):
        KeywordMatcher.from_specs([spec])


def test_only_a_hiding_rule_gives_a_high_confidence_signal() -> None:
    m = matcher(PatternSpec("scam", "hide-me", hides=True), PatternSpec("deal", "queue-me"))
    signals = {s.rule_code: s for s in m.signals("a scam deal", "en")}
    assert signals["hide-me"].high_confidence
    assert not signals["queue-me"].high_confidence
    assert signals["hide-me"].source == "keyword" and signals["hide-me"].detail == "scam"


# --- Profanity -------------------------------------------------------------------------------


def test_clearly_profane_english_is_flagged_and_hidden() -> None:
    [signal] = profanity_signals("Shut the fuck up, you stupid piece of shit", "en")
    assert signal.source == "profanity" and signal.label == "profanity"
    assert signal.score >= PROFANITY_HIDE_THRESHOLD and signal.high_confidence


def test_a_mild_word_is_queued_but_not_hidden() -> None:
    [signal] = profanity_signals("damn it", "en")
    assert not signal.high_confidence


def test_a_chinese_sentence_is_never_sent_to_the_english_model() -> None:
    text = "你这个 idiot，真 stupid"
    assert toxicity([text])[0] > 0.9  # the model would flag it…
    assert not is_english(text, "zh-Hans")
    assert not is_english(text, "")  # …even when its language is unknown
    assert profanity_signals(text, "zh-Hans") == []
    assert classify_texts([text], ["zh-Hans"], matcher()) == [[]]


def test_english_of_unknown_language_is_still_checked() -> None:
    assert [s.label for s in profanity_signals("fuck you", "")] == ["profanity"]


def test_the_model_gives_the_libraries_own_probabilities() -> None:
    from profanity_check import predict_prob

    texts = ["you are an idiot", "lovely photo of the lake", "what the hell", "I hate Mondays"]
    assert toxicity(texts) == pytest.approx(list(predict_prob(texts)), abs=1e-9)


# --- Spam ------------------------------------------------------------------------------------


def test_a_new_accounts_link_is_flagged_but_an_old_accounts_is_not() -> None:
    text = "Great deals at https://example.com/shop"
    assert spam(text, account_age=NEW_ACCOUNT) == {"spam.new_account_link": False}
    assert spam(text, account_age=OLD_ACCOUNT) == {}


@pytest.mark.parametrize(
    "text",
    [
        "buy at cheap-bags.shop",
        "加我 example。com",
        "see example．com",
        "see example(.)com",
        "see example [dot] com",
        "see example dot com",
        "看 example点com",
        "ｗｗｗ．example．ｃｏｍ",
    ],
)
def test_bare_and_disguised_domains_count_as_links(text: str) -> None:
    assert find_links(text), text


@pytest.mark.parametrize(
    "text", ["I love node.js, e.g. for scripts", "pi is 3.14", "write to me@example.org"]
)
def test_ordinary_dotted_words_and_addresses_are_not_links(text: str) -> None:
    assert find_links(text) == []


def test_a_link_keeps_off_the_sentence_punctuation_after_it() -> None:
    assert find_links("Look: www.example.cn, it is great.") == ["www.example.cn"]


def test_the_same_text_posted_again_with_a_changed_emoji_is_flagged_as_repeated() -> None:
    earlier = "Check out my profile for amazing skincare tips and giveaways 🌸"
    again = "Check out my profile for amazing skincare tips and giveaways 🔥🔥"
    assert spam(again, recent_texts=[earlier, "another thing entirely"]) == {
        "spam.repeated_text": False
    }


def test_a_changed_number_or_word_does_not_evade_the_repeat_check() -> None:
    earlier = "限时优惠 今天下单立减 50 元 快来我的主页看看吧 数量有限"
    again = "限时优惠 今天下单立减 80 元 快来我的主页看看吧 数量有限"
    assert "spam.repeated_text" in spam(again, recent_texts=[earlier])
    earlier = (
        "join our channel for the best daily crypto signals and free trading tips every "
        "morning before the market opens, link in my profile"
    )
    again = earlier.replace("channel", "group")
    assert "spam.repeated_text" in spam(again, recent_texts=[earlier])


def test_a_short_reply_said_again_is_not_spam() -> None:
    assert spam("Thanks so much!", recent_texts=["Thanks so much!"] * 5) == {}


def test_a_different_text_is_not_a_repeat() -> None:
    earlier = "The hotpot place near the river has the best tripe I have eaten"
    assert spam("We walked along the river at sunset and took photos", recent_texts=[earlier]) == {}


def test_a_fourth_copy_is_hidden_pending_review() -> None:
    text = "Follow me for daily outfit inspiration and styling ideas"
    assert spam(text, recent_texts=[text] * 2) == {"spam.repeated_text": False}
    assert spam(text, recent_texts=[text] * 3) == {"spam.repeated_text": True}


def test_a_burst_of_posts_is_flagged() -> None:
    burst = [NOW - timedelta(seconds=30 * i) for i in range(1, 11)]
    assert spam("nice", recent_post_times=burst) == {"spam.burst": False}


def test_posts_spread_over_the_day_are_not_a_burst() -> None:
    spread = [NOW - timedelta(minutes=20 * i) for i in range(1, 30)]
    assert spam("nice", recent_post_times=spread) == {}


def test_two_spam_heuristics_together_hide_the_post() -> None:
    text = "Cheap followers at growfast.xyz, message me today for a trial"
    assert spam(text, account_age=NEW_ACCOUNT, recent_texts=[text]) == {
        "spam.new_account_link": True,
        "spam.repeated_text": True,
    }


# --- Together --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("What a lovely photo, thanks for sharing the recipe!", "en"),
        ("照片好美，谢谢分享食谱！", "zh-Hans"),
    ],
)
def test_a_friendly_comment_gives_no_signal(text: str, language: str) -> None:
    m = matcher(PatternSpec("ass", "insult", "en"), PatternSpec("赌博", "gambling", "zh"))
    assert classify_text(text, language, m) == []
    assert spam(text, account_age=NEW_ACCOUNT, recent_texts=["Hello there, nice to meet you"]) == {}


def test_a_batch_gives_the_same_signals_as_one_at_a_time() -> None:
    m = matcher(PatternSpec("賭博", "gambling"), PatternSpec("scam", "scam", "en", hides=True))
    texts = ["this is a scam", "一起去赌博", "fuck off", "lovely day", "", "你真stupid"]
    languages = ["en", "zh-Hans", "en", "en", "en", "zh-Hans"]
    assert classify_texts(texts, languages, m) == [
        classify_text(text, language, m) for text, language in zip(texts, languages, strict=True)
    ]
    with pytest.raises(ValueError, match="one language per text"):
        classify_texts(texts, languages[:2], m)
