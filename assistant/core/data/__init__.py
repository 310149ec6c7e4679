"""Word lists and reference texts shipped with the package."""

from __future__ import annotations

from importlib import resources


def data_lines(name: str) -> list[str]:
    """The lines of the shipped file `name`, stripped, without blank lines and the comment
    lines (starting with #) each file opens with."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
