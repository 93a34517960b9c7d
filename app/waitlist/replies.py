"""The answer to a freed-slot offer: "OUI 1234" or "NON 1234", however it is typed.

Pure: no database, no clock. Accents and case do not matter ("oui", "Ouï", "OUI"),
extra words are ignored ("oui 1234 merci beaucoup"), the code may be glued to the
word ("OUI1234") or come first ("1234 oui"). A message saying both yes and no, with
no code, or with two different codes is not an answer (the secretariat reads it).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CODE_LENGTH = 4
_YES = frozenset({"OUI", "OUAIS", "OK", "YES", "DACCORD"})
_NO = frozenset({"NON", "NO"})
_TOKENS = re.compile(r"[A-Z]+|[0-9]+")


@dataclass(frozen=True)
class OfferReply:
    accept: bool
    code: str


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.upper().replace("'", "").replace("’", "")


def parse_offer_reply(body: str) -> OfferReply | None:
    """``OfferReply`` for a yes/no with exactly one 4-digit code, else None."""
    tokens = _TOKENS.findall(_fold(body or ""))
    words = {t for t in tokens if t.isalpha()}
    codes = {t for t in tokens if t.isdigit()}
    yes, no = bool(words & _YES), bool(words & _NO)
    if yes == no or len(codes) != 1:
        return None
    code = next(iter(codes))
    if len(code) != CODE_LENGTH:
        return None
    return OfferReply(accept=yes, code=code)
