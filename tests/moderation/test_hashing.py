"""Matching uploads against banned-image lists by perceptual hash.

The banned photos and their altered copies are made here from photos scikit-image ships;
every copy takes the real upload path (``clean_original`` then ``derive``), and its stored
``pdq_hash`` is what gets matched.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage import data as photos

from papercrane.media import processing
from papercrane.moderation import hashing
from papercrane.moderation.hashing import HashIndex, LowQualityImage


def encode(image: Image.Image, format: str = "JPEG", quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, quality=quality)
    return buffer.getvalue()


def uploaded(image: Image.Image, quality: int = 85) -> processing.Derived:
    """What the media pipeline stores for an upload of ``image`` as a JPEG."""
    return processing.derive(processing.clean_original(encode(image, quality=quality)).data)


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return Image.fromarray(photos.astronaut())


@pytest.fixture(scope="module")
def banned(astronaut: Image.Image) -> HashIndex[str]:
    """An operator's list with two banned photos, listed from their files."""
    coffee = Image.fromarray(photos.coffee())
    return HashIndex(
        (name, value)
        for name, image in (("astronaut", astronaut), ("coffee", coffee))
        for value in hashing.banned_image_hashes(encode(image, "PNG"))
    )


def matched(index: HashIndex[str], derived: processing.Derived) -> str | None:
    found = index.match(derived.pdq_hash, quality=derived.pdq_quality)
    return None if found is None else found[0]


def test_an_unaltered_upload_of_a_listed_file_has_exactly_the_listed_hash() -> None:
    data = encode(Image.fromarray(photos.rocket()), quality=92)
    stored = processing.derive(processing.clean_original(data).data)
    assert hashing.dihedral_hashes(processing.fingerprint_pixels(data))[0] == stored.pdq_hash


def test_the_eight_hashes_are_the_photo_turned_and_mirrored_in_pdqhash_order() -> None:
    rgb = photos.chelsea()
    turned = [
        rgb,
        np.rot90(rgb, 1),
        np.rot90(rgb, 2),
        np.rot90(rgb, 3),
        rgb[::-1],
        rgb[:, ::-1],
        rgb.transpose(1, 0, 2),
        np.rot90(rgb, 2).transpose(1, 0, 2),
    ]
    variants = hashing.dihedral_hashes(rgb)
    for number, pixels in enumerate(turned):
        direct = hashing.dihedral_hashes(np.ascontiguousarray(pixels))[0]
        # PDQ's downsampling windows are not symmetric, so a turned copy differs by a few bits.
        assert hashing.hamming(variants[number], direct) <= 20
        assert all(hashing.hamming(v, direct) > 60 for i, v in enumerate(variants) if i != number)
    assert hashing.dihedral_hashes(np.ascontiguousarray(rgb))[0] == processing._pdq(rgb)[0]


def test_a_mirrored_copy_of_a_banned_photo_still_matches(
    banned: HashIndex[str], astronaut: Image.Image
) -> None:
    assert matched(banned, uploaded(astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT))) == (
        "astronaut"
    )


def test_a_copy_turned_a_quarter_still_matches(
    banned: HashIndex[str], astronaut: Image.Image
) -> None:
    assert matched(banned, uploaded(astronaut.transpose(Image.Transpose.ROTATE_270))) == (
        "astronaut"
    )


def test_a_resized_and_re_encoded_copy_matches(
    banned: HashIndex[str], astronaut: Image.Image
) -> None:
    assert matched(banned, uploaded(astronaut.resize((300, 300)), quality=20)) == "astronaut"


def test_a_copy_cropped_by_up_to_a_tenth_matches(
    banned: HashIndex[str], astronaut: Image.Image
) -> None:
    for box in ((36, 36, 512, 512), (26, 0, 512, 490), (25, 25, 487, 487)):
        assert matched(banned, uploaded(astronaut.crop(box))) == "astronaut"


def test_a_copy_with_a_caption_matches(banned: HashIndex[str], astronaut: Image.Image) -> None:
    captioned = astronaut.copy()
    ImageDraw.Draw(captioned).text(
        (30, 470), "@reposted 2024", font=ImageFont.load_default(28), fill="white"
    )
    assert matched(banned, uploaded(captioned)) == "astronaut"


def test_a_different_photo_does_not_match(banned: HashIndex[str]) -> None:
    for other in (photos.chelsea(), photos.rocket(), photos.camera()):
        derived = uploaded(Image.fromarray(other))
        assert banned.match(derived.pdq_hash, quality=derived.pdq_quality) is None


def test_the_nearest_entry_wins_and_the_threshold_is_inclusive() -> None:
    near, far = "0" * 63 + "1", "0" * 62 + "ff"
    index = HashIndex([("far", far), ("near", near)])
    assert index.match("0" * 64, threshold=1) == ("near", 1)
    assert index.match("0" * 64, threshold=0) is None
    assert HashIndex[str]([]).match("0" * 64) is None


def test_all_256_bits_apart_is_256_not_0() -> None:
    index = HashIndex([("opposite", "f" * 64)])
    assert index.match("0" * 64, threshold=256) == ("opposite", 256)
    assert hashing.hamming("0" * 64, "f" * 64) == 256


def test_low_quality_hashes_are_ignored() -> None:
    value = "a5" * 32
    index = HashIndex([("flat", value, hashing.MIN_QUALITY - 1), ("photo", "5a" * 32, 100)])
    assert len(index) == 1
    assert index.match(value, threshold=0) is None
    assert index.match("5a" * 32, quality=hashing.MIN_QUALITY - 1) is None
    assert index.match("5a" * 32, quality=hashing.MIN_QUALITY) == ("photo", 0)


def test_a_flat_image_cannot_be_listed() -> None:
    with pytest.raises(LowQualityImage):
        hashing.banned_image_hashes(encode(Image.new("RGB", (400, 300), "#ff2442")))


def test_a_file_no_upload_could_be_cannot_be_listed() -> None:
    with pytest.raises(processing.MediaRejected):
        hashing.banned_image_hashes(b"GIF89a not a photo we accept")


@pytest.mark.parametrize(
    "bad",
    ["", "abc", "g" * 64, "0x" + "0" * 62, " " + "0" * 63, "0" * 65, "00 " * 21 + "0", None],
)
def test_bad_hex_input_raises_a_clear_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        hashing.hamming(bad, "0" * 64)
    with pytest.raises(ValueError, match="64 hex digits"):
        HashIndex([("entry", bad)])
    with pytest.raises(ValueError, match="64 hex digits"):
        HashIndex([("entry", "0" * 64)]).match(bad)
