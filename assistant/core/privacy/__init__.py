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

This module is the guard's public side (scan, mask, the notice and the refusal); the
detectors sit beside it, one concern each: ``identifiers`` (national register numbers,
IBANs), ``contacts`` (e-mail, phone), ``birth_dates``, ``addresses``, ``names`` (with the
word lists and `PublicNames`); ``findings`` holds the kinds and `Finding`.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Iterable

from ..messages import LABEL_ANY, LABELS_AND, PRIVACY_NOTICE, PRIVACY_REFUSAL
from .addresses import STREET_PREFIXES, find_addresses
from .birth_dates import find_birth_dates
from .contacts import find_emails, find_phones
from .findings import KINDS, LABELS, PLACEHOLDERS, Finding
from .identifiers import IBAN_LENGTHS, find_ibans, find_national_numbers, valid_iban, valid_national_number
from .names import NO_PUBLIC, PERSON_WORDS, STOPWORDS, PublicNames, find_names, given_names, person_names, surnames

__all__ = [
    "IBAN_LENGTHS",
    "KINDS",
    "LABELS",
    "NEUTRAL",
    "NO_PUBLIC",
    "PERSON_WORDS",
    "PLACEHOLDERS",
    "STOPWORDS",
    "STREET_PREFIXES",
    "Finding",
    "PublicNames",
    "given_names",
    "kinds_of",
    "mask",
    "mask_text",
    "normalise",
    "notice",
    "person_names",
    "refusal",
    "scan",
    "surnames",
    "valid_iban",
    "valid_national_number",
]


# The scan and the mask


def scan(text: str, public: PublicNames | None = None) -> list[Finding]:
    """Every piece of personal data in `text`, in reading order, without overlaps (a span
    claimed by several detectors goes to the first kind in KINDS)."""
    if not isinstance(text, str) or not text:
        return []
    public = public or NO_PUBLIC
    text, origin = normalise(text)
    names = find_names(text, public)
    phones = find_phones(text)
    found = (
        find_national_numbers(text, phones)
        + find_ibans(text)
        + find_emails(text)
        + phones
        + find_birth_dates(text, names)
        + find_addresses(text)
        + names
    )
    kept = _resolve(found, text)
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
        out.append(text[last : f.start])
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
    return PRIVACY_NOTICE.format(kinds=_enumerate(kinds))


def refusal(kinds: list[str]) -> str:
    """The Dutch message when the guard is set to refuse such questions."""
    return PRIVACY_REFUSAL.format(kinds=_enumerate(kinds))


def _enumerate(kinds: list[str]) -> str:
    labels = [LABELS[k] for k in kinds] or [LABEL_ANY]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + LABELS_AND + labels[-1]


def _resolve(found: list[Finding], text: str) -> list[Finding]:
    """Keep the findings of the higher-priority kind (then the longer) where spans overlap;
    what a finding holds outside the spans kept before it stays masked as its kind (a name
    run on into a street, "Jan Peeters van de Kerkstraat 12": the address, and the name
    before it), never dropped whole for the part another kind claims."""
    ranked = sorted(found, key=lambda f: (KINDS.index(f.kind), -(f.end - f.start), f.start))
    kept: list[Finding] = []  # sorted by start; never overlapping each other
    for f in ranked:
        for start, end in _uncovered(f.start, f.end, kept):
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if any(c.isalnum() for c in text[start:end]):
                bisect.insort(kept, Finding(f.kind, start, end), key=lambda k: k.start)
    return kept


def _uncovered(start: int, end: int, kept: list[Finding]) -> list[tuple[int, int]]:
    """The parts of [start, end) that no span in `kept` covers."""
    parts = []
    for k in kept:
        if k.end <= start or k.start >= end:
            continue
        if k.start > start:
            parts.append((start, k.start))
        start = max(start, k.end)
    if start < end:
        parts.append((start, end))
    return parts
