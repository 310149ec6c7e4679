"""What the guard finds: the kinds of personal data, in overlap priority, a `Finding`,
and the Dutch placeholder each kind is masked with."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..messages import LABELS, PLACEHOLDERS  # noqa: F401 - LABELS: the kinds as the notice names them

KINDS = ("national_number", "iban", "email", "phone", "birth_date", "address", "name")  # overlap priority


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind and where it sits in the scanned text."""

    kind: str
    start: int
    end: int

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


def candidates(pattern: re.Pattern, text: str):
    """Matches of `pattern` at every position where one starts, overlapping ones too: a
    candidate that fails its check ("0032 0470 12 34 56" as one number) must not hide the
    number that starts inside it."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        yield m
        pos = m.start() + 1
