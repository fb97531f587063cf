"""Profile photos: check an upload and re-encode it (the only module that imports Pillow).

An upload is never stored as sent. It is decoded, turned upright by its EXIF orientation, scaled
down and written again from its pixels alone, so no metadata (EXIF with GPS positions, camera serial
numbers, XMP, ICC profiles, text chunks) and nothing that only looks like an image ever reaches
another person's browser.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from knet.errors import Invalid

logger = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 4000
#: The longest side of a stored photo: enough for a profile page on a high-density screen.
STORED_SIDE = 512
JPEG_QUALITY = 85
#: The formats an upload may be in, by Pillow's name; Pillow tries no other decoder on an upload.
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
ACCEPTED_TYPES = ("image/png", "image/jpeg", "image/webp")

# Pillow refuses (DecompressionBombError) images of more than twice this many pixels as soon as it has
# read their header, and warns above it; no accepted photo comes near (a 4000 × 4000 photo is exactly
# this). Set once here, as Pillow's own guard is process-wide and this module is its only user.
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE

NOT_A_PHOTO = _l("The photo must be a PNG, JPEG or WebP image of at most 2 MB.")
TOO_LARGE = _l("The photo may be at most %(side)d × %(side)d pixels.", side=MAX_SIDE)


@dataclass(frozen=True)
class Photo:
    """A photo ready to store and serve: re-encoded bytes and their media type."""

    data: bytes
    content_type: str


def prepare(data: bytes) -> Photo:
    """Check an uploaded photo and re-encode it without metadata, upright, at most STORED_SIDE pixels
    a side: as JPEG, or as PNG when it has transparency. Raise Invalid (field "photo") otherwise."""
    if not data or len(data) > MAX_BYTES:
        raise Invalid(NOT_A_PHOTO, field="photo")
    try:
        # Image.open reads the header only: the size is known (and bombs refused) before decoding.
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            _check_size(image.size)
            image.verify()  # structure and checksums, without decoding the pixels
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning arrives as an exception only where warnings are errors (as in the tests).
        raise Invalid(TOO_LARGE, field="photo") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        # Not an image in an accepted format, or a damaged one (truncated, bad checksums).
        logger.info("Refused a photo upload of %d bytes: %s", len(data), exc)
        raise Invalid(NOT_A_PHOTO, field="photo") from exc
    return _encode(upright)


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise Invalid(NOT_A_PHOTO, field="photo")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise Invalid(TOO_LARGE, field="photo")


def _encode(image: Image.Image) -> Photo:
    transparent = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if transparent else "RGB")
    image.thumbnail((STORED_SIDE, STORED_SIDE), Image.Resampling.LANCZOS)
    # A new image from the pixels alone: nothing of the upload's `info` (EXIF, ICC, XMP, text) survives.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    if transparent:
        clean.save(out, "PNG", optimize=True)
        return Photo(out.getvalue(), "image/png")
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return Photo(out.getvalue(), "image/jpeg")
