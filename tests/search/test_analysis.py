"""Text analysis: the same tokens for what is indexed and what people type."""

from __future__ import annotations

from papercrane.search import analysis


def tokens_of(query: str) -> list[str]:
    return [term.token for term in analysis.query_terms(query)]


def test_traditional_chinese_folds_to_simplified() -> None:
    assert analysis.tokens("臺灣") == analysis.tokens("台湾") == ["台湾"]


def test_chinese_is_segmented_in_search_mode() -> None:
    found = analysis.tokens("中华人民共和国成都火锅")
    assert {"中华", "人民", "共和国", "中华人民共和国", "成都", "火锅"} <= set(found)


def test_english_is_case_folded_stemmed_and_stripped_of_accents() -> None:
    assert analysis.tokens("Cafés RUNNING cafe") == ["cafe", "run", "cafe"]
    assert analysis.tokens("ＦＵＬＬＷＩＤＴＨ") == analysis.tokens("fullwidth")


def test_mixed_text_keeps_both_scripts() -> None:
    assert analysis.tokens("周末去 Shanghai citywalk") == ["周末", "去", "shanghai", "citywalk"]


def test_topics_and_mentions_are_exact_tokens() -> None:
    found = analysis.tokens("好吃 #成都美食 #Travel @Alice_W")
    assert {"#成都美食", "#travel", "@alice_w"} <= set(found)
    assert analysis.topic_token("＃TRAVEL") == "#travel"


def test_pinyin_keys_for_chinese_words() -> None:
    assert analysis.pinyin_keys("成都火锅") == ["~chengdu", "~huoguo"]
    assert analysis.pinyin_key("成都美食") == "chengdumeishi"


def test_queries_drop_stopwords_unless_nothing_else_is_left() -> None:
    assert tokens_of("cafes in the city")[:2] == ["cafe", "citi"]
    assert tokens_of("the") == ["the"]
    assert "的" not in tokens_of("成都的火锅")


def test_latin_words_that_read_as_pinyin_also_look_for_pinyin_keys() -> None:
    assert "~huoguo" in tokens_of("huoguo")
    assert "~huoguo" in tokens_of("huo guo")  # syllables typed apart
    assert "~hello" not in tokens_of("hello")  # not pinyin
    weights = {term.token: term.weight for term in analysis.query_terms("chengdu")}
    assert weights["chengdu"] > weights["~chengdu"]


def test_query_syntax_and_hostile_input_are_just_words() -> None:
    assert tokens_of('NEAR("x" OR y*) -z') == ["near", "x", "y", "z"]
    assert tokens_of("'; DROP TABLE notes; --")[:3] == ["drop", "tabl", "note"]
    assert tokens_of("😀🍲") == []
    assert tokens_of("\ud800abc") == ["abc"]  # a lone surrogate is dropped
    assert tokens_of("   ") == []


def test_huge_queries_are_bounded() -> None:
    terms = analysis.query_terms("火锅 hotpot " * 5000)
    assert 0 < len(terms) <= analysis.MAX_QUERY_TERMS
    assert len(analysis.query_terms(" ".join(f"word{i}" for i in range(500)))) == 32


def test_stored_form_counts_each_occurrence() -> None:
    stored = analysis.join_tokens(["a", "a", "b"])
    assert stored == " a  a  b "
    assert stored.count(" a ") == 2
