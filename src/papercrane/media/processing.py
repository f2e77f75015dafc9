"""Image processing for uploads: pure functions on bytes, no models and no storage.

The pipeline, and why it is shaped this way:

* ``probe`` identifies a file by its content (magic bytes, then a header walk written here) and
  enforces the byte, pixel and frame limits *before* any decoder touches the pixel data, so a
  tiny file declaring 30000x30000 pixels costs microseconds, not gigabytes.
* Decoding goes through libvips (pyvips) with an explicit loader per format: libvips decodes in
  strips, shrinks JPEGs while loading (libjpeg DCT scaling) and resizes several times faster
  than Pillow on one core (see ``bench/media.py``). HEIC is the exception: the libvips wheel
  has no HEVC decoder, so pillow-heif decodes it and hands the pixels to libvips.
* ``clean_original`` re-encodes the decoded pixels (oriented, sRGB, no metadata at all) so that
  nothing a phone wrote into the file (GPS, device, times, comments, XMP) is ever stored.
* ``derive`` makes WebP variants, a blurhash, a dominant colour and a PDQ hash, all from
  downscaled pixels. The upload request runs ``clean_original``; a worker later runs
  ``derive`` on the stored result.
* ``text_cover`` draws a title card for notes without photos.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import io
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import blurhash as blurhash_codec
import numpy as np
import pdqhash
import pillow_heif
import pyvips
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageColor, ImageDraw, ImageFont

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
# Past this a side cannot be a WebP variant (the format's limit), and no photo is this long.
MAX_SIDE = 16_383
# Only the first frame is used; more frames than this means an animation we do not want to parse.
MAX_FRAMES = 64
VARIANT_WIDTHS = (360, 720, 1440)

JPEG_QUALITY = 88
WEBP_QUALITY = 75  # cwebp's own default; q80 costs ~15% more CPU and ~25% more bytes
# WebP effort (libwebp "method", 0-6) per variant width: the widest variant dominates the CPU
# cost, so it gets the fastest setting; narrower ones are cheap enough to compress harder.
# Past 2 the gain is ~2% smaller files for twice the time.
WEBP_EFFORT = {1440: 0, 720: 1, 360: 2}
WEBP_EFFORT_OTHER = 2
BLURHASH_COMPONENTS = (4, 3)
BLURHASH_THUMB = 32
# Hostile-input bounds for the header walkers (legitimate files stay far below them).
MAX_JPEG_SCANS = 256
MAX_SEGMENTS = 50_000
MAX_BOX_DEPTH = 8


def _configure_decoders() -> None:
    """libvips is shared process-wide: no operation cache (it would pin decoded photos in
    memory), and only the four loaders we call by name may run, so no file can reach the SVG,
    PDF, TIFF, matrix or ImageMagick loaders by sniffing. pillow-heif reads only the primary
    image, never thumbnails, depth maps or auxiliary images."""
    pyvips.cache_set_max(0)
    pyvips.block_untrusted_set(True)
    pyvips.operation_block_set("VipsForeignLoad", True)
    for loader in ("Jpeg", "Png", "Webp", "Heif"):
        pyvips.operation_block_set(f"VipsForeignLoad{loader}Buffer", False)
    pillow_heif.options.THUMBNAILS = False
    pillow_heif.options.DEPTH_IMAGES = False
    pillow_heif.options.AUX_IMAGES = False


_configure_decoders()


class MediaRejected(Exception):
    """An upload we will not store; ``message`` is user-facing and translatable."""

    MESSAGES: ClassVar[dict[str, Any]] = {
        "empty": _("The file is empty."),
        "too_large": format_lazy(
            _("The file is too large: the limit is {limit} MB."), limit=MAX_BYTES // (1024 * 1024)
        ),
        "unsupported": _(
            "This file type is not supported. Upload a JPEG, PNG, WebP, HEIC or AVIF photo."
        ),
        "too_many_pixels": format_lazy(
            _("The image is too large: at most {megapixels} megapixels, {side} pixels a side."),
            megapixels=MAX_PIXELS // 1_000_000,
            side=MAX_SIDE,
        ),
        "too_many_frames": format_lazy(
            _("The image has too many frames: the limit is {limit}."), limit=MAX_FRAMES
        ),
        "unreadable": _("The image could not be read. It may be damaged or incomplete."),
    }

    def __init__(self, code: str) -> None:
        if code not in self.MESSAGES:
            raise ValueError(f"unknown rejection code {code!r}")
        super().__init__(code)
        self.code = code
        self.status = 415 if code == "unsupported" else 422
        self.message = self.MESSAGES[code]


@dataclass(frozen=True)
class Probe:
    """What the header says: format, stored (pre-orientation) size and frame count."""

    format: str  # "jpeg" | "png" | "webp" | "heif" | "avif"
    width: int
    height: int
    frames: int


@dataclass(frozen=True)
class CleanImage:
    """The re-encoded original: oriented, sRGB, no metadata. ``extension`` has no dot."""

    data: bytes
    mime_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    format: str
    data: bytes


@dataclass(frozen=True)
class Derived:
    variants: list[Variant]  # narrowest first
    blurhash: str
    dominant_color: str  # "#rrggbb"
    pdq_hash: str  # 64 hex digits, the PDQ reference format
    pdq_quality: int  # 0-100; below ~50 the hash is not worth matching on


# --------------------------------------------------------------------------------------------
# probe: identify by content, read the header, enforce limits before decoding


def probe(data: bytes) -> Probe:
    """Identify ``data`` by its bytes and check every limit without decoding pixels."""
    if not data:
        raise MediaRejected("empty")
    if len(data) > MAX_BYTES:
        raise MediaRejected("too_large")
    kind = _sniff(data)
    try:
        found = _HEADER_READERS[kind](data)
    except (struct.error, IndexError, KeyError, ValueError) as error:
        raise MediaRejected("unreadable") from error
    _check_limits(found)
    return found


def _sniff(data: bytes) -> str:
    """The container by its magic bytes; anything else is unsupported (SVG, GIF, TIFF, zip...)."""
    if len(data) < 12:
        raise MediaRejected("unreadable")  # too short to hold any image header
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        return "isobmff"
    raise MediaRejected("unsupported")


def _check_limits(found: Probe) -> None:
    if found.width < 1 or found.height < 1:
        raise MediaRejected("unreadable")
    if max(found.width, found.height) > MAX_SIDE or found.width * found.height > MAX_PIXELS:
        raise MediaRejected("too_many_pixels")
    if found.frames > MAX_FRAMES:
        raise MediaRejected("too_many_frames")


_SOF_MARKERS = frozenset(
    {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), 0xCD, 0xCE, 0xCF}
)
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
# In entropy-coded data 0xFF is always followed by 0x00 (stuffing), a restart marker or more
# 0xFF fill bytes; the first 0xFF followed by anything else is the next real marker.
_NEXT_MARKER = re.compile(rb"\xff(?![\x00\xd0-\xd7\xff])")
_FILL_BYTES = re.compile(rb"\xff+")  # a marker may be preceded by any number of fill bytes


def _jpeg_header(data: bytes) -> Probe:
    """Walk the JPEG marker segments to EOI: dimensions from SOF, and structural checks.

    Checking the structure (every marker valid, no stray marker inside scans, an EOI) catches
    truncated files and garbage after the header, which libjpeg would only warn about and
    decode as grey or noise; capping scans bounds the progressive-JPEG CPU attack.
    """
    pos, size, scans = 2, None, 0
    for _segment in range(MAX_SEGMENTS):
        fill = _FILL_BYTES.match(data, pos)
        if fill is None:
            raise ValueError("expected a marker")
        pos = fill.end()
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI; anything after it (MPF images, maker trailers) is ignored
            if size is None or scans == 0:
                raise ValueError("no image before EOI")
            return Probe("jpeg", size[0], size[1], 1)
        if marker in _STANDALONE_MARKERS:
            continue
        if marker < 0xC0 or marker == 0xD8:
            raise ValueError("invalid marker")
        length = struct.unpack_from(">H", data, pos)[0]
        if length < 2 or pos + length > len(data):
            raise ValueError("segment past the end")
        if marker in _SOF_MARKERS and size is None:
            height, width = struct.unpack_from(">HH", data, pos + 3)
            size = (width, height)
        pos += length
        if marker == 0xDA:
            scans += 1
            if size is None or scans > MAX_JPEG_SCANS:
                raise ValueError("scan before frame header, or too many scans")
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                raise ValueError("truncated scan")
            pos = found.start()
    raise ValueError("too many segments")


def _png_header(data: bytes) -> Probe:
    """IHDR for the size, acTL for the frame count; the chunk walk must reach IEND."""
    pos, width, height, frames, seen_idat = 8, 0, 0, 1, False
    for index in range(MAX_SEGMENTS):
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > len(data):
            raise ValueError("chunk past the end")
        body = pos + 8
        if index == 0:
            if kind != b"IHDR" or length != 13:
                raise ValueError("IHDR must come first")
            width, height = struct.unpack_from(">II", data, body)
        elif kind == b"acTL" and not seen_idat:
            frames = struct.unpack_from(">I", data, body)[0]
        elif kind == b"IDAT":
            seen_idat = True
        elif kind == b"IEND":
            if not seen_idat:
                raise ValueError("no image data")
            return Probe("png", width, height, max(frames, 1))
        pos = end
    raise ValueError("too many chunks")


def _webp_header(data: bytes) -> Probe:
    """Size from the VP8/VP8L/VP8X chunk; frames = ANMF chunks of an animation."""
    riff_end = 8 + struct.unpack_from("<I", data, 4)[0]
    if riff_end > len(data):
        raise ValueError("truncated RIFF")
    pos, size, frames, has_image = 12, None, 0, False
    for _chunk in range(MAX_SEGMENTS):
        if pos + 8 > riff_end:
            break
        kind, length = struct.unpack_from("<4sI", data, pos)
        body, pos = pos + 8, pos + 8 + length + (length & 1)
        if body + length > riff_end:
            raise ValueError("chunk past the end")
        if kind in (b"VP8 ", b"VP8L"):
            has_image = True
            size = size or _webp_bitstream_size(kind, data[body : body + min(length, 10)])
        elif kind == b"VP8X" and size is None:
            size = (
                int.from_bytes(data[body + 4 : body + 7], "little") + 1,
                int.from_bytes(data[body + 7 : body + 10], "little") + 1,
            )
        elif kind == b"ANMF":
            frames += 1
            has_image = True
    else:
        raise ValueError("too many chunks")
    if size is None or not has_image:
        raise ValueError("no image")
    return Probe("webp", size[0], size[1], max(frames, 1))


def _webp_bitstream_size(kind: bytes, head: bytes) -> tuple[int, int]:
    if kind == b"VP8 ":
        if head[3:6] != b"\x9d\x01\x2a":
            raise ValueError("bad VP8 start code")
        width, height = struct.unpack_from("<HH", head, 6)
        return width & 0x3FFF, height & 0x3FFF
    if head[0] != 0x2F:
        raise ValueError("bad VP8L signature")
    bits = struct.unpack_from("<I", head, 1)[0]
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


# --- HEIF / AVIF (ISO base media file format) ------------------------------------------------

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_CODED_TYPES = {b"hvc1": "heif", b"av01": "avif"}
_DERIVED_TYPES = frozenset({b"grid", b"iden", b"iovl"})


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, body end) of the boxes between start and end, bounds-checked."""
    pos = start
    for _box in range(MAX_SEGMENTS):
        if pos + 8 > end:
            return
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError("box past the end")
        yield kind, pos + header, pos + size
        pos += size
    raise ValueError("too many boxes")


@dataclass
class _HeifItems:
    """The parts of a HEIF 'meta' box that decide format, size and frame count."""

    primary: int = -1
    types: dict[int, bytes] = field(default_factory=dict)
    hidden: set[int] = field(default_factory=set)
    refs: list[tuple[bytes, int, list[int]]] = field(default_factory=list)
    sizes: list[tuple[int, int, int]] = field(default_factory=list)  # (property index, w, h)
    props: dict[int, list[int]] = field(default_factory=dict)  # item id -> property indexes


def _isobmff_header(data: bytes) -> Probe:
    """Brands and items of a HEIF/AVIF file: primary item's size (ispe), top-level images."""
    top = {kind: (body, end) for kind, body, end in _boxes(data, 0, len(data))}
    ftyp_body, ftyp_end = top[b"ftyp"]
    brands = {data[ftyp_body : ftyp_body + 4]}
    brands.update(data[p : p + 4] for p in range(ftyp_body + 8, ftyp_end - 3, 4))
    if not brands & (_HEIF_BRANDS | _AVIF_BRANDS | {b"mif1", b"msf1"}):
        raise MediaRejected("unsupported")  # MP4/MOV video, camera raw, JPEG 2000...
    sequence_frames = _sequence_frames(data, *top[b"moov"]) if b"moov" in top else 0
    if b"meta" not in top:
        if sequence_frames > MAX_FRAMES:
            raise MediaRejected("too_many_frames")
        raise ValueError("no still image")
    items = _heif_items(data, *top[b"meta"])
    kind = _heif_kind(items)
    width, height = _heif_size(items)
    frames = max(_heif_top_level_count(items), sequence_frames, 1)
    return Probe(kind, width, height, frames)


def _heif_items(data: bytes, body: int, end: int) -> _HeifItems:
    items = _HeifItems()
    for kind, start, stop in _boxes(data, body + 4, end):  # meta is a full box
        if kind == b"pitm":
            items.primary = _read_id(data, start + 4, data[start])
        elif kind == b"iinf":
            _read_iinf(data, start, stop, items)
        elif kind == b"iref":
            _read_iref(data, start, stop, items)
        elif kind == b"iprp":
            _read_iprp(data, start, stop, items)
    return items


def _read_id(data: bytes, pos: int, version: int) -> int:
    return int(struct.unpack_from(">H" if version == 0 else ">I", data, pos)[0])


def _read_iinf(data: bytes, start: int, stop: int, items: _HeifItems) -> None:
    first = start + (6 if data[start] == 0 else 8)
    for kind, body, _end in _boxes(data, first, stop):
        version = data[body]
        if kind != b"infe" or version < 2:
            continue
        item_id = _read_id(data, body + 4, 0 if version == 2 else 1)
        type_at = body + (8 if version == 2 else 10)
        items.types[item_id] = data[type_at : type_at + 4]
        if int.from_bytes(data[body + 1 : body + 4], "big") & 1:
            items.hidden.add(item_id)


def _read_iref(data: bytes, start: int, stop: int, items: _HeifItems) -> None:
    version = data[start]
    width = 2 if version == 0 else 4
    for kind, body, _end in _boxes(data, start + 4, stop):
        source = _read_id(data, body, version)
        count = struct.unpack_from(">H", data, body + width)[0]
        targets = [_read_id(data, body + width + 2 + i * width, version) for i in range(count)]
        items.refs.append((kind, source, targets))


def _read_iprp(data: bytes, start: int, stop: int, items: _HeifItems) -> None:
    for kind, body, end in _boxes(data, start, stop):
        if kind == b"ipco":
            for index, (prop, pbody, _pend) in enumerate(_boxes(data, body, end), start=1):
                if prop == b"ispe":
                    width, height = struct.unpack_from(">II", data, pbody + 4)
                    items.sizes.append((index, width, height))
        elif kind == b"ipma":
            _read_ipma(data, body, items.props)


def _read_ipma(data: bytes, body: int, props: dict[int, list[int]]) -> None:
    version, flags = data[body], int.from_bytes(data[body + 1 : body + 4], "big")
    count = struct.unpack_from(">I", data, body + 4)[0]
    pos = body + 8
    for _entry in range(min(count, MAX_SEGMENTS)):
        item_id = _read_id(data, pos, version)
        pos += 2 if version == 0 else 4
        associations = data[pos]
        pos += 1
        indexes = []
        for _association in range(associations):
            if flags & 1:
                indexes.append(struct.unpack_from(">H", data, pos)[0] & 0x7FFF)
                pos += 2
            else:
                indexes.append(data[pos] & 0x7F)
                pos += 1
        props[item_id] = indexes


def _heif_kind(items: _HeifItems) -> str:
    """hvc1 -> heif, av01 -> avif (derived grids: by their tiles); other codecs unsupported."""
    kind = items.types.get(items.primary)
    if kind in _DERIVED_TYPES:
        tiles = [
            t for ref, src, ts in items.refs if ref == b"dimg" and src == items.primary for t in ts
        ]
        kind = items.types.get(tiles[0]) if tiles else None
    if kind not in _CODED_TYPES:
        raise MediaRejected("unsupported")
    return _CODED_TYPES[kind]


def _heif_size(items: _HeifItems) -> tuple[int, int]:
    """The primary item's ispe; any item larger than the limits rejects the file outright."""
    for _index, width, height in items.sizes:
        _check_limits(Probe("heif", max(width, 1), max(height, 1), 1))
    primary_props = set(items.props.get(items.primary, []))
    for index, width, height in items.sizes:
        if index in primary_props:
            return width, height
    raise ValueError("primary image has no size")


def _heif_top_level_count(items: _HeifItems) -> int:
    """Images libheif would list: image items that are not tiles, thumbnails, aux or hidden."""
    images = {i for i, t in items.types.items() if t in _CODED_TYPES or t in _DERIVED_TYPES}
    for ref, source, targets in items.refs:
        if ref == b"dimg":
            images.difference_update(targets)
        elif ref in (b"thmb", b"auxl"):
            images.discard(source)
    return len(images - items.hidden)


def _sequence_frames(data: bytes, start: int, end: int, depth: int = 0) -> int:
    """Samples in the largest track of an image sequence (moov/trak/mdia/minf/stbl/stsz)."""
    if depth > MAX_BOX_DEPTH:
        raise ValueError("boxes nested too deep")
    frames = 0
    for kind, body, stop in _boxes(data, start, end):
        if kind == b"stsz":
            frames = max(frames, struct.unpack_from(">I", data, body + 8)[0])
        elif kind in (b"trak", b"mdia", b"minf", b"stbl"):
            frames = max(frames, _sequence_frames(data, body, stop, depth + 1))
    return frames


_HEADER_READERS = {
    "jpeg": _jpeg_header,
    "png": _png_header,
    "webp": _webp_header,
    "isobmff": _isobmff_header,
}


# --------------------------------------------------------------------------------------------
# decode: one place that turns bytes into 8-bit sRGB pixels in memory


@dataclass(frozen=True)
class _Pixels:
    """Decoded 8-bit sRGB pixels (3 or 4 bands) still in stored orientation."""

    image: Any  # pyvips.Image, in memory
    orientation: int  # EXIF orientation (1-8) not yet applied

    @property
    def swapped(self) -> bool:
        return self.orientation in (5, 6, 7, 8)

    @property
    def display_size(self) -> tuple[int, int]:
        width, height = self.image.width, self.image.height
        return (height, width) if self.swapped else (width, height)


@contextmanager
def _decoding() -> Iterator[None]:
    """Any decoder failure on hostile or damaged input becomes a 422, never a 500."""
    try:
        yield
    except MediaRejected:
        raise
    except (pyvips.Error, OSError, ValueError, RuntimeError, SyntaxError) as error:
        raise MediaRejected("unreadable") from error


def _decode(data: bytes, found: Probe, target_width: int = 0) -> _Pixels:
    """Decode, normalise to sRGB, and materialise; shrink on load when ``target_width`` allows."""
    with _decoding():
        if found.format == "heif":
            image, orientation = _load_heic(data), 1
        else:
            image = _load_vips(data, found, target_width)
            # libheif already applied AVIF's irot/imir; EXIF orientation only counts elsewhere.
            orientation = _orientation(image) if found.format != "avif" else 1
        _check_limits(Probe(found.format, image.width, image.height, 1))
        image = _drop_opaque_alpha(_materialise(_to_srgb(image)))
        return _Pixels(image, orientation)


def _load_vips(data: bytes, found: Probe, target_width: int) -> Any:
    options: dict[str, Any] = {"access": "sequential", "fail_on": "truncated"}
    if found.format == "jpeg":
        return pyvips.Image.jpegload_buffer(
            data, shrink=_jpeg_shrink(found, target_width), **options
        )
    if found.format == "png":
        return pyvips.Image.pngload_buffer(data, **options)
    if found.format == "webp":
        return pyvips.Image.webpload_buffer(data, **options)
    return pyvips.Image.heifload_buffer(data, thumbnail=False, **options)


def _jpeg_shrink(found: Probe, target_width: int) -> int:
    """The largest libjpeg DCT scale (1/2/4/8) that keeps both sides >= the target width.

    Both sides, because the EXIF orientation (read later) may swap them; that is conservative
    for landscape photos but never decodes fewer pixels than a variant needs.
    """
    if target_width <= 0:
        return 1
    shortest = min(found.width, found.height)
    for factor in (8, 4, 2):
        if shortest // factor >= target_width:
            return factor
    return 1


def _load_heic(data: bytes) -> Any:
    """HEVC-coded HEIF via pillow-heif (libheif + libde265); transforms are applied by libheif."""
    try:
        heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=True)
        _check_limits(Probe("heif", heif.size[0], heif.size[1], 1))
        pixels = np.ascontiguousarray(np.asarray(heif))
    except (EOFError, IndexError, KeyError) as error:  # pillow-heif's ways of saying "damaged"
        raise MediaRejected("unreadable") from error
    image = pyvips.Image.new_from_array(pixels)
    icc = heif.info.get("icc_profile")
    if icc:
        image = image.copy()
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", bytes(icc))
    elif _nclx_is_display_p3(heif.info.get("nclx_profile")):
        image = _p3_to_srgb(image)
    return image


def _nclx_is_display_p3(nclx: Any) -> bool:
    """iPhone HEICs describe Display P3 with nclx colour primaries 12 instead of an ICC."""
    return isinstance(nclx, dict) and nclx.get("color_primaries") == 12


def _p3_to_srgb(image: Any) -> Any:
    return image.icc_transform("srgb", input_profile="p3", intent="relative")


def _orientation(image: Any) -> int:
    if image.get_typeof("orientation") == 0:
        return 1
    value = int(image.get("orientation"))
    return value if 1 <= value <= 8 else 1


def _to_srgb(image: Any) -> Any:
    """8-bit sRGB, 3 bands (4 with alpha): convert through an embedded ICC profile if it is not
    sRGB already (a broken profile is ignored), CMYK through libvips' CMYK profile."""
    if image.interpretation == "cmyk":
        image = image.icc_transform("srgb", embedded=True, input_profile="cmyk")
    elif image.get_typeof("icc-profile-data") != 0 and not _is_srgb_profile(
        image.get("icc-profile-data")
    ):
        # A damaged profile: treat the pixels as sRGB rather than reject the photo.
        with contextlib.suppress(pyvips.Error):
            image = image.icc_transform("srgb", embedded=True, intent="relative")
    if image.interpretation not in ("srgb",) or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def _drop_opaque_alpha(image: Any) -> Any:
    """An alpha channel that hides nothing would only make the clean original a big PNG."""
    if image.bands == 4 and image.extract_band(3).min() >= 255:
        return _materialise(image.extract_band(0, n=3))
    return image


def _is_srgb_profile(icc: bytes) -> bool:
    """Most phones embed the standard sRGB profile; converting through it would be a no-op."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile)
    except (OSError, ImageCms.PyCMSError, TypeError, ValueError):
        return False
    return "srgb" in description.lower().replace(" ", "")


def _materialise(image: Any) -> Any:
    """Run the (sequential) pipeline once into memory; everything after reads these pixels."""
    memory = image.write_to_memory()
    return pyvips.Image.new_from_memory(memory, image.width, image.height, image.bands, "uchar")


def _oriented(image: Any, orientation: int) -> Any:
    """Apply an EXIF orientation with libvips' own table (all eight cases)."""
    if orientation == 1:
        return image
    tagged = image.copy()
    tagged.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return tagged.autorot()


# --------------------------------------------------------------------------------------------
# clean original


def clean_original(data: bytes) -> CleanImage:
    """Decode, orient, convert to sRGB and re-encode without any metadata."""
    found = probe(data)
    return _encode_clean(_decode(data, found))


def _encode_clean(pixels: _Pixels) -> CleanImage:
    """JPEG for photos, PNG where transparency must survive; ``keep="none"`` writes no EXIF,
    XMP, IPTC, ICC or comments (only the bare JFIF/PNG headers)."""
    with _decoding():
        image = _oriented(pixels.image, pixels.orientation)
        if image.bands == 4:
            data = image.pngsave_buffer(keep="none", compression=6)
            return CleanImage(data, "image/png", "png", image.width, image.height)
        data = image.jpegsave_buffer(Q=JPEG_QUALITY, keep="none", interlace=False)
        return CleanImage(data, "image/jpeg", "jpg", image.width, image.height)


# --------------------------------------------------------------------------------------------
# variants, blurhash, dominant colour, PDQ


def derive(clean: bytes) -> Derived:
    """Variants and fingerprints of a stored clean original, decoding only as much as needed."""
    found = probe(clean)
    pixels = _decode(clean, found, target_width=_largest_width(found))
    return _derive(pixels)


def _largest_width(found: Probe) -> int:
    """The widest variant this image can have, whichever side its orientation makes the width."""
    return max(_variant_widths(min(found.width, found.height)))


def _variant_widths(display_width: int) -> list[int]:
    """VARIANT_WIDTHS never upscaled; an image narrower than all of them gets its own width."""
    widths = [width for width in VARIANT_WIDTHS if width <= display_width]
    return widths or [display_width]


def _resized(pixels: _Pixels) -> Iterator[Any]:
    """The variants' images from the widest down: the widest is resized from the decoded pixels
    and then oriented (rotating 2.8 MP is far cheaper than 12 MP), each narrower one is resized
    from the one before it (2x steps keep it sharp). Call inside ``_decoding()``."""
    display_width, display_height = pixels.display_size
    image = pixels.image
    for width in sorted(_variant_widths(display_width), reverse=True):
        height = max(1, round(width * display_height / display_width))
        if image is pixels.image:
            stored = (height, width) if pixels.swapped else (width, height)
            image = _materialise(_oriented(_resize(image, *stored), pixels.orientation))
        else:
            image = _resize(image, width, height)
        yield image


def _derive(pixels: _Pixels) -> Derived:
    """Variants and fingerprints; fingerprints come from the narrowest variant."""
    variants: list[Variant] = []
    with _decoding():
        for image in _resized(pixels):
            effort = WEBP_EFFORT.get(image.width, WEBP_EFFORT_OTHER)
            data = image.webpsave_buffer(Q=WEBP_QUALITY, effort=effort, keep="none")
            variants.append(Variant(image.width, image.height, "webp", data))
        smallest = _flatten(image)
        tiny = smallest.thumbnail_image(BLURHASH_THUMB, height=BLURHASH_THUMB).numpy()
        pdq_hash, pdq_quality = _pdq(smallest.numpy())
    return Derived(
        variants=variants[::-1],
        blurhash=blurhash_codec.encode(tiny.tolist(), *BLURHASH_COMPONENTS),
        dominant_color=_dominant_colour(tiny),
        pdq_hash=pdq_hash,
        pdq_quality=pdq_quality,
    )


def fingerprint_pixels(data: bytes) -> np.ndarray:
    """The RGB pixels an upload of ``data`` is fingerprinted from (its narrowest variant, as
    ``derive`` makes it), without storing anything: for matching an operator's banned image
    against uploads. Rejects what an upload would be refused (``MediaRejected``)."""
    clean = clean_original(data).data
    found = probe(clean)
    pixels = _decode(clean, found, target_width=_largest_width(found))
    with _decoding():
        *_, narrowest = _resized(pixels)
        rgb: np.ndarray = _flatten(narrowest).numpy()
    return rgb


def _resize(image: Any, width: int, height: int) -> Any:
    """Exactly width x height (libvips' lanczos3 reduce; the scale factors make it exact)."""
    if (image.width, image.height) == (width, height):
        return image
    return _materialise(image.resize(width / image.width, vscale=height / image.height))


def _flatten(image: Any) -> Any:
    """Hashes and colours see a transparent image as it looks on the (white) page."""
    return image.flatten(background=[255, 255, 255]) if image.bands == 4 else image


def _pdq(rgb: np.ndarray) -> tuple[str, int]:
    """PDQ hash in the reference hex format (bit 255 first) and its quality score."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8))
    return pdq_hex(bits), int(quality)


def pdq_hex(bits: Any) -> str:
    """pdqhash's 256 bits (bit 255 first) as the reference format's 64 hex digits."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def _dominant_colour(rgb: np.ndarray) -> str:
    """Mean colour of the most common 4-bit-per-channel bucket: the colour a viewer notices
    first, not the muddy average of everything."""
    pixels = rgb[:, :, :3].reshape(-1, 3).astype(np.int64)
    buckets = (pixels[:, 0] >> 4) << 8 | (pixels[:, 1] >> 4) << 4 | pixels[:, 2] >> 4
    winner = np.bincount(buckets).argmax()
    red, green, blue = pixels[buckets == winner].mean(axis=0).round().astype(int)
    return f"#{red:02x}{green:02x}{blue:02x}"


# --------------------------------------------------------------------------------------------
# text covers

_CJK_FONT_GLOBS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-*.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-*.tt[cf]",
    "/usr/share/fonts/truetype/arphic/*.tt[cf]",
    "/usr/share/fonts/truetype/droid/DroidSansFallback*.ttf",
    "/usr/share/fonts/**/*CJK*.tt[cf]",
    "/usr/share/fonts/**/*CJK*.otf",
)
# CJK ideographs, kana, hangul and full-width forms break anywhere; other text breaks at spaces.
_TOKENS = re.compile(
    r"\s+|[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]|"
    r"[^\s\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+"
)
# Full-width and ASCII closing punctuation (comma, full stop, colon, brackets...).
_NO_LINE_START = set(
    "\uff0c\u3002\u3001\uff1b\uff1a\uff1f\uff01\uff09\u300b\u300d\u300f\u3011,.;:?!)"
)
MAX_COVER_TITLE = 120


@functools.lru_cache(maxsize=1)
def cover_font() -> tuple[str, int] | None:
    """(path, face index) of a CJK font shipped by Debian (Simplified Chinese face preferred),
    or None: text_cover then falls back to Pillow's built-in font and keeps working."""
    for pattern in _CJK_FONT_GLOBS:
        for path in sorted(glob.glob(pattern, recursive=True)):
            index = _simplified_chinese_face(path)
            if index is not None:
                return path, index
    return None


def _simplified_chinese_face(path: str) -> int | None:
    """Index of the 'SC' face in a collection (the first face if none is labelled so)."""
    first = None
    for index in range(16):
        try:
            family = ImageFont.truetype(path, 12, index=index).getname()[0] or ""
        except OSError:
            break
        first = index if first is None else first
        if family.endswith(" SC") or "GB" in family:
            return index
    return first


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = cover_font()
    if found is not None:
        return ImageFont.truetype(found[0], size, index=found[1])
    return ImageFont.load_default(size)


def text_cover(title: str, background: str, size: tuple[int, int] = (720, 960)) -> bytes:
    """A cover for a text-only note: the title large, centred and wrapped on a solid colour.

    Returns PNG bytes (crisp text, and small because the background is flat). ``background``
    is any colour Pillow understands ("#ff2442"); a bad one raises ValueError.
    """
    colour = ImageColor.getrgb(background)[:3]
    image = Image.new("RGB", size, colour)
    title = " ".join(title.split())
    if len(title) > MAX_COVER_TITLE:
        title = title[: MAX_COVER_TITLE - 1].rstrip() + "\u2026"
    if title:
        font, lines, line_height = _fit_title(title, size)
        ink = (34, 34, 34) if _luminance(colour) > 0.6 else (255, 255, 255)
        draw = ImageDraw.Draw(image)
        top = (size[1] - line_height * len(lines)) / 2
        for number, line in enumerate(lines):
            xy = (size[0] / 2, top + line_height * (number + 0.5))
            draw.text(xy, line, font=font, fill=ink, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _fit_title(
    title: str, size: tuple[int, int]
) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, list[str], int]:
    """The largest font size whose wrapped lines fit 84% of the width and 70% of the height."""
    max_width, max_height = size[0] * 0.84, size[1] * 0.70
    font_size = max(12, size[0] // 8)
    while True:
        font = _font(font_size)
        line_height = round(font_size * 1.3)
        lines = _wrap(title, font, max_width)
        if line_height * len(lines) <= max_height or font_size <= 12:
            return font, _at_most(lines, max(1, int(max_height // line_height))), line_height
        font_size = max(12, int(font_size * 0.88))


def _at_most(lines: list[str], count: int) -> list[str]:
    """The first ``count`` lines, the last one ending in an ellipsis if anything was cut."""
    if len(lines) <= count:
        return lines
    return [*lines[: count - 1], lines[count - 1][:-1].rstrip() + "\u2026"]


def _wrap(text: str, font: Any, max_width: float) -> list[str]:
    """Greedy wrap: Latin words whole (split only if one is wider than a line), CJK anywhere,
    and closing punctuation never starts a line."""
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(text):
        candidate = (line + token) if line else token.lstrip()
        if not candidate:
            continue
        if font.getlength(candidate) <= max_width or token in _NO_LINE_START or not line:
            line = candidate
        else:
            lines.append(line.rstrip())
            line = token.lstrip()
        while font.getlength(line) > max_width * 1.1 and len(line) > 1:  # one over-long word
            cut = _fitting_prefix(line, font, max_width)
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _fitting_prefix(text: str, font: Any, max_width: float) -> int:
    cut = len(text) - 1
    while cut > 1 and font.getlength(text[:cut]) > max_width:
        cut -= 1
    return cut


def _luminance(colour: tuple[int, ...]) -> float:
    red, green, blue = (channel / 255 for channel in colour[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
