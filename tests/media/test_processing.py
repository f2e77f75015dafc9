"""The image pipeline: what an upload becomes, and what it must never carry along.

Every fixture is made here at run time, phone-style: EXIF with GPS and device names, XMP
packets, comments, PNG text chunks, ICC profiles; and hostile files: bombs, truncations,
formats we refuse.
"""

from __future__ import annotations

import importlib.resources
import io
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import blurhash
import numpy as np
import pillow_heif
import pytest
import pyvips
from django.utils.functional import Promise
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

from papercrane.media import processing
from papercrane.media.processing import MediaRejected

SECRETS = (
    b"Secret Phone",
    b"SecretMaker",
    b"Secret description",
    b"secret user comment",
    b"Secret comment",
    b"Shanghai Tower",
    b"31.2304",
    b"121.4737",
    b"2019:05:04",
    b"GPS",
    b"Exif",
    b"xmp",
    b"XMP",
    b"adobe",
    b"ICC_PROFILE",
    b"iCCP",
    b"tEXt",
    b"iTXt",
    b"zTXt",
    b"eXIf",
    b"Photoshop",
    b"8BIM",
)
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'dc:creator="Secret Phone" exif:GPSLatitude="31.2304N" exif:GPSLongitude="121.4737E" '
    b'dc:description="Shanghai Tower"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
GPS = {1: "N", 2: (31.0, 13.0, 49.44), 3: "E", 4: (121.0, 28.0, 25.32)}


def _process(data: bytes) -> tuple[processing.CleanImage, processing.Derived]:
    """The production path: the upload cleans, the worker derives from the stored result."""
    clean = processing.clean_original(data)
    return clean, processing.derive(clean.data)


# --- fixtures made on the spot ---------------------------------------------------------------


def halves(width: int = 200, height: int = 100) -> Image.Image:
    """Left half red, right half blue: orientation mistakes show up as wrong colours."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 2] = (255, 0, 0)
    pixels[:, width // 2 :] = (0, 0, 255)
    return Image.fromarray(pixels)


def textured(width: int, height: int, seed: int = 1) -> Image.Image:
    """Smooth gradients plus noise, so codecs and hashes see something photo-like."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // max(width, 1), y * 255 // max(height, 1), (x + y) % 256], axis=2)
    noise = rng.integers(-20, 20, size=base.shape)
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def skimage_photo(name: str) -> Image.Image:
    with (importlib.resources.files("skimage") / "data" / name).open("rb") as handle:
        return Image.open(handle).convert("RGB")


def phone_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SecretMaker"
    exif[0x0110] = "Secret Phone"
    exif[0x010E] = "Secret description"
    exif[0x0132] = "2019:05:04 10:11:12"
    exif[0x8825] = GPS
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = "2019:05:04 10:11:12"
    exif_ifd[0x9286] = b"ASCII\x00\x00\x00secret user comment"
    return exif


def encode(image: Image.Image, format: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


# APP13 "Photoshop 3.0" resource 0x0404 holding IPTC IIM: caption (2:120) and city (2:90).
_IIM = b"\x1c\x02\x78\x00\x0eShanghai Tower\x1c\x02\x5a\x00\x08Shanghai"
IPTC = b"Photoshop 3.0\x00" + b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(_IIM)) + _IIM


def with_jpeg_segments(jpeg: bytes, *segments: tuple[int, bytes]) -> bytes:
    """Insert raw marker segments right after SOI (how phones place APP1 XMP and COM)."""
    raw = b"".join(
        bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body for marker, body in segments
    )
    return jpeg[:2] + raw + jpeg[2:]


def phone_jpeg(image: Image.Image | None = None, orientation: int = 1) -> bytes:
    jpeg = encode(
        image or textured(200, 100), "JPEG", quality=92, exif=phone_exif(orientation).tobytes()
    )
    return with_jpeg_segments(
        jpeg,
        (0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP),
        (0xED, IPTC),
        (0xFE, b"Secret comment Shanghai Tower"),
    )


def phone_png(image: Image.Image | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "GPS 31.2304,121.4737")
    info.add_itxt("Author", "Author: Secret Phone", lang="en", tkey="Author")
    info.add_text("Description", "Shanghai Tower " * 20, zip=True)
    info.add_text("XML:com.adobe.xmp", XMP.decode())
    return encode(image or textured(200, 100), "PNG", pnginfo=info, exif=phone_exif().tobytes())


def phone_webp(image: Image.Image | None = None) -> bytes:
    return encode(
        image or textured(200, 100), "WEBP", quality=90, exif=phone_exif().tobytes(), xmp=XMP
    )


def phone_heic(image: Image.Image | None = None) -> bytes:
    buffer = io.BytesIO()
    heif = pillow_heif.from_pillow(image or textured(200, 100))
    heif.save(buffer, quality=90, exif=phone_exif().tobytes(), xmp=XMP)
    return buffer.getvalue()


def phone_avif(image: Image.Image | None = None) -> bytes:
    return encode(
        image or textured(200, 100), "AVIF", quality=90, exif=phone_exif().tobytes(), xmp=XMP
    )


PHONE_FILES: dict[str, Callable[[], bytes]] = {
    "jpeg": phone_jpeg,
    "png": phone_png,
    "webp": phone_webp,
    "heif": phone_heic,
    "avif": phone_avif,
}


def stored_bytes(data: bytes) -> list[bytes]:
    """Everything the pipeline would write to storage for an upload."""
    clean = processing.clean_original(data)
    derived = processing.derive(clean.data)
    _, fast = _process(data)
    return [clean.data, *(v.data for v in derived.variants), *(v.data for v in fast.variants)]


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def near(colour: Any, expected: Any, tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour[:3], expected, strict=True))


def rgb(hex_colour: str) -> tuple[int, int, int]:
    assert len(hex_colour) == 7 and hex_colour.startswith("#")
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def rejected(data: bytes) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        processing.clean_original(data)
    return caught.value


# --- metadata never survives -----------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PHONE_FILES))
def test_no_metadata_survives_in_any_stored_byte(kind: str) -> None:
    data = PHONE_FILES[kind]()
    assert processing.probe(data).format == kind
    assert b"Secret Phone" in data  # the fixture really carries the secrets
    for stored in stored_bytes(data):
        leaks = [secret for secret in SECRETS if secret in stored]
        assert leaks == [], f"{kind}: {leaks} survived"
        image = opened(stored)
        assert not image.getexif()
        assert not {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(image.info)


def test_clean_original_is_a_fresh_encode_with_the_right_type() -> None:
    data = phone_jpeg()
    clean = processing.clean_original(data)
    assert clean.data != data
    assert clean.data.startswith(b"\xff\xd8") and clean.mime_type == "image/jpeg"
    assert clean.extension == "jpg"
    assert (clean.width, clean.height) == opened(clean.data).size == (200, 100)


def test_transparent_png_stays_png_with_its_alpha() -> None:
    image = Image.new("RGBA", (120, 80), (20, 200, 20, 0))
    image.paste((200, 20, 20, 255), (0, 0, 60, 80))
    clean = processing.clean_original(encode(image, "PNG"))
    assert (clean.mime_type, clean.extension) == ("image/png", "png")
    restored = opened(clean.data)
    assert restored.mode == "RGBA" and restored.getchannel("A").getpixel((100, 40)) == 0
    variant = processing.derive(clean.data).variants[0]
    assert opened(variant.data).mode == "RGBA"


def test_an_alpha_channel_that_hides_nothing_becomes_jpeg() -> None:
    clean = processing.clean_original(encode(textured(90, 60).convert("RGBA"), "PNG"))
    assert clean.mime_type == "image/jpeg"


# --- orientation -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp"])
def test_exif_orientation_6_is_applied(kind: str) -> None:
    exif = phone_exif(orientation=6).tobytes()
    data = {
        "jpeg": lambda: encode(halves(), "JPEG", quality=95, exif=exif),
        "png": lambda: encode(halves(), "PNG", exif=exif),
        "webp": lambda: encode(halves(), "WEBP", lossless=True, exif=exif),
    }[kind]()
    clean, derived = _process(data)
    assert (clean.width, clean.height) == (100, 200)
    for image in [opened(clean.data), *(opened(v.data).convert("RGB") for v in derived.variants)]:
        assert image.size == (100, 200)
        assert near(image.getpixel((50, 10)), (255, 0, 0))  # the left half is now on top
        assert near(image.getpixel((50, 190)), (0, 0, 255))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_the_exif_spec(orientation: int) -> None:
    quadrants = np.zeros((60, 90, 3), np.uint8)
    quadrants[:30, :45], quadrants[:30, 45:] = (255, 0, 0), (0, 255, 0)
    quadrants[30:, :45], quadrants[30:, 45:] = (0, 0, 255), (255, 255, 0)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(Image.fromarray(quadrants), "PNG", exif=exif.tobytes())
    expected = ImageOps.exif_transpose(opened(data)).convert("RGB")
    clean = opened(processing.clean_original(data).data)
    assert clean.size == expected.size
    for x in (10, expected.width - 10):
        for y in (10, expected.height - 10):
            assert near(clean.getpixel((x, y)), expected.getpixel((x, y)))


def test_heif_transforms_are_applied_once() -> None:
    """HEIF/AVIF carry rotation in the container (irot), and libheif applies it."""
    exif = phone_exif(orientation=6).tobytes()
    for data in (encode(halves(), "AVIF", quality=95, exif=exif), heic_of(halves(), exif)):
        clean = opened(processing.clean_original(data).data)
        assert clean.size == (100, 200)
        assert near(clean.getpixel((50, 10)), (255, 0, 0), tolerance=30)


def heic_of(image: Image.Image, exif: bytes) -> bytes:
    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, quality=95, exif=exif)
    return buffer.getvalue()


# --- colour ----------------------------------------------------------------------------------


def p3_profile() -> bytes:
    """Display P3, as iPhones embed it (libvips ships the profile)."""
    return bytes(
        pyvips.Image.black(1, 1, bands=3).icc_export(output_profile="p3").get("icc-profile-data")
    )


def test_wide_gamut_profile_is_converted_to_srgb_then_dropped() -> None:
    profile = p3_profile()
    colour = (200, 90, 40)
    data = encode(Image.new("RGB", (64, 48), colour), "JPEG", quality=98, icc_profile=profile)
    transform = ImageCms.buildTransform(
        ImageCms.ImageCmsProfile(io.BytesIO(profile)), ImageCms.createProfile("sRGB"), "RGB", "RGB"
    )
    converted = ImageCms.applyTransform(Image.new("RGB", (1, 1), colour), transform)
    assert converted is not None
    expected = converted.getpixel((0, 0))
    assert not near(expected, colour, tolerance=5)  # P3 really differs from sRGB here
    clean = processing.clean_original(data)
    image = opened(clean.data)
    assert "icc_profile" not in image.info and b"ICC_PROFILE" not in clean.data
    assert near(image.getpixel((32, 24)), expected, tolerance=4)


def test_a_display_p3_heic_without_icc_is_converted_too() -> None:
    """iPhones mark HEICs as Display P3 with nclx colour primaries, not an ICC profile."""
    nclx = {"color_primaries": 12, "transfer_characteristics": 13, "matrix_coefficients": 6}
    buffer = io.BytesIO()
    heif = pillow_heif.from_pillow(Image.new("RGB", (64, 48), (200, 90, 40)))
    heif.save(buffer, quality=95, format_chroma="444", nclx_profile={**nclx, "full_range_flag": 1})
    image = opened(processing.clean_original(buffer.getvalue()).data)
    assert near(image.getpixel((32, 24)), (216, 81, 15), tolerance=6)  # lcms: P3 -> sRGB


def test_an_srgb_profile_is_dropped_without_changing_colours() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(Image.new("RGB", (64, 48), (200, 90, 40)), "PNG", icc_profile=srgb)
    image = opened(processing.clean_original(data).data)
    assert "icc_profile" not in image.info
    assert near(image.getpixel((32, 24)), (200, 90, 40), tolerance=3)


def test_greyscale_and_sixteen_bit_images_become_8_bit_srgb() -> None:
    grey = encode(textured(80, 60).convert("L"), "JPEG")
    deep = encode(Image.fromarray(np.full((60, 80), 40000, np.uint16)), "PNG")
    for data in (grey, deep):
        image = opened(processing.clean_original(data).data)
        assert image.mode == "RGB" and image.size == (80, 60)
    assert near(opened(processing.clean_original(deep).data).getpixel((4, 4)), (156, 156, 156), 2)


# --- rejected input --------------------------------------------------------------------------


def png_with_header(width: int, height: int) -> bytes:
    """A valid, tiny PNG structure whose IHDR declares width x height."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_with_size(width: int, height: int) -> bytes:
    data = bytearray(encode(textured(64, 48), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", phone_jpeg())
    return buffer.getvalue()


def mp4_like() -> bytes:
    return struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00isomiso2" + b"\x00" * 64


def jpeg_with_garbage() -> bytes:
    jpeg = encode(textured(64, 48), "JPEG")
    header_end = jpeg.index(b"\xff\xda") + 14
    return (
        jpeg[:header_end]
        + np.random.default_rng(3).integers(0, 256, 4000).astype(np.uint8).tobytes()
    )


BAD_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty": (lambda: b"", "empty"),
    "one byte": (lambda: b"\xff", "unreadable"),
    "svg": (
        lambda: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        "unsupported",
    ),
    "svg without prolog": (
        lambda: b'<svg width="30000" height="30000"><script/></svg>',
        "unsupported",
    ),
    "html": (
        lambda: b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>",
        "unsupported",
    ),
    "gif": (lambda: encode(textured(20, 20), "GIF"), "unsupported"),
    "tiff": (lambda: encode(textured(20, 20), "TIFF"), "unsupported"),
    "bmp": (lambda: encode(textured(20, 20), "BMP"), "unsupported"),
    "zip": (zip_file, "unsupported"),
    "pdf": (lambda: b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF", "unsupported"),
    "mp4": (mp4_like, "unsupported"),
    "truncated jpeg": (lambda: phone_jpeg()[:-400], "unreadable"),
    "truncated png": (lambda: phone_png()[:-300], "unreadable"),
    "truncated webp": (lambda: phone_webp()[:-200], "unreadable"),
    "truncated avif": (lambda: phone_avif()[:-200], "unreadable"),
    "truncated heic": (lambda: phone_heic()[:-200], "unreadable"),
    "png bomb 30000x30000": (lambda: png_with_header(30000, 30000), "too_many_pixels"),
    "jpeg over 50 MP": (lambda: jpeg_with_size(8000, 7000), "too_many_pixels"),
    "png too long a side": (lambda: png_with_header(20000, 10), "too_many_pixels"),
    "over 20 MB": (lambda: phone_jpeg() + b"\x00" * processing.MAX_BYTES, "too_large"),
    "jpeg with garbage after the header": (jpeg_with_garbage, "unreadable"),
    "png of zero width": (lambda: png_with_header(0, 10), "unreadable"),
    "animated png over the frame limit": (
        lambda: animated("PNG", processing.MAX_FRAMES + 1),
        "too_many_frames",
    ),
    "animated webp over the frame limit": (
        lambda: animated("WEBP", processing.MAX_FRAMES + 1),
        "too_many_frames",
    ),
}


def animated(format: str, frames: int) -> bytes:
    """Every frame a distinct colour, losslessly, so no encoder merges frames."""
    images = [
        Image.new("RGB", (8, 8), (i * 37 % 256, i * 91 % 256, i % 256)) for i in range(frames)
    ]
    options = {"lossless": True} if format == "WEBP" else {}
    return encode(
        images[0], format, save_all=True, append_images=images[1:], duration=40, **options
    )


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_input_is_rejected_with_a_code_and_status(name: str) -> None:
    make, code = BAD_FILES[name]
    error = rejected(make())
    assert error.code == code
    assert error.status == (415 if code == "unsupported" else 422)
    assert isinstance(error.message, Promise) and str(error.message)
    with pytest.raises(MediaRejected):
        processing.derive(make())


def test_a_bomb_is_rejected_from_the_header_without_decoding() -> None:
    bomb = png_with_header(30000, 30000)
    started = time.perf_counter()
    with pytest.raises(MediaRejected):
        processing.probe(bomb)
    assert time.perf_counter() - started < 0.05
    avif = bytearray(phone_avif())
    ispe = avif.index(b"ispe") + 8
    avif[ispe : ispe + 8] = struct.pack(">II", 30000, 30000)
    assert rejected(bytes(avif)).code == "too_many_pixels"


def test_a_short_animation_is_accepted_as_its_first_frame() -> None:
    for format in ("PNG", "WEBP"):
        data = animated(format, 3)
        assert processing.probe(data).frames == 3
        assert opened(processing.clean_original(data).data).size == (8, 8)


def test_probe_reads_the_header_of_each_format() -> None:
    assert processing.probe(phone_jpeg()) == processing.Probe("jpeg", 200, 100, 1)
    assert processing.probe(phone_png()) == processing.Probe("png", 200, 100, 1)
    assert processing.probe(phone_webp()) == processing.Probe("webp", 200, 100, 1)
    assert processing.probe(phone_heic()) == processing.Probe("heif", 200, 100, 1)
    assert processing.probe(phone_avif()) == processing.Probe("avif", 200, 100, 1)
    lossy = encode(textured(30, 20), "WEBP", quality=80)
    assert processing.probe(lossy) == processing.Probe("webp", 30, 20, 1)


@pytest.mark.parametrize("kind", list(PHONE_FILES))
def test_damaged_files_never_raise_anything_else(kind: str) -> None:
    """Flipped bytes and cuts anywhere: either a clean result or MediaRejected, nothing else."""
    original = PHONE_FILES[kind]()
    rng = np.random.default_rng(len(original))
    for attempt in range(40):
        data = bytearray(original)
        if attempt % 2:
            for position in rng.integers(0, len(data), size=4):
                data[position] = int(rng.integers(0, 256))
        else:
            del data[int(rng.integers(1, len(data))) :]
        try:
            clean, _ = _process(bytes(data))
        except MediaRejected:
            continue
        assert opened(clean.data).size


# --- variants and fingerprints ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((2000, 1500), [(360, 270), (720, 540), (1440, 1080)]),
        ((1000, 800), [(360, 288), (720, 576)]),
        ((1000, 2000), [(360, 720), (720, 1440)]),
        ((300, 200), [(300, 200)]),
        ((360, 10), [(360, 10)]),
        ((1, 1), [(1, 1)]),
    ],
)
def test_variants_are_webp_never_upscaled_and_keep_the_aspect(
    size: tuple[int, int], expected: list[tuple[int, int]]
) -> None:
    clean = processing.clean_original(encode(textured(*size), "JPEG", quality=90))
    for derived in (processing.derive(clean.data), _process(clean.data)[1]):
        assert [(v.width, v.height) for v in derived.variants] == expected
        for variant in derived.variants:
            assert variant.format == "webp" and variant.data[8:12] == b"WEBP"
            assert opened(variant.data).size == (variant.width, variant.height)


def test_blurhash_is_valid_and_decodes_to_the_images_colours() -> None:
    derived = processing.derive(processing.clean_original(encode(halves(400, 200), "PNG")).data)
    alphabet = set(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
    )
    assert len(derived.blurhash) == 4 + 2 * 4 * 3 and set(derived.blurhash) <= alphabet
    assert blurhash.components(derived.blurhash) == (4, 3)
    pixels = np.asarray(blurhash.decode(derived.blurhash, 8, 4))
    assert pixels[2, 0, 0] > pixels[2, 0, 2] and pixels[2, 7, 2] > pixels[2, 7, 0]  # red | blue


def test_dominant_colour_of_a_solid_red_image_is_red() -> None:
    derived = processing.derive(
        processing.clean_original(encode(Image.new("RGB", (500, 400), "red"), "JPEG")).data
    )
    red, green, blue = rgb(derived.dominant_color)
    assert red >= 245 and green <= 10 and blue <= 10


def test_dominant_colour_is_the_biggest_area_not_the_average() -> None:
    image = Image.new("RGB", (400, 400), (20, 120, 220))
    image.paste((250, 250, 250), (0, 0, 400, 120))
    derived = processing.derive(encode(image, "PNG"))
    assert near(rgb(derived.dominant_color), (20, 120, 220), 8)


def pdq_of(image: Image.Image, format: str = "JPEG", **options: Any) -> tuple[str, int]:
    derived = processing.derive(processing.clean_original(encode(image, format, **options)).data)
    assert len(derived.pdq_hash) == 64 and int(derived.pdq_hash, 16) >= 0
    return derived.pdq_hash, derived.pdq_quality


def hamming(left: str, right: str) -> int:
    return (int(left, 16) ^ int(right, 16)).bit_count()


def test_pdq_matches_a_resized_reencoded_copy_and_not_another_photo() -> None:
    astronaut = skimage_photo("astronaut.png")
    original, quality = pdq_of(astronaut, quality=92)
    copy, _ = pdq_of(astronaut.resize((300, 300)), "WEBP", quality=60)
    other, _ = pdq_of(skimage_photo("coffee.png"), quality=92)
    assert quality >= 50
    assert hamming(original, copy) <= 31  # the usual PDQ match threshold
    assert hamming(original, other) >= 80


def test_the_fast_path_equals_clean_then_derive() -> None:
    image = textured(900, 700)
    image.paste((30, 160, 90), (0, 0, 600, 700))
    data = phone_jpeg(image, orientation=6)
    clean, fast = _process(data)
    assert clean == processing.clean_original(data)
    slow = processing.derive(clean.data)
    assert [(v.width, v.height) for v in fast.variants] == [
        (v.width, v.height) for v in slow.variants
    ]
    assert hamming(fast.pdq_hash, slow.pdq_hash) <= 16
    for derived in (fast, slow):
        assert near(rgb(derived.dominant_color), (30, 160, 90), 8)


# --- text covers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "春天的第一杯咖啡",
        "Weekend hike around West Lake",
        "上海周末去哪儿？Shanghai weekend guide，超详细！" * 3,
        "Supercalifragilisticexpialidocious" * 3,
        "",
    ],
)
def test_text_cover_renders_titles_at_the_requested_size(title: str) -> None:
    data = processing.text_cover(title, "#ff2442")
    image = opened(data)
    assert image.size == (720, 960) and image.format in ("PNG", "WEBP")
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert (len(colours) > 2) == bool(title)
    assert processing.clean_original(data).width == 720  # an upload like any other
    assert opened(processing.text_cover(title, "#fafafa", size=(300, 400))).size == (300, 400)


def test_text_cover_draws_chinese_glyphs_when_a_cjk_font_is_installed() -> None:
    if processing.cover_font() is None:
        pytest.skip("no CJK font on this machine; covers fall back to Pillow's font")
    spring = np.asarray(opened(processing.text_cover("春天", "#2f6fed")).convert("L"))
    autumn = np.asarray(opened(processing.text_cover("秋天", "#2f6fed")).convert("L"))
    assert (spring != autumn).sum() > 500  # distinct glyphs, not two identical missing-glyph boxes


def test_text_cover_rejects_a_colour_it_cannot_read() -> None:
    with pytest.raises(ValueError):
        processing.text_cover("hello", "not-a-colour")


def test_text_cover_keeps_working_without_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processing, "cover_font", lambda: None)
    processing._font.cache_clear()
    try:
        for title in ("春天的第一杯咖啡", "Weekend hike around West Lake"):
            image = opened(processing.text_cover(title, "#12a37f"))
            assert image.size == (720, 960) and len(image.getcolors(maxcolors=100_000) or []) > 2
    finally:
        processing._font.cache_clear()
