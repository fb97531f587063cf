"""auth/photos.py: real images made with Pillow here; what is accepted, what is refused, what is kept."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from flask_babel import force_locale
from PIL import Image, PngImagePlugin

from auth import photos
from knet.errors import Invalid

ORIENTATION = 0x0112
GPS_INFO = 0x8825


def encoded(image: Image.Image, kind: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def exif_with(**tags) -> Image.Exif:
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[{"orientation": ORIENTATION, "make": 0x010F}[tag]] = value
    return exif


def png_header(width: int, height: int) -> bytes:
    """A PNG that is only a signature and a header claiming these dimensions (no pixels at all)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def opened(photo: photos.Photo) -> Image.Image:
    image = Image.open(io.BytesIO(photo.data))
    image.load()
    return image


@pytest.fixture(autouse=True)
def in_english():
    """The sentences in English, whatever the node's language (the translations may come later)."""
    with force_locale("en"):
        yield


def refusal(data: bytes) -> str:
    with pytest.raises(Invalid) as refused:
        photos.prepare(data)
    assert refused.value.extra["field"] == "photo"
    return refused.value.message


def test_a_png_is_reduced_and_stored_without_its_metadata():
    image = Image.new("RGB", (1200, 900), (20, 120, 200))
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "taken at home, 38.0N 23.7E")
    upload = encoded(image, "PNG", pnginfo=text, exif=exif_with(make="Camera Inc."))
    assert b"Camera Inc." in upload and b"38.0N" in upload
    photo = photos.prepare(upload)
    assert photo.content_type == "image/jpeg"
    stored = opened(photo)
    assert stored.format == "JPEG" and stored.size == (512, 384)
    assert not stored.getexif() and "exif" not in stored.info and "icc_profile" not in stored.info
    assert b"Camera Inc." not in photo.data and b"38.0N" not in photo.data
    assert stored.getpixel((256, 192)) == pytest.approx((20, 120, 200), abs=3)


def test_exif_orientation_is_applied_and_dropped():
    # Stored sideways with "rotate 90° clockwise to display" (orientation 6), as phones do.
    image = Image.new("RGB", (300, 100), (200, 30, 30))
    image.paste((30, 200, 30), (0, 0, 20, 100))  # a green band on the left as stored
    photo = photos.prepare(encoded(image, "JPEG", exif=exif_with(orientation=6, make="Phone")))
    stored = opened(photo)
    assert stored.size == (100, 300)  # upright
    assert stored.getpixel((50, 5))[1] > 150  # the band is now at the top
    assert not stored.getexif()


def test_transparency_is_kept_as_png():
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (16, 16, 48, 48))
    photo = photos.prepare(encoded(image, "PNG"))
    stored = opened(photo)
    assert photo.content_type == "image/png" and stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0 and stored.getpixel((32, 32)) == (255, 0, 0, 255)


@pytest.mark.parametrize("kind", ["WEBP", "JPEG"])
def test_webp_and_jpeg_are_accepted(kind):
    photo = photos.prepare(encoded(Image.new("RGB", (80, 60), "white"), kind))
    assert photo.content_type == "image/jpeg" and opened(photo).size == (80, 60)


def test_more_than_2_mb_is_refused_before_decoding():
    too_big = encoded(Image.new("RGB", (10, 10)), "PNG") + b"\0" * photos.MAX_BYTES
    assert refusal(too_big) == "The photo must be a PNG, JPEG or WebP image of at most 2 MB."
    assert refusal(b"") == "The photo must be a PNG, JPEG or WebP image of at most 2 MB."


@pytest.mark.parametrize("data", [
    b"Hello, I am a text file called photo.png\n",
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"\x89PNG\r\n\x1a\n" + b"\0" * 100,  # a PNG signature and nothing sensible after it
], ids=["text", "svg", "broken-png"])
def test_what_is_not_an_image_is_refused(data):
    assert refusal(data) == "The photo must be a PNG, JPEG or WebP image of at most 2 MB."


def test_other_image_formats_and_truncated_images_are_refused():
    picture = Image.new("RGB", (200, 200), "red")
    assert "PNG, JPEG or WebP" in refusal(encoded(picture, "GIF"))
    assert "PNG, JPEG or WebP" in refusal(encoded(picture, "BMP"))
    noisy = Image.effect_noise((200, 200), 80).convert("RGB")
    assert "PNG, JPEG or WebP" in refusal(encoded(noisy, "JPEG")[:2000])
    assert "PNG, JPEG or WebP" in refusal(encoded(noisy, "PNG")[:-40])


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (4500, 4500), (6000, 6000)])
def test_a_decompression_bomb_is_refused_from_its_header(width, height):
    bomb = png_header(width, height)
    assert len(bomb) < 100
    assert refusal(bomb) == "The photo may be at most 4000 × 4000 pixels."


def test_huge_dimensions_are_refused():
    # Few pixels in all (no bomb), but a side longer than 4000.
    for size in ((4001, 10), (10, 4001)):
        assert refusal(encoded(Image.new("L", size), "PNG")) == "The photo may be at most 4000 × 4000 pixels."
    photo = photos.prepare(encoded(Image.new("L", (4000, 10)), "PNG"))
    assert opened(photo).size == (512, 1)
