"""E-mail addresses (also with "(at)" or spaces around the "@") and phone numbers
(Belgian landline and mobile, and international ones)."""

from __future__ import annotations

import re

from .findings import Finding, candidates

# E-mail

# "@" as typed, with spaces around it, or spelled out to fool a scraper: "(at)", "[at]";
# "." in the domain also as "(dot)" or "[punt]".
_AT = r"(?:\s?@\s?|\s?[(\[{<]\s?(?:at|@|apenstaartje)\s?[)\]}>]\s?)"
_DOT = r"(?:\.|\s?[(\[{<]\s?(?:dot|punt)\s?[)\]}>]\s?)"
_EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[A-Za-z]{{2,}}(?![\w])", re.IGNORECASE)


def find_emails(text: str) -> list[Finding]:
    return [Finding("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]


# ---------------------------------------------------------------------------
# Phone numbers: +32 / 0032 / 0, then 8 digits (landline) or 9 starting 45-49 (mobile);
# groups separated by a space, dot, slash or dash, "(0)" allowed after the country code.
# Other countries: + or 00, a country code and 7 to 12 digits.

_PHONE = re.compile(
    r"(?<![\w+/.,-])(?P<prefix>\+\s?\d{2,3}|00\s?\d{2,3}|0)(?P<rest>(?:(?: ?[./-] ?| )?(?:\(0\)\s?)?\d){6,12})"
)
_COMPANY_NUMBER = re.compile(
    r"(?:ondernemings(?:nummer|nr)|kbo|btw|vat|tva)[\s.:-]*(?:nr\.?|nummer)?[\s.:]*(?:be)?[\s.:-]*$", re.I
)


def find_phones(text: str) -> list[Finding]:
    found = []
    for m in candidates(_PHONE, text):
        if _COMPANY_NUMBER.search(text[max(0, m.start() - 30) : m.start()]):
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
        if after < len(text) and (text[after].isalnum() or re.match(r"[.,/-]\d", text[after : after + 2])):
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
