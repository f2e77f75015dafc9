"""Machine translation providers behind one interface, chained by configuration.

``PAPERCRANE_TRANSLATION_PROVIDERS`` names them in order of preference (``libretranslate``,
``deepl``, ``openai``, ``argos``); ``chain()`` builds the ones configured, and a text goes to the
first that can translate it. Every HTTP provider has a timeout, retries with exponential backoff
on 429, 5xx and network errors (honouring ``Retry-After`` up to a cap), and maps what the service
says to a ``TranslationFailed`` whose ``reason`` tells the chain what happened: "unsupported"
(this provider lacks the language pair), "quota" (out of quota or still rate limited), "rejected"
(a bad key or request), "unavailable" (down or not configured).

What must survive translation unchanged, #topics, @mentions, URLs and emoji, is swapped for
numbered placeholders before the text leaves (``protect``) and put back after (``restore``), so no
provider can translate "#火锅" into "#hotpot" or drop a link; the OpenAI-compatible prompt also
says so. Output is plain text: it is escaped like any other text wherever it is shown.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from django.conf import settings

from papercrane.notes.text import MENTION_PATTERN, TOPIC_PATTERN

MAX_RETRY_WAIT_SECONDS = 10.0
BACKOFF_SECONDS = 0.5

# Language names for prompts, and each provider's codes where they differ from ours.
NAMES = {
    "en": "English",
    "zh-Hans": "Simplified Chinese",
    "zh-Hant": "Traditional Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "pt": "Portuguese",
    "it": "Italian",
    "ru": "Russian",
    "vi": "Vietnamese",
    "id": "Indonesian",
}
_LIBRE_CODES = {"zh-Hans": "zh", "zh-Hant": "zt"}  # LibreTranslate and Argos


class TranslationFailed(Exception):
    def __init__(self, provider: str, reason: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.reason = reason


class Provider(Protocol):
    name: str

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """``texts`` (placeholders in place) in ``target``, in the same order."""
        ...


# What a translator must leave alone: URLs, #topics, @mentions, runs of emoji.
_EMOJI = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\u200d"
    "\U0001f1e6-\U0001f1ff]+"
)
_PROTECTED = re.compile(
    rf"https?://\S+|{TOPIC_PATTERN.pattern}|{MENTION_PATTERN.pattern}|{_EMOJI}", re.IGNORECASE
)
# A placeholder as sent ("[[3]]"), and as translators may hand it back ("［［3］］", "[[ 3 ]]").
_PLACEHOLDER = re.compile(r"[\[［【]{1,2}\s*(\d+)\s*[\]］】]{1,2}")


def protect(text: str) -> tuple[str, list[str]]:
    """``text`` with every protected span replaced by ``[[i]]``, and the spans."""
    spans: list[str] = []

    def hold(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"[[{len(spans) - 1}]]"

    return _PROTECTED.sub(hold, text), spans


def restore(translated: str, spans: list[str]) -> str:
    """The placeholders in ``translated`` swapped back; any a provider dropped are appended,
    so nothing the author wrote is lost."""
    used: set[int] = set()

    def put_back(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(spans):
            return match.group(0)
        used.add(index)
        return spans[index]

    restored = _PLACEHOLDER.sub(put_back, translated)
    missing = [span for index, span in enumerate(spans) if index not in used]
    return " ".join([restored, *missing]) if missing else restored


class HttpProvider:
    """A provider reached over HTTP: one client, timeouts, retries, error mapping."""

    name = "http"

    def __init__(
        self, *, timeout: float, retries: int, sleep: Callable[[float], None] = time.sleep
    ):
        self.client = httpx.Client(timeout=timeout)
        self.retries = retries
        self.sleep = sleep

    def post(self, url: str, **kwargs: Any) -> Any:
        """The JSON body of a successful POST, after retrying what is worth retrying."""
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.client.post(url, **kwargs)
            except httpx.TransportError as error:
                if last:
                    raise TranslationFailed(self.name, "unavailable", str(error)) from error
                self.sleep(BACKOFF_SECONDS * 2**attempt)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if last:
                    reason = "quota" if response.status_code == 429 else "unavailable"
                    raise TranslationFailed(self.name, reason, f"HTTP {response.status_code}")
                self.sleep(_wait(response, attempt))
                continue
            self.check(response)
            try:
                return response.json()
            except json.JSONDecodeError as error:
                raise TranslationFailed(self.name, "unavailable", "not JSON") from error
        raise AssertionError("unreachable")

    def check(self, response: httpx.Response) -> None:
        """Raise for a 4xx answer, saying why."""
        if response.status_code in (401, 403):
            raise TranslationFailed(self.name, "rejected", "the API key was refused")
        if response.status_code >= 400:
            raise TranslationFailed(
                self.name, "rejected", f"HTTP {response.status_code}: {response.text[:200]}"
            )


def _wait(response: httpx.Response, attempt: int) -> float:
    """How long to wait before retrying: the server's Retry-After if it gave one (capped)."""
    try:
        asked = float(response.headers.get("Retry-After", ""))
    except ValueError:
        asked = BACKOFF_SECONDS * 2**attempt
    return max(0.0, min(asked, MAX_RETRY_WAIT_SECONDS))


class LibreTranslate(HttpProvider):
    """A LibreTranslate-compatible server (``POST /translate``), the self-hosted standard."""

    name = "libretranslate"

    def __init__(self, url: str, api_key: str, **options: Any) -> None:
        super().__init__(**options)
        self.url = url.rstrip("/") + "/translate"
        self.api_key = api_key

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        body = {
            "q": texts,
            "source": _LIBRE_CODES.get(source, source),
            "target": _LIBRE_CODES.get(target, target),
            "format": "text",
        }
        if self.api_key:
            body["api_key"] = self.api_key
        data = self.post(self.url, json=body)
        translated = data.get("translatedText") if isinstance(data, dict) else None
        if isinstance(translated, str):
            translated = [translated]
        return _checked(self.name, translated, len(texts))

    def check(self, response: httpx.Response) -> None:
        if response.status_code == 400 and "not supported" in response.text:
            raise TranslationFailed(self.name, "unsupported", response.text[:200])
        super().check(response)


class DeepL(HttpProvider):
    """DeepL's API (``POST /v2/translate``); free-plan keys end in ":fx" and use api-free."""

    name = "deepl"
    QUOTA_EXCEEDED = 456

    def __init__(self, api_key: str, url: str = "", **options: Any) -> None:
        super().__init__(**options)
        host = "https://api-free.deepl.com" if api_key.endswith(":fx") else "https://api.deepl.com"
        self.url = (url or host).rstrip("/") + "/v2/translate"
        self.api_key = api_key

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        data = self.post(
            self.url,
            headers={"Authorization": f"DeepL-Auth-Key {self.api_key}"},
            json={
                "text": texts,
                "source_lang": source.split("-")[0].upper(),
                "target_lang": _deepl_target(target),
            },
        )
        items = data.get("translations") if isinstance(data, dict) else None
        texts_out = [item.get("text") for item in items] if isinstance(items, list) else None
        return _checked(self.name, texts_out, len(texts))

    def check(self, response: httpx.Response) -> None:
        if response.status_code == self.QUOTA_EXCEEDED:
            raise TranslationFailed(self.name, "quota", "the character quota is used up")
        super().check(response)


def _deepl_target(code: str) -> str:
    return {"en": "EN-US", "pt": "PT-BR", "zh-Hans": "ZH-HANS", "zh-Hant": "ZH-HANT"}.get(
        code, code.upper()
    )


PROMPT = (
    "You translate posts on a lifestyle community from {source} to {target}. Translate the "
    "user's message faithfully and naturally, keeping its tone, line breaks and punctuation "
    "style. Placeholders like [[0]] stand for hashtags, mentions, links and emoji: copy each "
    "one unchanged to where it belongs. Reply with the translation only, no notes or quotes."
)


class OpenAICompatible(HttpProvider):
    """Any OpenAI-compatible chat-completions endpoint: vLLM, Ollama, llama.cpp, hosted."""

    name = "openai"

    def __init__(self, base_url: str, api_key: str, model: str, **options: Any) -> None:
        super().__init__(**options)
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.api_key = api_key
        self.model = model

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        system = PROMPT.format(source=NAMES.get(source, source), target=NAMES.get(target, target))
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return [self._one(text, system, headers) for text in texts]

    def _one(self, text: str, system: str, headers: dict[str, str]) -> str:
        data = self.post(
            self.url,
            headers=headers,
            json={
                "model": self.model,
                "temperature": 0,
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": text},
                ],
            },
        )
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as error:
            raise TranslationFailed(self.name, "unavailable", "unexpected response") from error
        return _checked(self.name, [content], 1)[0].strip()


class Argos:
    """Argos Translate, offline, when the operator has installed it and its language packages
    (``argospm install translate-zh_en``); otherwise it reports itself unavailable."""

    name = "argos"

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        try:
            from argostranslate import translate as argos
        except ImportError as error:
            raise TranslationFailed(self.name, "unavailable", "not installed") from error
        pair = (_LIBRE_CODES.get(source, source), _LIBRE_CODES.get(target, target))
        try:
            translation = argos.get_translation_from_codes(*pair)
        except (AttributeError, StopIteration) as error:
            raise TranslationFailed(self.name, "unsupported", f"no package for {pair}") from error
        if translation is None:
            raise TranslationFailed(self.name, "unsupported", f"no package for {pair}")
        return [str(translation.translate(text)) for text in texts]


def _checked(provider: str, texts: Any, expected: int) -> list[str]:
    if not isinstance(texts, list) or len(texts) != expected:
        raise TranslationFailed(provider, "unavailable", "unexpected response")
    if not all(isinstance(text, str) for text in texts):
        raise TranslationFailed(provider, "unavailable", "unexpected response")
    return texts


def build(name: str) -> Provider | None:
    """The provider called ``name``, or None when it is not configured."""
    options = {
        "timeout": settings.TRANSLATION_TIMEOUT,
        "retries": settings.TRANSLATION_RETRIES,
    }
    if name == "libretranslate" and settings.LIBRETRANSLATE_URL:
        return LibreTranslate(
            settings.LIBRETRANSLATE_URL,
            settings.LIBRETRANSLATE_API_KEY,
            **options,
        )
    if name == "deepl" and settings.DEEPL_API_KEY:
        return DeepL(settings.DEEPL_API_KEY, settings.DEEPL_URL, **options)
    if name == "openai" and settings.OPENAI_BASE_URL:
        return OpenAICompatible(
            settings.OPENAI_BASE_URL,
            settings.OPENAI_API_KEY,
            settings.OPENAI_MODEL,
            **options,
        )
    if name == "argos":
        return Argos()
    return None


def chain() -> list[Provider]:
    """The configured providers, in the operator's order of preference."""
    names = settings.TRANSLATION_PROVIDERS
    return [provider for provider in map(build, names) if provider is not None]
