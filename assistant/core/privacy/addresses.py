"""Street addresses: a street name with a house number, with the postcode and place after it."""

from __future__ import annotations

import re

from .findings import Finding
from .names import STOPWORDS

# Street addresses: a street name with a house number, then perhaps a postcode and place.

_SUFFIXES = (
    "straat|steenweg|laan|lei|weg|plein|plaats|dreef|kaai|kade|singel|markt|dijk|baan|gracht|vest|"
    "park|pad|hof|veld|berg|dal|wal|heide|ring|steeg|poort|boulevard|avenue"
)
_LOOSE_SUFFIXES = {
    "hof",
    "berg",
    "dal",
    "veld",
    "park",
    "pad",
    "wal",
    "ring",
    "heide",
    "baan",
    "dijk",
    "vest",
    "poort",
    "steeg",
    "weg",
    "plaats",
}
_UNITS = (
    r"keer|keren|jaar|jaren|maand|maanden|week|weken|dag|dagen|uur|uren|min|minuten|personen|mensen|"
    r"procent|euro|km|m|meter|cm|kg|x|gemeenten|leden|deelnemers|dossiers|jongeren|ter|bis|quater|°"
)
_HOUSE = (
    rf"\s+(?P<no>\d{{1,4}}[a-zA-Z]?)(?:\s*(?:bus|bte|b\.|/)\s*\d{{1,3}}[a-zA-Z]?)?(?![\w]|[.,:/]\d|\s*(?:{_UNITS})\b)"
)
_STREET = re.compile(rf"(?<![\w-])(?P<street>[^\W\d_][\w'’-]*?)?(?P<suffix>{_SUFFIXES}){_HOUSE}", re.IGNORECASE)
_FRENCH_STREET = re.compile(
    rf"(?<![\w-])(?:rue|avenue|av\.|chauss[ée]e|boulevard|bd|place|quai|dr[èe]ve|square)\s+"
    rf"(?:(?:de|du|des|la|le|l'|d')\s*)*[A-ZÀ-Ý][\w'’-]+(?:\s+[A-ZÀ-Ý][\w'’-]+)?{_HOUSE}",
    re.IGNORECASE,
)
_POSTCODE = re.compile(r"(?:\s*,\s*|\s+)(?:B-|BE-)?[1-9]\d{3}\s+[A-ZÀ-Ý][\w'’-]+(?:[ -][A-ZÀ-Ý][\w'’-]+)?")
STREET_PREFIXES = frozenset(
    "grote kleine lange korte oude nieuwe hoge lage brede sint koning koningin prins "
    "prinses burgemeester pastoor dokter kardinaal generaal kapitein onze lieve vrouw".split()
)
_CAPITALISED_BEFORE = re.compile(r"(?:[A-ZÀ-Ý][\w'’-]*\s+){1,3}$")


def find_addresses(text: str) -> list[Finding]:
    found = []
    for m in _STREET.finditer(text):
        start = _street_start(text, m)
        if start is not None and not _is_year(m.group("no")):
            found.append(Finding("address", start, _with_postcode(text, m.end())))
    for m in _FRENCH_STREET.finditer(text):
        found.append(Finding("address", m.start(), _with_postcode(text, m.end())))
    return found


def _street_start(text: str, m: re.Match) -> int | None:
    """Where the street name begins, or None when the word is no street name. A compound
    ("Kerkstraat") stands alone or after a street prefix ("Lange Kievitstraat"); a bare
    suffix word needs capitalised words before it ("Grote Markt 1", not "weg 3")."""
    stem, suffix = m.group("street") or "", m.group("suffix")
    if suffix.lower() in _LOOSE_SUFFIXES and len(stem) < 3:
        return None
    before = _CAPITALISED_BEFORE.search(text, max(0, m.start() - 80), m.start())
    words = before.group().split() if before else []
    if stem:
        words = words[
            len(words)
            - next((i for i, w in enumerate(reversed(words)) if w.lower() not in STREET_PREFIXES), len(words)) :
        ]
    else:
        words = [w for w in words if w.lower() not in STOPWORDS or w.lower() in STREET_PREFIXES]
        if not words or not suffix[0].isupper():
            return None
    return m.start() - len(" ".join(words)) - 1 if words else m.start()


def _is_year(number: str) -> bool:
    return number.isdigit() and len(number) == 4 and number[:2] in ("19", "20")


def _with_postcode(text: str, end: int) -> int:
    m = _POSTCODE.match(text, end)
    return m.end() if m else end
