"""French identifiers and phone numbers, validated with well-kept libraries."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.fr import nir as stdnum_nir

_RPPS = re.compile(r"^[0-9]{11}$")


def normalise_rpps(value: str) -> str:
    """Return the 11-digit RPPS from an RPPS or its IDNPS form (`8` + RPPS)."""
    value = (value or "").strip().replace(" ", "")
    if len(value) == 12 and value.startswith("8"):
        value = value[1:]
    if not _RPPS.match(value):
        raise ValueError("Le numéro RPPS doit comporter exactement 11 chiffres.")
    return value


def rpps_checksum_ok(rpps: str) -> bool:
    """RPPS numbers carry a Luhn digit, but some valid ones fail it: warn, never refuse."""
    return luhn.is_valid(rpps)


def idnps(rpps: str) -> str:
    return "8" + rpps


def normalise_nir(value: str) -> str:
    try:
        return stdnum_nir.validate(value)
    except ValidationError as exc:
        raise ValueError(
            "Le NIR (numéro de sécurité sociale) est invalide : 13 caractères et une clé "
            "de 2 chiffres sont attendus, et la clé doit correspondre."
        ) from exc


# Ranges ARCEP reserves for fiction (films, demos): never attributed, so demo data
# and tests use them; libphonenumber does not know them, hence this allowance.
FICTION_PREFIXES = ("+33199", "+33261910", "+33353010", "+33465710", "+33536490", "+33639980")


def normalise_phone(value: str) -> str:
    """Parse a French or international number and store it as E.164."""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"Numéro de téléphone illisible : « {value} ».") from exc
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164.startswith(FICTION_PREFIXES) and len(e164) == 12:
        return e164
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"Numéro de téléphone invalide : « {value} ».")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    if e164.startswith("+33639980"):
        return True
    number = phonenumbers.parse(e164, None)
    return phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = re.sub(r"[^a-zA-Z0-9]+", " ", bare)
    return " ".join(bare.lower().split())
