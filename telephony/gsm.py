"""SMS encoding and segment counting (GSM 03.38 vs UCS-2), and folding text into GSM-7.

One character outside the GSM-7 alphabet sends the whole SMS as UCS-2, which cuts a
segment from 160 to 70 characters (and multiplies the cost). French is mostly
GSM-7 safe — é è à ù ì ò É Ç are in the basic table — but ê â î ô û ç ë ï œ
and typographic quotes are not, so our fixed texts avoid them and the values we
insert (names, places) are folded with :func:`gsm_fold`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

#: GSM 03.38 basic character set (one septet each), in table order.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: each costs two septets (escape + character).
GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE_SEGMENT = 160
GSM7_MULTI_SEGMENT = 153
UCS2_SINGLE_SEGMENT = 70
UCS2_MULTI_SEGMENT = 67

# Common French and typographic characters with their closest GSM-7 spelling.
_FOLD = str.maketrans(
    {
        "ê": "e", "ë": "e", "â": "a", "î": "i", "ï": "i", "ô": "o", "û": "u",
        "ç": "c", "ÿ": "y", "á": "a", "í": "i", "ó": "o", "ú": "u",
        "À": "A", "Â": "A", "È": "E", "Ê": "E", "Ë": "E", "Î": "I", "Ï": "I",
        "Ô": "O", "Ù": "U", "Û": "U", "Ÿ": "Y", "Ì": "I", "Ò": "O",
        "œ": "oe", "Œ": "OE",
        "’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"', "«": '"', "»": '"',
        "–": "-", "—": "-", "‑": "-", "…": "...",
        "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\t": " ",
    }
)


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """How an SMS body will travel: encoding, length in units, number of segments."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    """Whether ``text`` can be sent in the GSM-7 alphabet (basic or extension)."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def non_gsm7_chars(text: str) -> set[str]:
    """The characters of ``text`` that would switch the SMS to UCS-2."""
    return {c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENDED}


def _pack(sizes: list[int], single: int, multi: int) -> int:
    total = sum(sizes)
    if total == 0:
        return 1
    if total <= single:
        return 1
    # A character (escape pair, surrogate pair) is never split across segments.
    count, used = 1, 0
    for size in sizes:
        if used + size > multi:
            count, used = count + 1, 0
        used += size
    return count


def segment_info(body: str) -> SegmentInfo:
    """Encoding, units and segment count of an SMS body."""
    if is_gsm7(body):
        sizes = [2 if c in GSM7_EXTENDED else 1 for c in body]
        return SegmentInfo(
            "GSM-7", sum(sizes), _pack(sizes, GSM7_SINGLE_SEGMENT, GSM7_MULTI_SEGMENT)
        )
    sizes = [2 if ord(c) > 0xFFFF else 1 for c in body]
    return SegmentInfo(
        "UCS-2", sum(sizes), _pack(sizes, UCS2_SINGLE_SEGMENT, UCS2_MULTI_SEGMENT)
    )


def segments(body: str) -> int:
    """Number of SMS segments ``body`` will be billed as."""
    return segment_info(body).segments


def gsm_fold(text: str) -> str:
    """Spell ``text`` with GSM-7 characters where a close equivalent exists.

    Used on names and places inserted into our texts, so "Benoît" or "François"
    do not turn a one-segment SMS into three. Characters with no close
    equivalent are kept (the SMS then goes as UCS-2 rather than lose letters).
    """
    out = []
    for char in text.translate(_FOLD):
        if char in GSM7_BASIC or char in GSM7_EXTENDED:
            out.append(char)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(base if base and is_gsm7(base) else char)
    return "".join(out)
