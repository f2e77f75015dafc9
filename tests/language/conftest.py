from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.language.translation_double import TranslationDouble, serve


@pytest.fixture
def double() -> Iterator[TranslationDouble]:
    yield from serve()


@pytest.fixture
def libretranslate(double: TranslationDouble, settings: Any) -> TranslationDouble:
    """LibreTranslate configured as the only provider, served by the double."""
    settings.TRANSLATION_PROVIDERS = ["libretranslate"]
    settings.LIBRETRANSLATE_URL = double.url
    settings.LIBRETRANSLATE_API_KEY = "lt-key"
    settings.TRANSLATION_RETRIES = 2
    return double
