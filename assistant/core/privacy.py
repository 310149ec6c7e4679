"""Personal-data guard: find the parts of a question that identify a person, and mask them.

An official will sooner or later paste part of a case into the chat. ``scan(text)`` finds
Belgian national register numbers (rijksregisternummer, checksum verified), phone numbers,
e-mail addresses, IBANs (mod-97 verified), dates of birth, street addresses and likely
person names, in the text as NFKC reads it (full-width digits and "＠" are digits and
"@"; invisible format characters such as zero-width spaces are passed over), with offsets
into the text as typed; ``mask(text, findings)`` replaces each with a Dutch placeholder such as
``[naam]``. ``Assistant.ask()`` masks before anything else, so retrieval, the answer, the
UI, feedback and the logs only ever see the masked question.

Decisions (the tests and ``eval/privacy-cases.jsonl`` hold them to it):

- A national register number needs a right check number, except after a word that says
  it is one ("rijksregisternummer", "RRN", "INSZ", "nationaal nummer"): a typo in the
  check digits does not make it less personal. Nor does it when a phone number would
  otherwise be found inside it ("85 07 30 033 61" is not "85" and a phone number).
- An IBAN may be written in groups split by spaces, dashes or dots; an e-mail address
  with spaces around the "@", or with "(at)", "[at]" (and "(dot)") for "@" and ".".

- A written-out date ("30 juli 2018") is a legal date unless a birth word ("geboren",
  "geb.", "°", "geboortedatum", "born", "né(e)") introduces it. A bare numeric date
  (dd/mm/yyyy) counts as a date of birth right after a name, or in a sentence about a
  person ("de jongere", "mijn cliënt", "hij") when it lies at least ten years back; next to
  a legal word ("wet", "omzendbrief", "arrest", "COL") it never does.
- A street name counts as an address only with a house number ("Kerkstraat 12"); a
  postcode and municipality after it are masked with it. A municipality alone is not.
- Names are a heuristic: a word after a person word ("mevrouw", "mijn cliënt", "de
  jongere", "genaamd"), a known given name or surname (``assistant/data/*.txt``), or two
  capitalised words that are not ordinary words. Names that occur in the corpus (the
  ministers the guide mentions: Bart Somers, Zuhal Demir, ...) belong to public life, not
  to a case, and pass: pass ``PublicNames.from_texts(corpus texts)`` as ``public``.

``livc privacy-eval`` (`assistant.ops.privacy_eval`) measures precision and recall per kind.
"""

from __future__ import annotations

import bisect
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

KINDS = ("national_number", "iban", "email", "phone", "birth_date", "address", "name")  # overlap priority

PLACEHOLDERS = {
    "national_number": "[rijksregisternummer]",
    "iban": "[IBAN]",
    "email": "[e-mail]",
    "phone": "[telefoonnummer]",
    "birth_date": "[geboortedatum]",
    "address": "[adres]",
    "name": "[naam]",
}

LABELS = {  # Dutch, for the notice
    "national_number": "een rijksregisternummer",
    "iban": "een rekeningnummer",
    "email": "een e-mailadres",
    "phone": "een telefoonnummer",
    "birth_date": "een geboortedatum",
    "address": "een adres",
    "name": "een naam",
}


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind and where it sits in the scanned text."""

    kind: str
    start: int
    end: int

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


# ---------------------------------------------------------------------------
# Word lists


def _word_list(name: str) -> frozenset[str]:
    text = resources.files("assistant.core.data").joinpath(name).read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    return frozenset(w.casefold() for w in _word_list("given-names.txt"))


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    return frozenset(w.casefold() for w in _word_list("surnames.txt"))


@lru_cache(maxsize=1)
def person_names() -> frozenset[str]:
    """Given names and surnames together, casefolded."""
    return given_names() | surnames()


# Words that start a sentence or name an institution: capitalised, yet never a person.
STOPWORDS = frozenset("""
aan al alle als alleen andere bij binnen daar dan dat de deze die dit door dus een en er geen had heb
hebben heeft het hier hij hoe hoeveel hun ik in is ja je jij kan kunnen maar mag me meer met mijn moet
moeten mogen na naar nee niet nog nu of om onder onze ook op over per sinds te tegen toen tot tussen
u uit uw van vanaf veel volgens voor waar wanneer wat we welk welke werd wie wij wil worden wordt ze
zal zij zijn zo zonder zou zullen graag beste dag hallo goedemorgen bedankt dank vraag antwoord
stel stel stelt geldt gaat komt krijgt zit zitten moest mocht kon kunt wilt hoort the and of for in
is what who how when where can may must la le les des du et est qui que quoi comment
januari februari maart april mei juni juli augustus september oktober november december
maandag dinsdag woensdag donderdag vrijdag zaterdag zondag january february march june july august
october belgische belgisch belgië vlaamse vlaams vlaanderen brusselse brussel waalse wallonië
europese europa federale franse duitse nederlandse engelse agentschap dienst departement ministerie
hof rechtbank parket politie zone politiezone stad gemeente provincie kind gezin team centrum huis
raad commissie comité unie regering parlement kamer senaat staatsveiligheid justitie binnenlandse
zaken veiligheid universiteit school hogeschool ziekenhuis minister burgemeester schepen gouverneur
procureur koning koningin sint artikel wet decreet omzendbrief arrest strafwetboek grondwet
elke ieder iedere enkele sommige beide titel boek hoofdstuk deel bijlage algemene verordening bestuur
binnenlands overlegcomité strategie local task force terrorist fighters homegrown
flemish belgian federal national european parliament government ministry ministers council committee
commission authority agency office service services department court police prosecutor security safety
protection data public state union centre center unit board cell officer mayor chief crisis prevention
""".split())

# Words before a name that say a person follows ("mijn cliënt Kevin", "mevrouw Peeters").
PERSON_WORDS = (
    r"meneer|mevrouw|mevr\.?|mw\.?|dhr\.?|de\s+heer|mr\.|meester|juffrouw|juf|"
    r"cli[eë]nte?|klant|leerling|jongere|jongen|meisje|buurman|buurvrouw|buurjongen|buurmeisje|"
    r"zoon|dochter|broer|zus|zuster|vader|moeder|neef|nicht|oom|tante|kleinzoon|kleindochter|"
    r"betrokkene|pati[eë]nte?|bewoner|bewoonster|collega|vriend|vriendin|echtgenoot|echtgenote|partner|"
    r"familie|gezin|genaamd|heet|heten|naam\s+is|namens|monsieur|madame|mr|mrs|ms|"
    # people in a role: the name after it is a person's ("inspecteur Dewilde")
    r"inspecteur|inspectrice|hoofdinspecteur|commissaris|agent|wijkagent|korpschef|directeur|directrice|"
    r"dokter|dr\.?|advocaat|advocate|pastoor|imam|consulent|consulente|begeleider|begeleidster|"
    r"trajectbegeleider|hulpverlener|opvoeder|opvoedster|leraar|lerares|leerkracht|coach|trainer|"
    r"schepen|burgemeester|co[oö]rdinator"
)
_PERSON_BEFORE = re.compile(rf"(?:^|[^\w])(?:{PERSON_WORDS})[\s,:]*$", re.IGNORECASE)
_PARTICLES = frozenset("van de der den ter ten te vanden vander el al ben ibn bin le la du da di dos von ait abou".split())


@dataclass(frozen=True)
class PublicNames:
    """What the corpus itself names: capitalised word runs ("Bart Somers", "Vlaamse
    Regering") with their surname-like endings ("Somers", "De Wever"), and the words it
    writes in lower case (ordinary words, never a name). A question naming a minister from
    the guide asks about public life, not about a case."""

    runs: frozenset[str] = frozenset()
    common: frozenset[str] = frozenset()

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "PublicNames":
        runs: set[str] = set()
        common: set[str] = set()
        for text in texts:
            for start, end, word in _words(text):
                if word.islower():
                    common.add(word)
            for raw in _runs(text, _words(text)):
                for run in (raw, _trim(raw)):
                    tokens = [w for _, _, w in run]
                    runs.update(" ".join(tokens[i:]) for i in range(len(tokens)))
        return cls(frozenset(runs), frozenset(common))


NO_PUBLIC = PublicNames()


# ---------------------------------------------------------------------------
# The scan


def scan(text: str, public: PublicNames | None = None) -> list[Finding]:
    """Every piece of personal data in `text`, in reading order, without overlaps (a span
    claimed by several detectors goes to the first kind in KINDS)."""
    if not isinstance(text, str) or not text:
        return []
    public = public or NO_PUBLIC
    text, origin = normalise(text)
    names = _names(text, public)
    phones = _phones(text)
    found = (_national_numbers(text, phones) + _ibans(text) + _emails(text) + phones
             + _birth_dates(text, names) + _addresses(text) + names)
    kept = _resolve(found)
    if origin is None:
        return kept
    return [Finding(f.kind, origin[f.start], origin[f.end - 1] + 1) for f in kept]


def normalise(text: str) -> tuple[str, list[int] | None]:
    """`text` as the detectors read it: each character in its NFKC form ("０４７０" is "0470",
    "＠" is "@", a no-break space a space), invisible format characters (zero-width space,
    soft hyphen) left out; with, for each character of the result, the offset of the
    character of `text` it came from (plus one entry for the end). None when nothing changed."""
    if text.isascii():
        return text, None
    out: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(text):
        if c.isascii():
            out.append(c)
            origin.append(i)
            continue
        if unicodedata.category(c) == "Cf":
            continue
        form = unicodedata.normalize("NFKC", c)
        out.extend(form)
        origin.extend([i] * len(form))
    normal = "".join(out)
    if normal == text:
        return text, None
    origin.append(len(text))
    return normal, origin


# What retrieval sees instead of a placeholder: a word such as "naam" in "[naam]" would
# pull up the guide's passages about giving one's name; a bare letter pulls up nothing.
NEUTRAL = "X"


def mask(text: str, findings: list[Finding], neutral: bool = False) -> str:
    """`text` with each finding replaced by its Dutch placeholder ("[telefoonnummer]"), or
    with `neutral`, by NEUTRAL (the form that is searched)."""
    out, last = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < last:
            continue
        out.append(text[last:f.start])
        out.append(NEUTRAL if neutral else f.placeholder)
        last = f.end
    out.append(text[last:])
    return "".join(out)


def mask_text(text: str, public: PublicNames | None = None) -> str:
    """Scan and mask in one step (for logs and stores that keep text)."""
    return mask(text, scan(text, public)) if isinstance(text, str) else text


def kinds_of(findings: Iterable[Finding]) -> list[str]:
    """The kinds found, each once, in the order of KINDS."""
    present = {f.kind for f in findings}
    return [k for k in KINDS if k in present]


def notice(kinds: list[str]) -> str:
    """The Dutch note shown with an answer to a masked question; names the kinds of data,
    never the data."""
    return (f"Uw vraag leek persoonsgegevens te bevatten ({_enumerate(kinds)}). Die zijn vóór het zoeken "
            "vervangen door een aanduiding zoals [naam] en worden nergens bewaard. De gids beantwoordt algemene "
            "vragen: laat namen en andere gegevens uit een casus weg.")


def refusal(kinds: list[str]) -> str:
    """The Dutch message when the guard is set to refuse such questions."""
    return (f"Uw vraag lijkt persoonsgegevens te bevatten ({_enumerate(kinds)}). Daarom wordt ze niet "
            "beantwoord en nergens bewaard. Haal namen en andere gegevens uit een casus weg en stel de vraag "
            "in algemene termen opnieuw.")


def _enumerate(kinds: list[str]) -> str:
    labels = [LABELS[k] for k in kinds] or ["persoonsgegevens"]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " en " + labels[-1]


def _resolve(found: list[Finding]) -> list[Finding]:
    """Keep the findings of the higher-priority kind (then the longer) where spans overlap."""
    ranked = sorted(found, key=lambda f: (KINDS.index(f.kind), -(f.end - f.start), f.start))
    starts: list[int] = []  # kept spans, sorted by start; they never overlap each other
    kept: list[Finding] = []
    for f in ranked:
        i = bisect.bisect_left(starts, f.start)
        clear_left = i == 0 or kept[i - 1].end <= f.start
        clear_right = i == len(kept) or f.end <= kept[i].start
        if f.end > f.start and clear_left and clear_right:
            starts.insert(i, f.start)
            kept.insert(i, f)
    return kept


# ---------------------------------------------------------------------------
# National register number: YYMMDD SSS CC, checksum 97 - (YYMMDDSSS mod 97), with a
# leading 2 for people born from 2000. Bis numbers add 20 or 40 to the month.

_NATIONAL = re.compile(r"(?<![\w.,/+-])(\d{2})[ .-]?(\d{2})[ .-]?(\d{2})[ .-]?(\d{3})[ .-]?(\d{2})(?![\w]|[.,/-]\d)")


def _candidates(pattern: re.Pattern, text: str):
    """Matches of `pattern` at every position where one starts, overlapping ones too: a
    candidate that fails its check ("0032 0470 12 34 56" as one number) must not hide the
    number that starts inside it."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        yield m
        pos = m.start() + 1


# Words that say a national register number follows, whatever its check digits.
_NATIONAL_CUE = re.compile(
    r"\b(?:rijksregister(?:nummer|nr)?|rijksreg\.?\s?nr|rrn|insz(?:-?nummer|-?nr)?|"
    r"nationaal\s+(?:register)?(?:nummer|nr)|national\s+(?:register\s+)?number|"
    r"num[ée]ro\s+(?:de\s+registre\s+)?national)(?!\w)\.?[^\d\n.!?]{0,25}$",
    re.IGNORECASE,
)


def _national_numbers(text: str, phones: list[Finding] = ()) -> list[Finding]:
    """National register numbers: the right check number, or the format alone after a
    cue word or where a phone number sits inside it."""
    found = []
    for m in _candidates(_NATIONAL, text):
        digits = "".join(m.groups())
        if (valid_national_number(digits)
                or _NATIONAL_CUE.search(text, max(0, m.start() - 60), m.start())
                or (_plausible_date(digits) and any(m.start() <= p.start < m.end() for p in phones))):
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
    "AD": 24, "AT": 20, "BA": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "DZ": 26, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22,
    "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MA": 28, "MC": 27, "MT": 31, "NL": 18,
    "NO": 15, "PL": 28, "PT": 25, "RO": 24, "RS": 22, "SE": 24, "SI": 19, "SK": 24, "TN": 24, "TR": 26,
    "UA": 29, "XK": 20,
}
_IBAN_START = re.compile(r"(?<![\w])([A-Za-z]{2})(\d{2})")


def _ibans(text: str) -> list[Finding]:
    found = []
    for m in _candidates(_IBAN_START, text):
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


# ---------------------------------------------------------------------------
# E-mail

# "@" as typed, with spaces around it, or spelled out to fool a scraper: "(at)", "[at]";
# "." in the domain also as "(dot)" or "[punt]".
_AT = r"(?:\s?@\s?|\s?[(\[{<]\s?(?:at|@|apenstaartje)\s?[)\]}>]\s?)"
_DOT = r"(?:\.|\s?[(\[{<]\s?(?:dot|punt)\s?[)\]}>]\s?)"
_EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[A-Za-z]{{2,}}(?![\w])", re.IGNORECASE)


def _emails(text: str) -> list[Finding]:
    return [Finding("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]


# ---------------------------------------------------------------------------
# Phone numbers: +32 / 0032 / 0, then 8 digits (landline) or 9 starting 45-49 (mobile);
# groups separated by a space, dot, slash or dash, "(0)" allowed after the country code.
# Other countries: + or 00, a country code and 7 to 12 digits.

_PHONE = re.compile(r"(?<![\w+/.,-])(?P<prefix>\+\s?\d{2,3}|00\s?\d{2,3}|0)(?P<rest>(?:(?: ?[./-] ?| )?(?:\(0\)\s?)?\d){6,12})")
_COMPANY_NUMBER = re.compile(r"(?:ondernemings(?:nummer|nr)|kbo|btw|vat|tva)[\s.:-]*(?:nr\.?|nummer)?[\s.:]*(?:be)?[\s.:-]*$", re.I)


def _phones(text: str) -> list[Finding]:
    found = []
    for m in _candidates(_PHONE, text):
        if _COMPANY_NUMBER.search(text[max(0, m.start() - 30):m.start()]):
            continue
        end = _phone_end(text, m)
        if end is not None:
            found.append(Finding("phone", m.start(), end))
    return found


def _phone_end(text: str, m: re.Match) -> int | None:
    """The end of the longest valid phone number the match starts, cut at a group boundary."""
    prefix = re.sub(r"\D", "", m.group("prefix"))
    rest = m.group("rest")
    for cut in sorted({j.end() for j in re.finditer(r"\d(?=\D|$)", rest)}, reverse=True):
        after = m.start("rest") + cut
        if after < len(text) and (text[after].isalnum() or re.match(r"[.,/-]\d", text[after:after + 2])):
            continue
        digits = re.sub(r"\D", "", rest[:cut].replace("(0)", ""))
        if _valid_phone(prefix, digits):
            return after
    return None


def _valid_phone(prefix: str, digits: str) -> bool:
    if prefix in ("0", "32", "0032"):
        national = digits
    elif prefix.startswith("00") or not prefix.startswith("0"):
        return 7 <= len(digits) <= 12 and prefix.removeprefix("00") not in ("", "0")
    else:
        return False
    if national[:1] == "4":
        return len(national) == 9 and national[1] in "56789"
    return len(national) == 8 and national[:1] != "0"


# ---------------------------------------------------------------------------
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


def _birth_dates(text: str, names: list[Finding]) -> list[Finding]:
    found = [Finding("birth_date", m.start("date"), m.end("date")) for m in _BIRTH.finditer(text)]
    for m in _BARE_DATE.finditer(text):
        if _LEGAL_BEFORE.search(text[max(0, m.start() - 40):m.start()]):
            continue
        if _after_name(text, m.start(), names) or (_about_a_person(text, m.start()) and _long_ago(m.group())):
            found.append(Finding("birth_date", m.start(), m.end()))
    return found


def _after_name(text: str, start: int, names: list[Finding]) -> bool:
    """Right after a name: "Kevin Janssens (14.02.2005)"."""
    return any(start - 6 <= n.end <= start and re.fullmatch(r"\s*[(,]?\s*(?:°\s*)?", text[n.end:start])
               for n in names)


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


# ---------------------------------------------------------------------------
# Street addresses: a street name with a house number, then perhaps a postcode and place.

_SUFFIXES = ("straat|steenweg|laan|lei|weg|plein|plaats|dreef|kaai|kade|singel|markt|dijk|baan|gracht|vest|"
             "park|pad|hof|veld|berg|dal|wal|heide|ring|steeg|poort|boulevard|avenue")
_LOOSE_SUFFIXES = {"hof", "berg", "dal", "veld", "park", "pad", "wal", "ring", "heide", "baan", "dijk", "vest",
                   "poort", "steeg", "weg", "plaats"}
_UNITS = (r"keer|keren|jaar|jaren|maand|maanden|week|weken|dag|dagen|uur|uren|min|minuten|personen|mensen|"
          r"procent|euro|km|m|meter|cm|kg|x|gemeenten|leden|deelnemers|dossiers|jongeren|ter|bis|quater|°")
_HOUSE = rf"\s+(?P<no>\d{{1,4}}[a-zA-Z]?)(?:\s*(?:bus|bte|b\.|/)\s*\d{{1,3}}[a-zA-Z]?)?(?![\w]|[.,:/]\d|\s*(?:{_UNITS})\b)"
_STREET = re.compile(rf"(?<![\w-])(?P<street>[^\W\d_][\w'’-]*?)?(?P<suffix>{_SUFFIXES}){_HOUSE}", re.IGNORECASE)
_FRENCH_STREET = re.compile(
    rf"(?<![\w-])(?:rue|avenue|av\.|chauss[ée]e|boulevard|bd|place|quai|dr[èe]ve|square)\s+"
    rf"(?:(?:de|du|des|la|le|l'|d')\s*)*[A-ZÀ-Ý][\w'’-]+(?:\s+[A-ZÀ-Ý][\w'’-]+)?{_HOUSE}",
    re.IGNORECASE,
)
_POSTCODE = re.compile(r"(?:\s*,\s*|\s+)(?:B-|BE-)?[1-9]\d{3}\s+[A-ZÀ-Ý][\w'’-]+(?:[ -][A-ZÀ-Ý][\w'’-]+)?")
STREET_PREFIXES = frozenset("grote kleine lange korte oude nieuwe hoge lage brede sint koning koningin prins "
                            "prinses burgemeester pastoor dokter kardinaal generaal kapitein onze lieve vrouw".split())
_CAPITALISED_BEFORE = re.compile(r"(?:[A-ZÀ-Ý][\w'’-]*\s+){1,3}$")


def _addresses(text: str) -> list[Finding]:
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
        words = words[len(words) - next((i for i, w in enumerate(reversed(words)) if w.lower() not in STREET_PREFIXES),
                                        len(words)):]
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


# ---------------------------------------------------------------------------
# Person names

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def _capitalised(word: str) -> bool:
    if word[0].isupper() and not word.isupper():
        return len(word) > 1
    return len(word) > 2 and word.isupper() and word.casefold() in person_names()


def _runs(text: str, words: list[tuple[int, int, str]]) -> list[list[tuple[int, int, str]]]:
    """Maximal runs of capitalised words (with name particles inside: "Bart De Wever",
    "Fatima el Amrani") separated by spaces only, without particles at the end."""
    runs, current = [], []
    for i, w in enumerate(words):
        joined = current and re.fullmatch(r"[ \t]+", text[current[-1][1]:w[0]])
        if not joined and current:
            runs.append(current)
            current = []
        if _capitalised(w[2]) or (current and w[2].lower() in _PARTICLES):
            current.append(w)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return [r for r in (_drop_last_particles(run) for run in runs) if r]


def _drop_last_particles(run: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    while run and run[-1][2].lower() in _PARTICLES:
        run = run[:-1]
    return run


def _trim(run: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Drop ordinary words at the start ("Kan", "Mevrouw") and particles at the end."""
    def ordinary(word: str) -> bool:
        folded = word.casefold()
        return folded in STOPWORDS and folded not in person_names() \
            or re.fullmatch(PERSON_WORDS, word, re.IGNORECASE) is not None
    while run and (ordinary(run[0][2]) or run[0][2].lower() in _PARTICLES and run[0][2].islower()):
        run = run[1:]
    while run and run[-1][2].lower() in _PARTICLES:
        run = run[:-1]
    return run


def _names(text: str, public: PublicNames) -> list[Finding]:
    words = _words(text)
    found = []
    for raw in _runs(text, words):
        named = _after_person_word(text, raw)  # "mevrouw De Clercq": the particle belongs to the name
        run = named if named is not None else _trim(raw)
        if run and _is_name(text, run, public, after_person=named is not None):
            found.append(Finding("name", run[0][0], run[-1][1]))
    found += _lowercase_names(text, words)
    return found


def _after_person_word(text: str, run: list[tuple[int, int, str]]) -> list[tuple[int, int, str]] | None:
    """The run without a leading person word ("Mevrouw"), if a person word precedes it."""
    while run and re.fullmatch(PERSON_WORDS, run[0][2], re.IGNORECASE):
        run = run[1:]
    if run and _PERSON_BEFORE.search(text[max(0, run[0][0] - 30):run[0][0]]):
        return run
    return None


def _is_name(text: str, run: list[tuple[int, int, str]], public: PublicNames, after_person: bool) -> bool:
    tokens = [w for _, _, w in run]
    if " ".join(tokens) in public.runs:
        return False
    core = [_possessive(t.casefold()) for t in tokens if t.lower() not in _PARTICLES] or [tokens[0].casefold()]
    common = [t in public.common or t in STOPWORDS for t in core]
    initial = _sentence_initial(text, run[0][0])
    # A listed name counts, except an ordinary word that merely opens the sentence ("Elke").
    known = [t in person_names() and not (i == 0 and initial and common[0]) for i, t in enumerate(core)]
    if after_person:
        return known[0] or not common[0]
    if len(core) >= 2:
        return any(known) or not any(common)
    return known[0] and not (initial and common[0])


def _possessive(word: str) -> str:
    """An English possessive without its "'s" ("parliament's" is "parliament")."""
    return word[:-2] if len(word) > 3 and word[-2:] in ("'s", "’s") else word


def _lowercase_names(text: str, words: list[tuple[int, int, str]]) -> list[Finding]:
    """A known given name typed in lower case after a person word ("mijn cliënt kevin
    janssens"), or a known given name followed by a known surname ("jan peeters")."""
    found = []
    for i, (start, end, word) in enumerate(words):
        if not word.islower() or word not in given_names():
            continue
        nxt = words[i + 1] if i + 1 < len(words) else None
        with_surname = nxt and nxt[2].casefold() in surnames() and re.fullmatch(r"\s+", text[end:nxt[0]])
        if with_surname or _PERSON_BEFORE.search(text[max(0, start - 30):start]):
            found.append(Finding("name", start, nxt[1] if with_surname else end))
    return found


def _sentence_initial(text: str, start: int) -> bool:
    before = text[max(0, start - 40):start].rstrip(" \t\"'“‘(*•-–")
    return not before or before[-1] in ".!?:;\n"
