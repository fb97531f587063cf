"""Readable, stable addresses for page titles in Greek or English.

Greek titles keep their Greek letters (browsers show them as written, and a transliteration such
as ELOT 743 is ambiguous to read back); letters are lower-cased and their accents and diaeresis
dropped, so «Δήμος», «ΔΗΜΟΣ» and «Δημος» share one address that can be typed without accents.
"""
from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 200
_SEPARATORS = re.compile(r"[^\w]+|_+")
_FINAL_SIGMA = re.compile(r"σ(?=-|$)")


def slugify(title: str) -> str:
    """The slug of a title: lower case, no accents, words joined by hyphens."""
    decomposed = unicodedata.normalize("NFD", title.strip().lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    slug = _SEPARATORS.sub("-", unicodedata.normalize("NFC", bare)).strip("-")[:MAX_LENGTH].rstrip("-")
    # A sigma ends a word as ς however the title was typed, so «ΔΗΜΟΣ» and «Δημοσ» agree.
    return _FINAL_SIGMA.sub("ς", slug.replace("ς", "σ"))
