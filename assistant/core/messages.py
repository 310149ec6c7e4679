"""The Dutch message catalogue: every sentence a user sees, in one file, so that one person
can proof-read them all. The modules import their sentences from here; a sentence with
parts in braces (``{length}``) is filled in with ``str.format`` by the module named in
its group's heading. (Errors meant for the operator, such as a damaged index, are in
English where they are raised.)

The sentences of the core and the operator tools come first; those of the web front ends
(chat, API, document viewer) follow in a section of their own.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------
# Core: the answer (core/answer.py)

# The whole answer when the guide does not cover the question.
NOT_IN_GUIDE = "Dit staat niet in het draaiboek of de vraag-en-antwoordfiche."
# Shown with the answer to an English or French question, in its language.
LANGUAGE_NOTES = {
    "en": "The guide is in Dutch: this answer quotes it word for word, with its sources.",
    "fr": "Le guide est rédigé en néerlandais : cette réponse le cite mot pour mot, avec ses sources.",
}

# ---------------------------------------------------------------------------
# Core: the question (core/assistant.py)

# Said by every front end when the vector store (a Chroma server) cannot be reached.
UNAVAILABLE_TEXT = ("De zoekindex van de assistent is even niet bereikbaar, dus er kan nu geen antwoord komen. "
                    "Probeer het over een minuut opnieuw; blijft het zo, verwittig dan de beheerder.")
# A question the assistant cannot take (QuestionError).
QUESTION_NOT_TEXT = "De vraag moet tekst zijn."
QUESTION_EMPTY = "Typ eerst een vraag."
QUESTION_TOO_LONG = ("Uw vraag is te lang ({length} tekens). Stel een korte vraag van hoogstens "
                     "{limit} tekens, zonder namen of dossiergegevens.")
QUESTION_NO_WORDS = "Uw vraag bevat geen woorden. Stel uw vraag in gewone tekst."
# The notice with an answer to a follow-up, searched with the earlier question spelled out.
READ_AS_FOLLOW_UP = "Gelezen als vervolg op uw vorige vraag: “{previous}”"

# ---------------------------------------------------------------------------
# Core: the personal-data guard (core/privacy)

# What replaces each kind of personal data in the question as it is shown and kept.
PLACEHOLDERS = {
    "national_number": "[rijksregisternummer]",
    "iban": "[IBAN]",
    "email": "[e-mail]",
    "phone": "[telefoonnummer]",
    "birth_date": "[geboortedatum]",
    "address": "[adres]",
    "name": "[naam]",
}
# The kinds as the notice and the refusal name them: "een naam, een adres en een IBAN".
LABELS = {
    "national_number": "een rijksregisternummer",
    "iban": "een rekeningnummer",
    "email": "een e-mailadres",
    "phone": "een telefoonnummer",
    "birth_date": "een geboortedatum",
    "address": "een adres",
    "name": "een naam",
}
LABEL_ANY = "persoonsgegevens"  # when no kind is named
LABELS_AND = " en "  # before the last of several labels
# With an answer to a question whose personal data was masked; {kinds} is the labels.
PRIVACY_NOTICE = ("Uw vraag leek persoonsgegevens te bevatten ({kinds}). Die zijn vóór het zoeken "
                  "vervangen door een aanduiding zoals [naam] en worden nergens bewaard. De gids beantwoordt algemene "
                  "vragen: laat namen en andere gegevens uit een casus weg.")
# Instead of an answer, when the guard is set to refuse such questions (PersonalDataError).
PRIVACY_REFUSAL = ("Uw vraag lijkt persoonsgegevens te bevatten ({kinds}). Daarom wordt ze niet "
                   "beantwoord en nergens bewaard. Haal namen en andere gegevens uit een casus weg en stel de vraag "
                   "in algemene termen opnieuw.")

# ---------------------------------------------------------------------------
# Core: building the index, on the operator's terminal (core/index)

BUILD_WAITING = "Een andere build van deze index loopt nog; even wachten…"
STORE_SET_ASIDE = ("De vectoropslag {file} is beschadigd ({damage}); opzijgezet als {aside}, "
                   "de index wordt opnieuw opgebouwd.")
CACHE_REPLACED = "De embeddingcache {path} is beschadigd ({error}); een lege wordt gebruikt."

# ---------------------------------------------------------------------------
# Ops: an answer in the terminal, livc ask (ops/cli.py)

ASK_NOTICE = "Let op: {notice}"
ASK_SUGGESTIONS = "Misschien helpen deze onderdelen:"  # before the sections offered with an abstention
ASK_SOURCES = "Bronnen:"
ASK_FAQ_LABEL = " (vraag-en-antwoordfiche)"  # after the title of a Q&A entry
ASK_VERSION = "versie van {date} (sha256 {sha})"
