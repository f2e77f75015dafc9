"""Learning aids on real output: jieba segmentation, pypinyin readings, CC-CEDICT meanings."""

from __future__ import annotations

from papercrane.language.gloss import gloss, marked_pinyin, meaning_key


def words(text: str) -> dict[str, tuple[str, list[str]]]:
    return {s.text: (s.pinyin, [m for e in s.entries for m in e.meanings]) for s in gloss(text)}


def test_readings_follow_context() -> None:
    found = words("银行行长在行走")
    assert found["银行"][0] == "yín háng"
    assert found["行走"][0] == "xíng zǒu"


def test_meanings_come_from_the_dictionary() -> None:
    found = words("周末吃火锅")
    assert found["周末"] == ("zhōu mò", ["weekend"])
    assert found["火锅"] == ("huǒ guō", ["hotpot"])
    assert "to eat" in found["吃"][1]


def test_unknown_compounds_split_into_known_words() -> None:
    assert [s.text for s in gloss("吃火锅") if s.kind == "zh"] == ["吃", "火锅"]


def test_traditional_text_is_looked_up_too() -> None:
    assert "hotpot" in words("火鍋")["火鍋"][1]


def test_english_words_get_chinese_translations() -> None:
    segments = {s.text: s for s in gloss("I like hotpot")}
    assert segments["hotpot"].kind == "en"
    assert segments["hotpot"].entries[0].simplified == "火锅"
    assert segments["like"].entries[0].simplified == "喜欢"


def test_the_text_is_given_back_whole() -> None:
    text = "周末去 Shanghai citywalk！🍲 #美食\n第二行"
    assert "".join(s.text for s in gloss(text)) == text


def test_pinyin_numbers_become_tone_marks() -> None:
    assert marked_pinyin("huo3 guo1") == "huǒ guō"
    assert marked_pinyin("lu:4") == "lǜ"


def test_meaning_keys() -> None:
    assert meaning_key("to like") == "like"
    assert meaning_key("hotpot (dish)") == "hotpot"
    assert meaning_key("a very long definition of many words") == ""
