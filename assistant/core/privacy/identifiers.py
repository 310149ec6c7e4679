"""National register numbers (checksum verified, or after a cue word) and IBANs (mod-97 verified)."""

from __future__ import annotations

import re

from .findings import Finding, candidates

# National register number: YYMMDD SSS CC, checksum 97 - (YYMMDDSSS mod 97), with a
# leading 2 for people born from 2000. Bis numbers add 20 or 40 to the month.

_NATIONAL = re.compile(r"(?<![\w.,/+-])(\d{2})[ .-]?(\d{2})[ .-]?(\d{2})[ .-]?(\d{3})[ .-]?(\d{2})(?![\w]|[.,/-]\d)")


# Words that say a national register number follows, whatever its check digits.
_NATIONAL_CUE = re.compile(
    r"\b(?:rijksregister(?:nummer|nr)?|rijksreg\.?\s?nr|rrn|insz(?:-?nummer|-?nr)?|"
    r"nationaal\s+(?:register)?(?:nummer|nr)|national\s+(?:register\s+)?number|"
    r"num[ée]ro\s+(?:de\s+registre\s+)?national)(?!\w)\.?[^\d\n.!?]{0,25}$",
    re.IGNORECASE,
)


def find_national_numbers(text: str, phones: list[Finding] = ()) -> list[Finding]:
    """National register numbers: the right check number, or the format alone after a
    cue word or where a phone number sits inside it."""
    found = []
    for m in candidates(_NATIONAL, text):
        digits = "".join(m.groups())
        if (
            valid_national_number(digits)
            or _NATIONAL_CUE.search(text, max(0, m.start() - 60), m.start())
            or (_plausible_date(digits) and any(m.start() <= p.start < m.end() for p in phones))
        ):
            found.append(Finding("national_number", m.start(), m.end()))
    return found


def _plausible_date(digits: str) -> bool:
    month, day = int(digits[2:4]), int(digits[4:6])
    return month % 20 <= 12 and month <= 52 and day <= 31


def valid_national_number(digits: str) -> bool:
    """True for 11 digits with a plausible date part and a correct check number."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    month, day = int(digits[2:4]), int(digits[4:6])
    if month % 20 > 12 or month > 52 or day > 31:
        return False
    check = int(digits[9:])
    return check in (97 - int(digits[:9]) % 97, 97 - int("2" + digits[:9]) % 97)


# ---------------------------------------------------------------------------
# IBAN: country code, two check digits, a BBAN of the country's length; mod 97 == 1.

IBAN_LENGTHS = {
    "AD": 24,
    "AT": 20,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "CH": 21,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DZ": 26,
    "EE": 20,
    "ES": 24,
    "FI": 18,
    "FR": 27,
    "GB": 22,
    "GR": 27,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IS": 26,
    "IT": 27,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MA": 28,
    "MC": 27,
    "MT": 31,
    "NL": 18,
    "NO": 15,
    "PL": 28,
    "PT": 25,
    "RO": 24,
    "RS": 22,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "XK": 20,
}
_IBAN_START = re.compile(r"(?<![\w])([A-Za-z]{2})(\d{2})")


def find_ibans(text: str) -> list[Finding]:
    found = []
    for m in candidates(_IBAN_START, text):
        length = IBAN_LENGTHS.get(m.group(1).upper())
        end = _iban_end(text, m.start(), length) if length else None
        if end is not None:
            found.append(Finding("iban", m.start(), end))
    return found


def _iban_end(text: str, start: int, length: int) -> int | None:
    """Where an IBAN of `length` characters (single spaces, dashes or dots between them
    allowed) starting at `start` ends, if it passes the mod-97 check."""
    chars, i = [], start
    while i < len(text) and len(chars) < length:
        c = text[i]
        if c.isascii() and c.isalnum():
            chars.append(c.upper())
        elif not (c in " -." and chars and i + 1 < len(text) and text[i + 1].isalnum()):
            return None
        i += 1
    if len(chars) < length or (i < len(text) and text[i].isalnum()):
        return None
    return i if valid_iban("".join(chars)) else None


def valid_iban(iban: str) -> bool:
    """The ISO 13616 check: the rearranged number, letters as 10..35, is 1 mod 97."""
    iban = iban.replace(" ", "").upper()
    if len(iban) < 15 or not iban.isascii() or not iban.isalnum() or IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    return int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1
