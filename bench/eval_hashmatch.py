"""``papercrane eval hashmatch``: do altered copies of banned photos still match their list entry?

The photos are every real photograph scikit-image ships (colour and grey: people, a cat, a
rocket, coffee, coins, a clock, a microscope slide, a retina, the Hubble deep field, textures...)
and the two scikit-learn ships. Each one is "banned": its file goes through
``hashing.banned_image_hashes`` (the upload path's pixels, eight dihedral hashes) into one
``HashIndex`` entry per photo.

Each photo is then altered the ways a re-uploader would (resize, low-quality JPEG, crops of up to
10 %, mirror, a 90° turn, a caption, and combinations), and every altered file takes the real
upload path, ``clean_original`` then ``derive``, whose ``pdq_hash`` is what ``Media`` stores.

* recall: altered copies whose nearest entry is their own photo, within the threshold;
* false_matches: (altered copy, other photo) pairs within the threshold, over every pair.

The distance distributions of matches (copy to its own photo) and non-matches (copy to every
other photo) are printed beside them, with recall and false matches at other thresholds, so the
threshold can be read off the data. ``match_p50_ms_100k`` and ``match_p99_ms_100k`` time
``HashIndex.match`` against 100k listed hashes (the photos' own plus random ones).

    papercrane eval hashmatch [--threshold 56]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "papercrane.settings")

# scikit-image's real photographs (not its drawings, charts, 3-D stacks or 25-px faces); only
# the left image of the stereo motorcycle pair, whose right image is the same scene.
SKIMAGE_PHOTOS = (
    "astronaut",
    "brick",
    "camera",
    "cell",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "microaneurysms",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
)
SKLEARN_PHOTOS = ("china.jpg", "flower.jpg")
THRESHOLDS = (24, 31, 40, 44, 48, 52, 56, 60, 64)
LISTED_FOR_TIMING = 100_000

Alteration = Callable[[Image.Image], Image.Image]


def photos() -> dict[str, Image.Image]:
    """Every photo by name, as Pillow images (RGB or L)."""
    import importlib.resources

    from skimage import data

    found: dict[str, Image.Image] = {}
    for name in SKIMAGE_PHOTOS:
        found[name] = Image.fromarray(getattr(data, name)())
    found["motorcycle"] = Image.fromarray(data.stereo_motorcycle()[0])
    images = importlib.resources.files("sklearn.datasets") / "images"
    for name in SKLEARN_PHOTOS:
        with (images / name).open("rb") as file:
            found[name.removesuffix(".jpg")] = Image.open(file).convert("RGB")
    return found


def encode(image: Image.Image, format: str = "JPEG", quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, quality=quality)
    return buffer.getvalue()


def crop(left: float, right: float, top: float, bottom: float) -> Alteration:
    """Cut these fractions of the width (left, right) and height (top, bottom) off the edges."""

    def cut(image: Image.Image) -> Image.Image:
        width, height = image.size
        box = (
            round(width * left),
            round(height * top),
            width - round(width * right),
            height - round(height * bottom),
        )
        return image.crop(box)

    return cut


def random_crops(count: int, seed: int = 7) -> dict[str, tuple[Alteration, int]]:
    """Crops of up to 10 % of each side, split between its two edges at random: most of them
    fall between the crops ``hashing.crops`` lists, which is the case that must work."""
    rng = np.random.default_rng(seed)
    found: dict[str, tuple[Alteration, int]] = {}
    for _crop in range(count):
        edges = []
        for _axis in range(2):
            total, share = rng.uniform(0.02, 0.10), rng.uniform()
            edges += [total * share, total * (1 - share)]
        left, right, top, bottom = edges
        name = "crop_l{:.0f}_r{:.0f}_t{:.0f}_b{:.0f}".format(*(100 * e for e in edges))
        found[name] = (crop(left, right, top, bottom), 85)
    return found


def caption(image: Image.Image) -> Image.Image:
    """A short watermark-style caption near the bottom, ~6 % of the height tall."""
    captioned = image.convert("RGB")
    draw = ImageDraw.Draw(captioned)
    size = max(10, image.height // 16)
    font = ImageFont.load_default(size)
    draw.text((image.width // 20, image.height - size * 2), "@reposted 2024", font=font)
    return captioned


def resize(scale: float) -> Alteration:
    def scaled(image: Image.Image) -> Image.Image:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        return image.resize(size, Image.Resampling.LANCZOS)

    return scaled


def mirror(image: Image.Image) -> Image.Image:
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def rotate_90(image: Image.Image) -> Image.Image:
    return image.transpose(Image.Transpose.ROTATE_270)  # clockwise, as a phone turns it


def identity(image: Image.Image) -> Image.Image:
    return image


def compose(*steps: Alteration) -> Alteration:
    def composed(image: Image.Image) -> Image.Image:
        for step in steps:
            image = step(image)
        return image

    return composed


# name -> (alteration, JPEG quality of the uploaded copy)
ALTERATIONS: dict[str, tuple[Alteration, int]] = {
    "resize_50": (resize(0.5), 85),
    "resize_150": (resize(1.5), 85),
    "jpeg_q20": (identity, 20),
    "jpeg_q10": (identity, 10),
    "crop_3_top_left": (crop(0.03, 0, 0.03, 0), 85),
    "crop_7_bottom_right": (crop(0, 0.07, 0, 0.07), 85),
    "crop_10_centre": (crop(0.05, 0.05, 0.05, 0.05), 85),
    **random_crops(3),
    "mirror": (mirror, 85),
    "rotate_90": (rotate_90, 85),
    "caption": (caption, 85),
    "mirror_resize_jpeg": (compose(mirror, resize(0.6)), 30),
    "crop_caption_jpeg": (compose(crop(0.08, 0, 0.02, 0.04), caption), 30),
    "rotate_crop_resize": (compose(rotate_90, crop(0.03, 0.03, 0.06, 0), resize(0.7)), 60),
}


def uploaded_hash(data: bytes) -> tuple[str, int]:
    """What the upload path stores for this file: ``Media.pdq_hash`` and ``pdq_quality``."""
    from papercrane.media import processing

    derived = processing.derive(processing.clean_original(data).data)
    return derived.pdq_hash, derived.pdq_quality


def percentiles(values: list[int]) -> dict[str, int]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "min": ordered[0],
        "p1": pick(0.01),
        "p5": pick(0.05),
        "p50": pick(0.5),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "max": ordered[-1],
    }


def hash_pair_tail(listed: dict[str, list[str]]) -> dict[str, int | float]:
    """Distances between single listed hashes of different photos (every crop and variant of
    one against every one of another): the lower tail shows how far below the per-photo
    minimum a larger list could reach, and its rate per pair at each threshold."""
    rows = {name: words(hashes) for name, hashes in listed.items()}
    counts = np.zeros(257, dtype=np.int64)
    names = list(rows)
    for number, first in enumerate(names):
        for second in names[number + 1 :]:
            distance = np.zeros((rows[first].shape[1], rows[second].shape[1]), dtype=np.uint16)
            for word in range(4):
                distance += np.bitwise_count(rows[first][word][:, None] ^ rows[second][word])
            counts += np.bincount(distance.ravel(), minlength=257)
    total, cumulative = int(counts.sum()), np.cumsum(counts)
    tail: dict[str, int | float] = {"pairs": total, "min": int(np.flatnonzero(counts)[0])}
    for rate in ("1e-6", "1e-5", "1e-4", "1e-3"):
        tail[f"q{rate}"] = int(np.searchsorted(cumulative, float(rate) * total))
    spread = np.arange(257)
    mean = float((spread * counts).sum() / total)
    tail["mean"] = round(mean, 1)
    tail["sd"] = round(float(np.sqrt(((spread - mean) ** 2 * counts).sum() / total)), 2)
    return tail


def words(hashes: list[str]) -> np.ndarray:
    """(4, n) uint64 words of hex hashes, most significant first."""
    values = [[int(value[i : i + 16], 16) for i in range(0, 64, 16)] for value in hashes]
    return np.array(values, dtype=np.uint64).T.copy()


def timing(listed: dict[str, list[str]], queries: list[str]) -> dict[str, float]:
    """p50 and p99 ms of one ``match`` against 100k listed hashes."""
    from papercrane.moderation.hashing import HashIndex

    rng = np.random.default_rng(7)
    real = [(name, value) for name, hashes in listed.items() for value in hashes]
    filler = rng.integers(0, 256, size=(LISTED_FOR_TIMING - len(real), 32), dtype=np.uint8)
    index = HashIndex(
        [*real, *((f"random-{i}", row.tobytes().hex()) for i, row in enumerate(filler))]
    )
    timings = []
    for query in (queries * 10)[:1000]:
        started = time.perf_counter()
        index.match(query)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "match_p50_ms_100k": round(timings[len(timings) // 2], 3),
        "match_p99_ms_100k": round(timings[int(len(timings) * 0.99)], 3),
    }


def listing(originals: dict[str, Image.Image]) -> tuple[dict[str, list[str]], list[str]]:
    """Each photo's eight hashes, as an operator listing its file would get them; photos too
    flat to list (``LowQualityImage``) are refused, and named in the output."""
    from papercrane.moderation import hashing

    listed: dict[str, list[str]] = {}
    refused: list[str] = []
    for name, image in originals.items():
        try:
            listed[name] = hashing.banned_image_hashes(encode(image, "PNG"))
        except hashing.LowQualityImage:
            refused.append(name)
    return listed, refused


@dataclass
class Outcome:
    """Distances of every altered copy to its own photo's entry and to every other entry."""

    own: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    others: list[int] = field(default_factory=list)
    false_matches: list[str] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    qualities: list[int] = field(default_factory=list)


def evaluate(
    originals: dict[str, Image.Image], listed: dict[str, list[str]], threshold: int
) -> Outcome:
    from papercrane.moderation.hashing import HASH_BITS, HashIndex

    indexes = {name: HashIndex([(name, value) for value in v]) for name, v in listed.items()}
    outcome = Outcome()
    for name, image in originals.items():
        for alteration, (alter, jpeg_quality) in ALTERATIONS.items():
            pdq, quality = uploaded_hash(encode(alter(image), quality=jpeg_quality))
            outcome.queries.append(pdq)
            outcome.qualities.append(quality)
            for entry, index in indexes.items():
                found = index.match(pdq, threshold=threshold, quality=quality)
                distance = index.match(pdq, threshold=HASH_BITS)
                assert distance is not None
                if entry == name:
                    outcome.own[alteration].append(distance[1])
                    outcome.hits[alteration] += found is not None
                    if found is None:
                        outcome.misses.append(f"{name}/{alteration}: {distance[1]}")
                else:
                    outcome.others.append(distance[1])
                    if found is not None:
                        outcome.false_matches.append(f"{name}/{alteration} ~ {entry}")
    return outcome


def main(argv: list[str]) -> int:
    from papercrane.moderation import hashing

    parser = argparse.ArgumentParser(prog="papercrane eval hashmatch")
    parser.add_argument("--threshold", type=int, default=hashing.MATCH_THRESHOLD)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    originals = photos()
    listed, refused = listing(originals)
    outcome = evaluate(originals, listed, args.threshold)
    copies = len(listed) * len(ALTERATIONS)
    matches = [d for values in outcome.own.values() for d in values]
    figures = {
        "pipeline": {
            "recall": round(sum(outcome.hits.values()) / copies, 4),
            "false_matches": len(outcome.false_matches),
            "pairs_compared": len(outcome.others),
            "threshold": args.threshold,
            "min_quality": hashing.MIN_QUALITY,
            "photos": len(originals),
            "listed_photos": len(listed),
            "altered_copies": len(originals) * len(ALTERATIONS),
            "recall_by_alteration": {
                a: round(outcome.hits[a] / len(listed), 3) for a in ALTERATIONS
            },
            **timing(listed, outcome.queries),
        },
        "refused_low_quality": refused,
        "distances": {
            "match": percentiles(matches),
            "match_max_by_alteration": {a: max(v) for a, v in outcome.own.items()},
            "non_match": percentiles(outcome.others),
            "non_match_single_hashes": hash_pair_tail(listed),
        },
        "by_threshold": {
            t: {
                "recall": round(sum(d <= t for d in matches) / copies, 4),
                "false_matches": sum(d <= t for d in outcome.others),
            }
            for t in THRESHOLDS
        },
        "upload_quality": percentiles(outcome.qualities),
        "misses": outcome.misses,
        "false_match_pairs": outcome.false_matches,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(figures))
    return 0
