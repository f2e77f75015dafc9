"""Perceptual-hash matching of uploaded photos against operators' lists of banned images.

Every uploaded photo already carries a PDQ hash (``Media.pdq_hash``, computed by the media
pipeline from its narrowest variant). A banned image is listed under the hashes of its eight
rotations and mirror images, and of those of 99 crops of it, so one lookup of the upload's
stored hash catches a mirrored, turned or cropped copy; PDQ itself absorbs resizing,
re-encoding and small overlays, but not crops.

The listed hashes must come from the same pixels the pipeline hashes:
``media.processing.fingerprint_pixels`` takes an operator's file through the upload path
(validation, clean re-encode, shrink-on-load, the variant resize chain), so an unaltered copy
uploaded later has distance 0, not "a few".

Pure functions and numpy: no models, no storage.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Generic, TypeVar

import numpy as np
import pdqhash

from papercrane.media import processing

# Listed hashes and uploads with a lower PDQ quality are not matched at all. Quality measures
# how much gradient the 64x64 luma has; flat images (title cards, blank walls, blurred shots)
# score low, and they are where unrelated images come closest: in bench/eval_hashmatch.py
# photos of quality >= 50 never came nearer than 82 bits, while our own title cards (quality
# 9-67) came within 60. The PDQ reference's 50 is kept; it also refuses the one motion-blurred
# photo in the evaluation (quality 34), the price of not matching flat images on noise.
MIN_QUALITY = 50
# Largest Hamming distance (of 256 bits) still reported as a match. In bench/eval_hashmatch.py
# (20 photos, 16 alterations each, 800 listed hashes a photo) altered copies are at p50 14,
# p95 52 bits from their photo; other photos' lists are never nearer than 84 (single hashes:
# 82 in 121.6M pairs, a 1e-6 tail at 88). 56 keeps recall at 0.97 and sits 26 bits below
# every non-match; the PDQ reference's 31 assumes no crops and recalls only 0.78 here.
MATCH_THRESHOLD = 56

# Crops of a banned image listed beside it: fractions cut from an edge, and the most cut from
# one side (both of its edges together); see ``crops``.
CROP_STEPS = (0.0, 0.10 / 3, 0.20 / 3, 0.10)
MAX_CROP = 0.10

HASH_BITS = 256
_HEX_DIGITS = HASH_BITS // 4
_WORDS = HASH_BITS // 64

K = TypeVar("K", bound=Hashable)


class LowQualityImage(ValueError):
    """An image too flat for its perceptual hash to mean anything (quality < MIN_QUALITY)."""


def dihedral_hashes(rgb: np.ndarray) -> list[str]:
    """PDQ hashes of the image and its 7 rotations/mirror images, in pdqhash's order:
    original, rotated 90°, 180°, 270° (counter-clockwise, as ``np.rot90``), flipped
    top-bottom, flipped left-right, transposed, anti-transposed. The first equals the hash
    the media pipeline stores for the same pixels."""
    return dihedral_hashes_and_quality(rgb)[0]


def dihedral_hashes_and_quality(rgb: np.ndarray) -> tuple[list[str], int]:
    """``dihedral_hashes`` and the PDQ quality (0-100), which all eight variants share."""
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)  # grey: pdqhash wants three bands
    pixels = np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8)
    variants, quality = pdqhash.compute_dihedral(pixels)
    return [processing.pdq_hex(bits) for bits in variants], int(quality)


def banned_image_hashes(data: bytes) -> list[str]:
    """The hashes to list for a banned image given as a file, as an upload would see it: the
    eight dihedral hashes of the image and of each crop in ``crops``.

    PDQ is not robust to cropping (a 5 % crop already moves 40-90 bits, 10 % is as far as an
    unrelated photo), and the upload's hash cannot be changed, so the list side covers crops
    of up to 10 % a side by listing the crops themselves. Raises ``LowQualityImage`` for an
    image too flat to match reliably, and the pipeline's ``MediaRejected`` for a file no
    upload could be.
    """
    rgb = processing.fingerprint_pixels(data)
    hashes, quality = dihedral_hashes_and_quality(rgb)
    if quality < MIN_QUALITY:
        raise LowQualityImage(f"PDQ quality {quality} is below {MIN_QUALITY}")
    for cropped in crops(rgb)[1:]:
        hashes += dihedral_hashes(cropped)
    return list(dict.fromkeys(hashes))


def crops(rgb: np.ndarray) -> list[np.ndarray]:
    """The image (first) and its crops by every (left, right) and (top, bottom) pair of edge
    fractions from CROP_STEPS that together cut at most MAX_CROP of that side.

    Steps of a third of 10 % (100 crops, the image included) put any crop of up to 10 % within
    1.7 % of a listed one on each axis, costing PDQ ~15-40 bits where 5 % steps (36 crops) cost
    up to 60 and recalled 0.93; the set is the same on both axes and for both edges of an axis,
    so the dihedral hashes of these crops also cover crops of the turned and mirrored image.
    """
    height, width = rgb.shape[:2]
    pairs = [
        (first, second)
        for first in CROP_STEPS
        for second in CROP_STEPS
        if first + second <= MAX_CROP + 1e-9
    ]
    return [
        rgb[
            round(height * top) : height - round(height * bottom),
            round(width * left) : width - round(width * right),
        ]
        for left, right in pairs
        for top, bottom in pairs
    ]


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two PDQ hashes in hex."""
    return (int.from_bytes(_raw(a)) ^ int.from_bytes(_raw(b))).bit_count()


class HashIndex(Generic[K]):
    """Listed hashes in one uint64 matrix, matched against a query by brute force.

    Built from (entry_id, hash) pairs, or (entry_id, hash, quality) triples; many hashes may
    share an entry (``banned_image_hashes`` gives up to 800 per image). Hashes with a known
    quality below MIN_QUALITY are left out. Brute force is exact and, for 100k listed hashes,
    takes under a millisecond (bench/eval_hashmatch.py), so no approximate index is needed.
    """

    def __init__(self, entries: Iterable[tuple[K, str] | tuple[K, str, int | None]]) -> None:
        ids: list[K] = []
        raws: list[bytes] = []
        for entry in entries:
            quality = entry[2] if len(entry) == 3 else None
            if quality is not None and quality < MIN_QUALITY:
                continue
            ids.append(entry[0])
            raws.append(_raw(entry[1]))
        self._ids: Sequence[K] = ids
        # One contiguous row per 64-bit word: counting bits word by word over contiguous rows
        # is ~7x faster than over an (n, 4) matrix, whose row sums numpy does poorly.
        self._words = _columns(raws)

    def __len__(self) -> int:
        return len(self._ids)

    def match(
        self, hash_hex: str, threshold: int = MATCH_THRESHOLD, quality: int | None = None
    ) -> tuple[K, int] | None:
        """The nearest listed entry and its distance, if within ``threshold`` bits.

        A query whose (known) quality is below MIN_QUALITY matches nothing.
        """
        query = _columns([_raw(hash_hex)])[:, 0]
        if (quality is not None and quality < MIN_QUALITY) or not self._ids:
            return None
        # uint16: four uint8 counts of 64 would wrap to 0 at the full 256 bits.
        distances = np.bitwise_count(self._words[0] ^ query[0]).astype(np.uint16)
        for word in range(1, _WORDS):
            distances += np.bitwise_count(self._words[word] ^ query[word])
        nearest = int(distances.argmin())
        distance = int(distances[nearest])
        return (self._ids[nearest], distance) if distance <= threshold else None


def _raw(hash_hex: str) -> bytes:
    """The 32 bytes of a 64-digit hex hash; anything else is a ValueError saying what is wrong."""
    try:
        if len(hash_hex) != _HEX_DIGITS:
            raise ValueError
        raw = bytes.fromhex(hash_hex)  # also accepts spaces, hence the length check after it
    except (TypeError, ValueError):
        raise ValueError(f"a PDQ hash is {_HEX_DIGITS} hex digits, got {hash_hex!r}") from None
    if len(raw) != HASH_BITS // 8:
        raise ValueError(f"a PDQ hash is {_HEX_DIGITS} hex digits, got {hash_hex!r}")
    return raw


def _columns(raws: list[bytes]) -> np.ndarray:
    """(4, n) native uint64 words, most significant (bits 255-192) first."""
    words = np.frombuffer(b"".join(raws), dtype=">u8").reshape(-1, _WORDS)
    return np.ascontiguousarray(words.T, dtype=np.uint64)
