"""Posting a photo note from the web composer, end to end, in a real browser."""

from __future__ import annotations

import io
import secrets
import urllib.request
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "paper-crane-flies-2026"
LEAKS = [b"SecretPhone", b"GPS", b"Exif", b"home address"]


def _phone_photo(path: Path, colour: str, size: tuple[int, int] = (1600, 1200)) -> Path:
    """A JPEG like a phone's: rotated by EXIF orientation and carrying GPS and a device name."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "SecretPhone"
    exif[0x010E] = "home address"
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (31.0, 13.0, 49.0)
    image.save(path, format="JPEG", exif=exif)
    return path


def _sign_up(page: Page) -> str:
    username = f"poster_{secrets.token_hex(3)}"
    page.goto("/signup")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"/@{username}")
    return username


def test_post_a_note_with_phone_photos_from_the_composer(
    page: Page, server: str, tmp_path: Path
) -> None:
    """Photos upload as they are picked, can be reordered and described, the title counter counts
    like the server, and the note shows them without any of the phones' metadata."""
    _sign_up(page)
    page.goto("/post")
    photos = [_phone_photo(tmp_path / f"{name}.jpg", name) for name in ("red", "blue")]
    page.locator("#photos").set_input_files([str(p) for p in photos])
    tiles = page.locator("[data-tiles] li[data-media-id]")
    expect(tiles).to_have_count(2)
    first_id, second_id = (
        tiles.nth(0).get_attribute("data-media-id"),
        tiles.nth(1).get_attribute("data-media-id"),
    )
    tiles.nth(1).get_by_role("button", name="Make cover").click()
    expect(page.locator("[data-media-ids]")).to_have_value(f"{second_id},{first_id}")
    page.get_by_label("Describe this photo").first.fill("A blue square")

    title = page.get_by_label("Title", exact=True)
    title.fill("周末 brunch 日记")
    expect(page.locator("[data-title-count]")).to_have_text("8 / 20")
    title.fill("好" * 21)
    expect(page.locator("[data-title-count]")).to_have_class("help counter over")
    title.fill("周末 brunch 日记")
    page.get_by_label("Text", exact=True).fill("两张照片 #brunch")
    page.get_by_role("button", name="Publish").click()

    expect(page.get_by_role("heading", name="周末 brunch 日记")).to_be_visible()
    slides = page.locator(".slide img.photo")
    expect(slides).to_have_count(2)
    expect(slides.first).to_have_attribute("alt", "A blue square")
    assert slides.first.get_attribute("width") == "1200"  # EXIF orientation applied: portrait
    page.get_by_role("button", name="Next photo").click()
    expect(page.locator("[data-current]")).to_have_text("2")
    for image in slides.all():
        src = image.get_attribute("src") or ""
        with urllib.request.urlopen(server + src, timeout=5) as response:  # noqa: S310 (our server)
            served = response.read()
        assert not any(leak in served for leak in LEAKS)
        assert Image.open(io.BytesIO(served)).size in {
            (1200, 1600),
            (360, 480),
            (720, 960),
            (1440, 1920),
        }


def test_cards_reserve_their_space_and_gain_variants(
    page: Page, server: str, tmp_path: Path
) -> None:
    """The card on the profile grid has its size before the photo loads, and the worker's
    variants replace the original shortly after posting."""
    username = _sign_up(page)
    page.goto("/post")
    page.locator("#photos").set_input_files(
        str(_phone_photo(tmp_path / "green.jpg", "green", (900, 1200)))
    )
    expect(page.locator("[data-tiles] li[data-media-id]")).to_have_count(1)
    page.get_by_label("Title", exact=True).fill("Green")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", name="Green")).to_be_visible()
    for _ in range(20):
        page.goto(f"/@{username}")
        photo = page.locator(".card .photo").first
        if (photo.get_attribute("src") or "").endswith("-720.webp"):
            break
        page.wait_for_timeout(500)
    assert (photo.get_attribute("src") or "").endswith("-720.webp")
    assert photo.get_attribute("width") == "1200" and photo.get_attribute("height") == "900"
    expect(page.locator(".card .placeholder").first).to_have_attribute(
        "src", __import__("re").compile("^data:image/png")
    )
