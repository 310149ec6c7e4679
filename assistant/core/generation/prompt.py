"""The messages sent to the model: Dutch instructions, the passages numbered ``[1]…[N]``
with their title and section path, the masked question and earlier questions, and the key
instructions once more after the sources (small models follow what they read last).

Nothing else of the conversation leaves the process: no answers, no user, no settings.
"""

from __future__ import annotations

from ..chunking import Passage

# The one sentence the model is told to write when the passages do not answer the question;
# the reply then falls back to the extractive answer (see generation.NOT_IN_PASSAGES_MARK).
NOT_IN_PASSAGES = "Dat staat niet in de passages."

SYSTEM = (
    "Je bent de LIVC-assistent. Je beantwoordt vragen van Vlaamse lokale ambtenaren over de LIVC-R "
    "(lokale integrale veiligheidscel) uitsluitend met wat in de genummerde passages staat.\n"
    "Regels:\n"
    "1. Gebruik alleen wat in de passages staat. Voeg niets toe uit eigen kennis.\n"
    "2. Antwoord in het Nederlands, kort en zakelijk: hoogstens vier zinnen.\n"
    "3. Zet na elke zin het nummer van de passage waarop ze steunt tussen vierkante haken, "
    "bijvoorbeeld [2].\n"
    "4. Neem getallen, data, bedragen, namen en artikelnummers exact over.\n"
    f'5. Staat het antwoord niet in de passages, schrijf dan alleen: "{NOT_IN_PASSAGES}"'
)

REMINDER = (
    "Antwoord nu op de vraag, in het Nederlands, alleen met wat in de passages hierboven staat. "
    "Zet na elke zin het nummer van de passage tussen vierkante haken, bijvoorbeeld [1]. "
    "Neem getallen, data en artikelnummers exact over. "
    f'Staat het antwoord er niet in, schrijf dan alleen: "{NOT_IN_PASSAGES}"'
)


def source_block(n: int, passage: Passage) -> str:
    """One numbered passage: number, title, section path, then its text."""
    where = " › ".join(passage.section_path)
    heading = f"[{n}] {passage.title}" + (f" — {where}" if where else "")
    if passage.question:
        heading += f"\nVraag: {passage.question}"
    return f"{heading}\n{passage.text}"


def messages(question: str, history: list[str], passages: list[Passage]) -> list[dict[str, str]]:
    """The chat messages for `question` (masked), the earlier questions (masked) and the
    numbered `passages`."""
    sources = "\n\n".join(source_block(n, p) for n, p in enumerate(passages, 1))
    parts = [f"Passages:\n\n{sources}"]
    if history:
        parts.append("Eerdere vragen in dit gesprek:\n" + "\n".join(f"- {h}" for h in history))
    parts += [f"Vraag: {question}", REMINDER]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}]
