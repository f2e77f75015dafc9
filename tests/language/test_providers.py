"""Provider clients against a local double of each service: requests, errors, retries,
placeholders, caching and the chain."""

from __future__ import annotations

from typing import Any

import pytest

from papercrane.language import providers, services
from papercrane.language.models import Translation
from tests.language.translation_double import TranslationDouble

OPTIONS: dict[str, Any] = {"timeout": 2.0, "retries": 2}


def waits() -> tuple[list[float], Any]:
    slept: list[float] = []
    return slept, slept.append


def test_libretranslate_request_and_answer(double: TranslationDouble) -> None:
    provider = providers.LibreTranslate(double.url, "secret", **OPTIONS)

    assert provider.translate(["你好", "再见"], "zh-Hans", "en") == ["[en] 你好", "[en] 再见"]

    sent = double.requests[0]
    assert sent.path == "/translate"
    assert sent.body == {
        "q": ["你好", "再见"],
        "source": "zh",
        "target": "en",
        "format": "text",
        "api_key": "secret",
    }


def test_deepl_request_headers_and_codes(double: TranslationDouble) -> None:
    provider = providers.DeepL("key:fx", double.url, **OPTIONS)

    assert provider.translate(["hello"], "en", "zh-Hans") == ["[ZH-HANS] HELLO"]

    sent = double.requests[0]
    assert sent.path == "/v2/translate"
    assert sent.headers["Authorization"] == "DeepL-Auth-Key key:fx"
    assert sent.body == {"text": ["hello"], "source_lang": "EN", "target_lang": "ZH-HANS"}


def test_deepl_free_keys_go_to_the_free_host() -> None:
    assert providers.DeepL("abc:fx", **OPTIONS).url == "https://api-free.deepl.com/v2/translate"
    assert providers.DeepL("abc", **OPTIONS).url == "https://api.deepl.com/v2/translate"


def test_openai_compatible_prompt_and_answer(double: TranslationDouble) -> None:
    provider = providers.OpenAICompatible(double.url + "/v1", "sk-test", "qwen", **OPTIONS)

    assert provider.translate(["周末去吃火锅 [[0]]"], "zh-Hans", "en") == [
        "[qwen] 周末去吃火锅 [[0]]"
    ]

    sent = double.requests[0]
    assert sent.headers["Authorization"] == "Bearer sk-test"
    assert sent.body["temperature"] == 0
    system = sent.body["messages"][0]["content"]
    assert "Simplified Chinese" in system and "English" in system and "[[0]]" in system


@pytest.mark.parametrize(
    ("status", "reason"), [(401, "rejected"), (403, "rejected"), (400, "rejected")]
)
def test_client_errors_are_not_retried(double: TranslationDouble, status: int, reason: str) -> None:
    double.answer_next(status, {"error": "no"})
    provider = providers.LibreTranslate(double.url, "", **OPTIONS)

    with pytest.raises(providers.TranslationFailed) as failure:
        provider.translate(["hi"], "en", "zh-Hans")

    assert failure.value.reason == reason
    assert len(double.requests) == 1


def test_unsupported_pair_is_told_apart(double: TranslationDouble) -> None:
    double.answer_next(400, {"error": "ko is not supported"})
    with pytest.raises(providers.TranslationFailed) as failure:
        providers.LibreTranslate(double.url, "", **OPTIONS).translate(["hi"], "en", "ko")
    assert failure.value.reason == "unsupported"


def test_deepl_quota_is_reported_without_retrying(double: TranslationDouble) -> None:
    double.answer_next(456, {"message": "Quota exceeded"})
    with pytest.raises(providers.TranslationFailed) as failure:
        providers.DeepL("k", double.url, **OPTIONS).translate(["hi"], "en", "zh-Hans")
    assert failure.value.reason == "quota"
    assert len(double.requests) == 1


def test_429_and_5xx_are_retried_with_the_servers_wait(double: TranslationDouble) -> None:
    double.answer_next(429, {"error": "slow down"}, {"Retry-After": "3"})
    double.answer_next(503, {"error": "busy"})
    slept, sleep = waits()
    provider = providers.LibreTranslate(double.url, "", sleep=sleep, **OPTIONS)

    assert provider.translate(["hi"], "en", "zh-Hans") == ["[zh] HI"]

    assert len(double.requests) == 3
    assert slept == [3.0, providers.BACKOFF_SECONDS * 2]


def test_a_huge_retry_after_is_capped(double: TranslationDouble) -> None:
    double.answer_next(429, {}, {"Retry-After": "86400"})
    slept, sleep = waits()
    providers.LibreTranslate(double.url, "", sleep=sleep, **OPTIONS).translate(["a"], "en", "fr")
    assert slept == [providers.MAX_RETRY_WAIT_SECONDS]


def test_still_rate_limited_after_retries_is_a_quota_failure(double: TranslationDouble) -> None:
    for _ in range(3):
        double.answer_next(429, {}, {"Retry-After": "0"})
    with pytest.raises(providers.TranslationFailed) as failure:
        providers.LibreTranslate(double.url, "", **OPTIONS).translate(["hi"], "en", "zh-Hans")
    assert failure.value.reason == "quota"
    assert len(double.requests) == 3


def test_a_slow_service_times_out(double: TranslationDouble) -> None:
    double.delay = 0.5
    slept, sleep = waits()
    provider = providers.LibreTranslate(double.url, "", timeout=0.1, retries=1, sleep=sleep)
    with pytest.raises(providers.TranslationFailed) as failure:
        provider.translate(["hi"], "en", "zh-Hans")
    assert failure.value.reason == "unavailable"
    assert len(slept) == 1


def test_a_service_that_is_down_is_unavailable() -> None:
    provider = providers.LibreTranslate("http://127.0.0.1:9", "", timeout=0.5, retries=0)
    with pytest.raises(providers.TranslationFailed) as failure:
        provider.translate(["hi"], "en", "zh-Hans")
    assert failure.value.reason == "unavailable"


@pytest.mark.parametrize(
    "body", ["not json", {"translatedText": 3}, {"translatedText": ["one", "two", "three"]}]
)
def test_malformed_answers_are_failures(double: TranslationDouble, body: Any) -> None:
    double.answer_next(200, body)
    with pytest.raises(providers.TranslationFailed):
        providers.LibreTranslate(double.url, "", **OPTIONS).translate(["a", "b"], "en", "fr")


def test_topics_mentions_links_and_emoji_survive() -> None:
    text = "周末吃火锅 #成都美食 @alice_w 🍲🔥 https://example.org/a?b=1"
    masked, spans = providers.protect(text)

    assert masked == "周末吃火锅 [[0]] [[1]] [[2]] [[3]]"
    assert spans == ["#成都美食", "@alice_w", "🍲🔥", "https://example.org/a?b=1"]
    # Translators hand placeholders back in other shapes, or drop them.
    assert providers.restore("Hotpot ［［0］］ [[ 1 ]] 【3】", spans) == (
        "Hotpot #成都美食 @alice_w https://example.org/a?b=1 🍲🔥"
    )


@pytest.mark.django_db
def test_translate_caches_and_keeps_what_must_survive(libretranslate: TranslationDouble) -> None:
    text = "周末吃火锅 #成都美食 @alice_w"

    first = services.translate([text, ""], "en", "zh-Hans")
    again = services.translate([text], "en", "zh-Hans")

    assert first.texts == ["[en] 周末吃火锅 #成都美食 @alice_w", ""]
    assert first.provider == again.provider == "libretranslate"
    assert again.texts == first.texts[:1]
    assert len(libretranslate.requests) == 1  # the second came from the cache
    assert libretranslate.requests[0].body["q"] == ["周末吃火锅 [[0]] [[1]]"]
    assert Translation.objects.count() == 1


@pytest.mark.django_db
def test_the_chain_falls_through_to_the_next_provider(
    double: TranslationDouble, settings: Any
) -> None:
    settings.TRANSLATION_PROVIDERS = ["deepl", "libretranslate"]
    settings.DEEPL_API_KEY, settings.DEEPL_URL = "k", double.url
    settings.LIBRETRANSLATE_URL = double.url
    double.answer_next(456, {"message": "Quota exceeded"})

    result = services.translate(["hello"], "zh-Hans", "en")

    assert result.provider == "libretranslate"
    assert [r.path for r in double.requests] == ["/v2/translate", "/translate"]


@pytest.mark.django_db
def test_no_provider_at_all_says_so(settings: Any) -> None:
    settings.TRANSLATION_PROVIDERS = []
    with pytest.raises(services.TranslationUnavailable) as failure:
        services.translate(["你好世界"], "en")
    assert failure.value.reason == "unconfigured"


@pytest.mark.django_db
def test_argos_without_the_package_is_skipped(settings: Any) -> None:
    settings.TRANSLATION_PROVIDERS = ["argos"]
    with pytest.raises(services.TranslationUnavailable) as failure:
        services.translate(["你好世界"], "en")
    assert failure.value.reason in {"unavailable", "unsupported"}


@pytest.mark.django_db
def test_same_language_and_script_changes_need_no_provider(settings: Any) -> None:
    settings.TRANSLATION_PROVIDERS = []

    same = services.translate(["Hello there"], "en")
    script = services.translate(["臺灣的夜市"], "zh-Hans")

    assert (same.texts, same.provider) == (["Hello there"], "")
    assert (script.texts, script.source, script.provider) == (["台湾的夜市"], "zh-Hant", "opencc")
