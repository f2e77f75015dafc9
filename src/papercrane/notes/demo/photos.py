"""Demo fixtures that ``papercrane seed-demo`` loads.

The demo community is described by two JSON files that live next to this
module:

* ``members.json`` -- twelve demo members (username, display name, bio,
  language and time zone).
* ``notes.json`` -- sixty notes written by those members, each with one to
  four photo refs.

A photo ref names one of the sample photographs that ship inside
scikit-image's package data directory, plus an optional crop box and
bilingual alt text::

    {"image": "coffee.png", "crop": [150, 0, 450, 400],
     "alt": {"en": "...", "zh-Hans": "..."}}

Images are read straight from the installed ``skimage/data`` folder via
:mod:`importlib.resources`; the ``skimage.data`` fetchers are deliberately not
used because they may try to download files.
"""

from __future__ import annotations

import io
import json
from importlib import resources
from typing import Any

from PIL import Image

JPEG_QUALITY = 85

#: Photographs bundled with scikit-image that demo notes may reference.
DEMO_IMAGES: frozenset[str] = frozenset(
    {
        "astronaut.png",
        "brick.png",
        "camera.png",
        "cell.png",
        "chelsea.png",
        "coffee.png",
        "coins.png",
        "color.png",
        "grass.png",
        "gravel.png",
        "horse.png",
        "hubble_deep_field.jpg",
        "ihc.png",
        "moon.png",
        "motorcycle_left.png",
        "page.png",
        "retina.jpg",
        "rocket.jpg",
        "text.png",
    }
)

_PACKAGE = __name__.rpartition(".")[0]


def _load_json_list(filename: str) -> list[dict[str, Any]]:
    text = resources.files(_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, list):
        msg = f"{filename} must contain a JSON list"
        raise TypeError(msg)
    return [dict(item) for item in data]


def load_members() -> list[dict[str, Any]]:
    """Return the demo members from ``members.json``."""
    return _load_json_list("members.json")


def load_notes() -> list[dict[str, Any]]:
    """Return the demo notes from ``notes.json``."""
    return _load_json_list("notes.json")


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert to RGB, flattening any transparency onto white."""
    has_alpha = image.mode in {"RGBA", "LA"}
    if has_alpha or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def demo_photo_bytes(ref: dict[str, Any]) -> bytes:
    """Render a demo photo ref to JPEG bytes (RGB, optionally cropped, quality 85)."""
    name = ref["image"]
    if name not in DEMO_IMAGES:
        msg = f"unknown demo image: {name!r}"
        raise ValueError(msg)
    source = resources.files("skimage").joinpath("data", name)
    with source.open("rb") as fh, Image.open(fh) as opened:
        image = _to_rgb(opened)
    crop = ref.get("crop")
    if crop is not None:
        left, top, right, bottom = (int(v) for v in crop)
        if not (0 <= left < right <= image.width and 0 <= top < bottom <= image.height):
            msg = f"crop {crop!r} is outside {name} ({image.width}x{image.height})"
            raise ValueError(msg)
        image = image.crop((left, top, right, bottom))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()
