"""Dates of birth: after a birth word, right after a name, or a bare date long ago in a
sentence about a person; never a legal date."""

from __future__ import annotations

import re
from datetime import date

from .findings import Finding

# Dates of birth

_MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|"
    "jan|febr?|mrt|apr|jun|jul|aug|sept?|okt|nov|dec|janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|"
    "septembre|octobre|novembre|d[ée]cembre|january|february|march|may|june|july|august|october"
)
_NUMERIC_DATE = r"(?:0?[1-9]|[12]\d|3[01])\s?[./-]\s?(?:0?[1-9]|1[0-2])\s?[./-]\s?(?:(?:19|20)\d{2}|\d{2})"
_WRITTEN_DATE = rf"(?:0?[1-9]|[12]\d|3[01])(?:e|ste|de|er)?\.?\s+(?:{_MONTHS})\.?\s+(?:19|20)\d{{2}}"
_DATE_END = r"(?![\d]|[./-]\d)"
_BIRTH = re.compile(
    r"(?:\bgeboren\b|\bgeb\.|\bgeboortedatum\b|\bgeboortedag\b|\bgeboortejaar\b|\bborn\b|\bdate\s+of\s+birth\b"
    r"|\bdob\b|\bn[ée]e?\b|°)"
    r"[^\d.!?\n]{0,30}?"
    rf"(?P<date>{_NUMERIC_DATE}|{_WRITTEN_DATE}|(?:19|20)\d{{2}}){_DATE_END}",
    re.IGNORECASE,
)
_BARE_DATE = re.compile(rf"(?<![\w./-]){_NUMERIC_DATE}{_DATE_END}")
_LEGAL_BEFORE = re.compile(
    r"\b(?:wet|wetten|decreet|besluit|kb|k\.b\.|omzendbrief|circulaire|arrest|vonnis|col|staatsblad|b\.s\.|"
    r"verordening|ordonnantie|protocol|akkoord|beslissing|vergadering|verslag|brief|nota|richtlijn|advies|"
    r"van\s+de\s+wet)\b[^.!?]{0,25}$",
    re.IGNORECASE,
)
_PERSON_REFERENCE = re.compile(
    r"\b(?:jongere|jongen|meisje|man|vrouw|zoon|dochter|cli[eë]nte?|leerling|betrokkene|persoon|hij|zij|"
    r"hem|haar|meneer|mevrouw|broer|zus|kind|minderjarige|pati[eë]nte?|bewoner|vader|moeder|buurman|"
    r"buurvrouw)\b",
    re.IGNORECASE,
)


def find_birth_dates(text: str, names: list[Finding]) -> list[Finding]:
    found = [Finding("birth_date", m.start("date"), m.end("date")) for m in _BIRTH.finditer(text)]
    for m in _BARE_DATE.finditer(text):
        if _LEGAL_BEFORE.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        if _after_name(text, m.start(), names) or (_about_a_person(text, m.start()) and _long_ago(m.group())):
            found.append(Finding("birth_date", m.start(), m.end()))
    return found


def _after_name(text: str, start: int, names: list[Finding]) -> bool:
    """Right after a name: "Kevin Janssens (14.02.2005)"."""
    return any(
        start - 6 <= n.end <= start and re.fullmatch(r"\s*[(,]?\s*(?:°\s*)?", text[n.end : start]) for n in names
    )


def _about_a_person(text: str, start: int, reach: int = 300) -> bool:
    """Whether the sentence around `start` (at most `reach` characters either way) is about a person."""
    lo, hi = max(0, start - reach), min(len(text), start + reach)
    begin = max(text.rfind(c, lo, start) for c in ".!?\n") + 1 or lo
    ends = [i for i in (text.find(c, start, hi) for c in ".!?\n") if i >= 0]
    return bool(_PERSON_REFERENCE.search(text, max(begin, lo), min(ends, default=hi)))


def _long_ago(numeric_date: str) -> bool:
    """True when the date lies ten or more years back: a birth date, not last month's incident."""
    year = int(re.split(r"\s?[./-]\s?", numeric_date)[-1])
    if year < 100:
        this = date.today().year % 100
        year += 2000 if year <= this else 1900
    return year <= date.today().year - 10
