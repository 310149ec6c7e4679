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
# Core: a generated answer (core/generation), and how the front ends label it

# Above a generated answer (chat, widget, livc ask; the API's "label"): it was written by a
# language model, and only sentences that the cited passages support are shown.
GENERATED_LABEL = "Gegenereerd antwoord — elke zin is gecontroleerd tegen de geciteerde bronnen."
# With a generated answer to an English or French question, in its language.
GENERATED_LANGUAGE_NOTES = {
    "en": "The guide is in Dutch: this answer was written from it in Dutch, each sentence checked against its sources.",
    "fr": "Le guide est rédigé en néerlandais : cette réponse en a été tirée en néerlandais, chaque phrase "
    "vérifiée par rapport à ses sources.",
}

# ---------------------------------------------------------------------------
# Core: the question (core/assistant.py)

# Said by every front end when the vector store (a Chroma server) cannot be reached.
UNAVAILABLE_TEXT = (
    "De zoekindex van de assistent is even niet bereikbaar, dus er kan nu geen antwoord komen. "
    "Probeer het over een minuut opnieuw; blijft het zo, verwittig dan de beheerder."
)
# A question the assistant cannot take (QuestionError).
QUESTION_NOT_TEXT = "De vraag moet tekst zijn."
QUESTION_EMPTY = "Typ eerst een vraag."
QUESTION_TOO_LONG = (
    "Uw vraag is te lang ({length} tekens). Stel een korte vraag van hoogstens "
    "{limit} tekens, zonder namen of dossiergegevens."
)
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
PRIVACY_NOTICE = (
    "Uw vraag leek persoonsgegevens te bevatten ({kinds}). Die zijn vóór het zoeken "
    "vervangen door een aanduiding zoals [naam] en worden nergens bewaard. De gids beantwoordt algemene "
    "vragen: laat namen en andere gegevens uit een casus weg."
)
# Instead of an answer, when the guard is set to refuse such questions (PersonalDataError).
PRIVACY_REFUSAL = (
    "Uw vraag lijkt persoonsgegevens te bevatten ({kinds}). Daarom wordt ze niet "
    "beantwoord en nergens bewaard. Haal namen en andere gegevens uit een casus weg en stel de vraag "
    "in algemene termen opnieuw."
)

# ---------------------------------------------------------------------------
# Core: building the index, on the operator's terminal (core/index)

BUILD_WAITING = "Een andere build van deze index loopt nog; even wachten…"
STORE_SET_ASIDE = (
    "De vectoropslag {file} is beschadigd ({damage}); opzijgezet als {aside}, de index wordt opnieuw opgebouwd."
)
CACHE_REPLACED = "De embeddingcache {path} is beschadigd ({error}); een lege wordt gebruikt."
# The progress bars of a build (core/index/build.py, embedding_cache.py): what is counted, and its unit.
BUILD_DOCUMENTS = "Documenten"
BUILD_DOCUMENT_UNIT = "doc"
BUILD_PAGE_UNIT = "p."  # the pages of one document, under its file name
BUILD_PASSAGES = "Passages"
BUILD_WINDOWS = "Vensters"
BUILD_QUESTIONS = "Vragen"  # the questions of the vraag-en-antwoordfiche
BUILD_REFERENCE = "Referentie"  # the reference passages on subjects the guide does not cover
BUILD_TEXT_UNIT = "tekst"

# ---------------------------------------------------------------------------
# Ops: an answer in the terminal, livc ask (ops/cli.py)

ASK_NOTICE = "Let op: {notice}"
ASK_SUGGESTIONS = "Misschien helpen deze onderdelen:"  # before the sections offered with an abstention
ASK_SOURCES = "Bronnen:"
ASK_FAQ_LABEL = " (vraag-en-antwoordfiche)"  # after the title of a Q&A entry
ASK_VERSION = "versie van {date} (sha256 {sha})"

# ===========================================================================
# Web: chat, API, document viewer
#
# Markup stays in the module that renders it; these are the words in it, written as they go
# into the page (ours, so not escaped: a "<" or "&" here would be markup).

# ---------------------------------------------------------------------------
# Web: the chat page (web/chat.py); Markdown where Gradio renders Markdown

CHAT_DESCRIPTION = "LIVC-assistent: antwoorden met bronnen uit het draaiboek LIVC-R"  # the page's meta description
CHAT_INTRO = (
    "Vragen over de lokale integrale veiligheidscel inzake radicalisme, extremisme en terrorisme (LIVC-R)? "
    "De assistent kent het **draaiboek LIVC-R** en de **vraag-en-antwoordfiche** (situatie juli 2021). "
    "Elk antwoord citeert letterlijk uit die gids, met de bron erbij. "
    "De gids is een onafhankelijke samenvatting, geen officiële publicatie van de VVSG: "
    "controleer belangrijke beslissingen in de bron."
)
# Under the intro: the privacy note, as the operator set log_questions (off, on).
CHAT_PRIVACY_OFF = (
    "**Privacy:** typ geen namen of details van een casus. Wat u typt, wordt niet bewaard op de server: "
    "uw gesprek blijft alleen in dit tabblad van uw browser, tot u het sluit of een nieuw gesprek begint. "
    "Geeft u feedback (nuttig of niet nuttig), dan bewaren we het antwoord en de bronnen; uw vraag alleen "
    "als u die zelf meestuurt."
)
CHAT_PRIVACY_ON = (
    "**Privacy:** typ geen namen of details van een casus. De beheerder heeft het bewaren van vragen "
    "ingeschakeld: vragen waarover u feedback geeft, worden bewaard om de assistent te verbeteren. "
    "Uw gesprek zelf blijft alleen in dit tabblad van uw browser."
)
# The empty conversation: its line, then the example questions to click.
CHAT_EMPTY = "**Stel hieronder uw vraag**, of kies een voorbeeld:"
CHAT_EXAMPLES = [
    "Wie leidt de LIVC-R?",
    "Wie moet er minstens aan tafel zitten?",
    "Schend ik mijn beroepsgeheim als ik in de LIVC-R iets vertel?",
    "Hoe lang bewaren we de verslagen?",
    "Wanneer wordt een casus afgesloten?",
    "Wat is het verschil tussen een LIVC-R en een Local Task Force?",
]
CHAT_LABEL = "Gesprek"  # the conversation's label (not shown)
CHAT_PLACEHOLDER = "Typ hier uw vraag over de LIVC-R (zonder namen of casusdetails)"
CHAT_QUESTION_LABEL = "Uw vraag"  # the input's accessible name (its placeholder says the rest)
CHAT_SEND = "Vraag stellen"  # buttons
CHAT_NEW = "Nieuw gesprek"
CHAT_STOP = "Stop"  # while a generated answer is being written; its accessible name is CHAT_PAGE_TEXT["stop"]
# Under the answer after Stop: the model's sentences made way for the quoted answer.
CHAT_STOPPED = "Gestopt. U ziet het antwoord met letterlijke citaten uit de gids."
CHAT_EXPORT_MD = "Exporteer als Markdown"  # the conversation with its sources, as a file
CHAT_EXPORT_DOCX = "Exporteer als Word"
# On the "Gelezen als vervolg op ..." line: ask that question again without the earlier ones.
CHAT_REASK = "Lees als nieuwe vraag"
CHAT_REASK_TITLE = "Stelt deze vraag opnieuw, los van de vorige vragen"
# After a thumbs down: the question, its choices (shown, and stored with the feedback: web/feedback.py),
# and two buttons.
CHAT_REASON_LABEL = "Wat klopte er niet? (optioneel)"
FEEDBACK_REASONS = (
    "bron klopt niet",
    "antwoord onvolledig",
    "antwoord klopt niet",
    "vraag niet begrepen",
    "verkeerd onderwerp",
    "iets anders",
)
CHAT_REASON_ABOUT = "Over het antwoord op: “{question}”"  # atop the box: which answer it is about
CHAT_REASON_NOTE = "Toelichting (optioneel, zonder namen)"  # free text, stored with personal data masked
CHAT_REASON_SHARE = "Stuur mijn vraag mee (zonder namen)"  # opt-in: the (masked) question is stored too
CHAT_REASON_SEND = "Reden doorgeven"
CHAT_REASON_CLOSE = "Sluiten"
CHAT_THANKS = "Bedankt voor uw feedback."  # after a thumb or a reason
# Instead of an answer, when answering failed for a reason the user cannot help.
CHAT_ERROR = "Er ging iets mis bij het zoeken in de gids. Probeer het opnieuw, of stel de vraag anders."
# Gradio's Dutch locale lacks a few strings our page shows (its own keys).
CHAT_TRANSLATIONS = {
    "chatbot.copy_message": "Bericht kopiëren",
    "chatbot.copied_message": "Bericht gekopieerd",
    "chatbot.complete": "Klaar",
    "chatbot.like": "Nuttig",
    "chatbot.dislike": "Niet nuttig",
}
# The page's own script (web/chatpage.py, static/chat.js): plain text, set as text or attributes.
CHAT_PAGE_TEXT = {
    "skip": "Naar het laatste antwoord",  # the skip link, first on the page
    "skipEmpty": "Naar de vraag",  # ... before anything was asked
    "log": "Gesprek",  # the conversation's accessible name
    "examples": "Voorbeeldvragen",
    "example": "Voorbeeldvraag {n}: {text}",
    "liked": "Gemarkeerd als nuttig",
    "disliked": "Gemarkeerd als niet nuttig",
    "copied": "Antwoord met bronnen gekopieerd",
    "sources": "Bronnen",
    "nearest": "Dichtstbijzijnde onderdelen van de gids",
    "page": "p. {page}",
    "exportEmpty": "Er is nog geen antwoord om te exporteren.",
    "exportFailed": "Exporteren lukte niet. Probeer het opnieuw.",
    "restored": "Uw gesprek van deze sessie is hersteld.",
    "stop": "Stop het antwoord",  # the Stop button's accessible name (its label is CHAT_STOP)
}

# ---------------------------------------------------------------------------
# Web: an answer and its sources in the chat (web/render.py); HTML

FAQ_LABEL = "vraag-en-antwoordfiche"  # a source's kind
GUIDE_LABEL = "draaiboek"
LOW_CONFIDENCE_LABEL = "Mogelijk relevant — controleer de bron"  # above an answer of low confidence
FAQ_ANSWER_FROM = f"Antwoord uit de {FAQ_LABEL}"  # above a Q&A answer, before the entry's question
MARKER_TITLE = "Bron {n}: {path}"  # the tooltip of an [n] marker; {path} is the section path
# An abstention: heading, text, the nearest sections, and a hint ({new} is CHAT_NEW, in italics).
ABSTAIN_TITLE = "Dit staat niet in de gids"
ABSTAIN_TEXT = (
    "Het draaiboek en de vraag-en-antwoordfiche beantwoorden deze vraag niet. "
    "De assistent antwoordt alleen met citaten uit de gids en gokt niet."
)
ABSTAIN_SUGGESTIONS = "Deze onderdelen komen het dichtst in de buurt:"
ABSTAIN_RETRY = "Formuleer uw vraag eventueel anders. Onder {new} vindt u voorbeeldvragen."
# The sources panel: its name (also its heading while it is empty), then per question a
# heading ("{heading} bij: {question}") over its cards.
SOURCES = "Bronnen"
SOURCE = "Bron"  # the heading when there is one
SOURCES_EMPTY = (
    "Hier verschijnen de bronnen bij elk antwoord: de passage uit de gids, met de geciteerde zinnen "
    "gemarkeerd, en een link naar die plek in het document."
)
SOURCES_SUGGESTED = "Niet gevonden — dichtstbijzijnde onderdelen"  # the heading after an abstention
SOURCES_FOR = "{heading} bij: {question}"
# A source card: its number (read aloud), page, version (a tooltip on the title), and links.
CARD_NUMBER = "bron {n}"
PAGE = "p. {page}"
PAGES = "p. {page}–{end}"  # a passage that runs onto the next page
VERSION_DATE = "versie van {date}"
VERSION_SHA = "sha256 {sha}"
CARD_OPEN = "Open in het document"
CARD_OPEN_TITLE = "Opent de gids bij deze passage, met de geciteerde zinnen gemarkeerd; met Terug komt u bij uw gesprek"
CARD_BACK = "Terug naar het gesprek"  # on a phone, where the panel is below the chat

# ---------------------------------------------------------------------------
# Web: the REST API (web/api.py, web/app.py); JSON {code, message}, the code stable English

API_BUSY = "De assistent is even erg druk. Probeer het over een minuut opnieuw."
REQUEST_INVALID = "Het verzoek is ongeldig."  # also the chat's guard (web/guard.py)
# HTTP errors of the API: status -> (code, message); HTTP_OTHER for any other status.
HTTP_CODES = {
    400: ("bad_request", REQUEST_INVALID),
    401: ("unauthorized", "Aanmelden is vereist."),
    404: ("not_found", "Dit adres bestaat niet in de API."),
    405: ("method_not_allowed", "Deze methode is hier niet toegestaan."),
    413: ("too_large", "Het verzoek is te groot."),
    415: ("unsupported_media_type", "Stuur de vraag als JSON (Content-Type: application/json)."),
}
HTTP_OTHER = ("error", "Het verzoek kon niet worden verwerkt.")
API_NOT_FOUND = "Dit adres bestaat niet in de API. Zie /docs voor wat er is."  # an unknown /api/v1 path
API_METHOD_NOT_ALLOWED = "Deze methode is hier niet toegestaan. Zie /docs."  # e.g. GET /api/v1/ask
API_FILE_NOT_FOUND = "Dit bestand bestaat niet."  # an unknown file of the /docs page
API_INVALID_JSON = "De inhoud van het verzoek is geen geldige JSON."
# A request that does not validate: "Het verzoek is ongeldig: {field} {problem}." for its first error.
VALIDATION = "Het verzoek is ongeldig: {field} {problem}."
FIELD_NAMES = {
    "question": "de vraag",
    "history": "de geschiedenis",
    "q": "de zoekvraag",
    "k": "het aantal resultaten",
    "body": "de inhoud van het verzoek",
}
FIELD_UNKNOWN = "het veld '{field}'"
FIELD_HISTORY_ITEM = "vraag {n} van de geschiedenis"
# Per kind of error (pydantic's names); braces: the limit of the field.
PROBLEMS = {
    "missing": "ontbreekt",
    "string_type": "moet tekst zijn",
    "list_type": "moet een lijst van vragen zijn",
    "int_parsing": "moet een geheel getal zijn",
    "int_type": "moet een geheel getal zijn",
    "model_attributes_type": "moet een JSON-object zijn",
    "dict_type": "moet een JSON-object zijn",
    "string_too_long": "is te lang (hoogstens {max_length} tekens)",
    "too_long": "bevat te veel elementen (hoogstens {max_length})",
    "greater_than_equal": "moet minstens {ge} zijn",
    "less_than_equal": "mag hoogstens {le} zijn",
}
PROBLEM_OTHER = "heeft een ongeldige waarde"
# Too many questions from one user, in the API and the chat alike (web/api.py, web/guard.py).
RATE_LIMITED = "U hebt te veel vragen na elkaar gesteld. Probeer het over {seconds} seconden opnieuw."
NOT_LOADED = "De index is niet geladen."  # /readyz of an app without an index (web/app.py)

# ---------------------------------------------------------------------------
# Web: refusals before a request gets anywhere (web/guard.py, web/auth.py, web/headers.py)

# The chat's guard, by code; Gradio's page shows the message.
GUARD_MESSAGES = {
    "origin": "Deze pagina mag de LIVC-assistent niet gebruiken.",
    "not_found": "Dit adres bestaat niet in de LIVC-assistent.",
    "too_large": "Uw vraag is te lang. Stel een korte vraag, zonder namen of dossiergegevens.",
    "timeout": "Het verzoek kwam te traag binnen.",
    "invalid_request": REQUEST_INVALID,
}
# Signing in, by reason; as JSON, or on a page under SIGN_IN_TITLE.
SIGN_IN_MESSAGES = {
    "header": "U bent niet aangemeld. Open de assistent via het intranet, waar u zich aanmeldt.",
    "basic": "Aanmelden is vereist. Geef uw gebruikersnaam en wachtwoord voor de LIVC-assistent.",
    "invalid_token": "De API-sleutel is ongeldig of ingetrokken.",
    "throttled": "Te veel mislukte aanmeldpogingen. Probeer het over {seconds} seconden opnieuw.",
}
SIGN_IN_TITLE = "Aanmelden vereist"
# Any error nobody foresaw, on any route (a 500).
SERVER_ERROR = "Er ging iets mis in de LIVC-assistent. Probeer het later opnieuw."

# ---------------------------------------------------------------------------
# Web: the document viewer (web/viewer.py); HTML

VIEWER_BACK = "← Terug naar de LIVC-assistent"  # the bar above every page
VIEWER_DOCUMENTS = "Documenten"  # the list's title and heading
VIEWER_NOT_FOUND_TITLE = "Niet gevonden"
VIEWER_NOT_FOUND_HEADING = "Document niet gevonden"
VIEWER_NOT_FOUND_TEXT = "Dit document hoort niet bij de gids van de assistent."
VIEWER_PDF_QUOTE = "Het antwoord citeert deze zinnen van pagina {page}; de PDF staat eronder, op die pagina."
VIEWER_PDF_OPEN = "Open de PDF apart"

# ---------------------------------------------------------------------------
# Web: the conversation exported as Markdown or Word (web/export.py); plain text

EXPORT_TITLE = "Gesprek met de LIVC-assistent"
EXPORT_DATE = "Geëxporteerd op {date} om {time}."
EXPORT_ABOUT = (
    "De antwoorden citeren het draaiboek LIVC-R en de vraag-en-antwoordfiche, een onafhankelijke samenvatting "
    "en geen officiële publicatie van de VVSG: controleer belangrijke beslissingen in de bron."
)
EXPORT_QUESTION = "Vraag {n}"  # before the question: "Vraag 2: Wie leidt de LIVC-R?"
EXPORT_NEAREST = "Deze onderdelen komen het dichtst in de buurt:"
EXPORT_FAILED = "Dit gesprek kon niet worden geëxporteerd."
EXPORT_TOO_LARGE = "Dit gesprek is te groot om te exporteren. Begin een nieuw gesprek."

# ---------------------------------------------------------------------------
# Web: the maintainer page /beheer (web/admin.py); HTML

ADMIN_TITLE = "Beheer"
ADMIN_LOCAL_ONLY = "Zonder aanmelding is deze pagina alleen te zien op de computer waarop de assistent draait."
ADMIN_DOCUMENTS = "Documenten in de index"
ADMIN_INDEX = "Index {generation}, gebouwd op {built}: {passages} passages."
ADMIN_NO_INDEX = "Er is nog geen index. Bouw ze met <code>livc index</code>."
ADMIN_DOCUMENTS_COLUMNS = ["Bestand", "Titel", "Formaat", "Pagina's", "Passages", "Versie", "sha256", "Toestand"]
ADMIN_STATES = {  # a document's state (core/index/status.py)
    "indexed": "geïndexeerd",
    "changed": "gewijzigd sinds de index",
    "removed": "verwijderd uit de map",
    "new": "nieuw, nog niet geïndexeerd",
    "skipped": "overgeslagen",
}
ADMIN_FEEDBACK = "Feedback"
ADMIN_FEEDBACK_NONE = "Nog geen feedback."
ADMIN_FEEDBACK_CSV = "Exporteer alle feedback als CSV"
ADMIN_FEEDBACK_COLUMNS = ["Datum", "Oordeel", "Reden", "Toelichting", "Vraag", "Antwoord", "Bronnen"]
ADMIN_EVAL = "Laatste evaluatie"
ADMIN_EVAL_NONE = "Nog geen evaluatierapport: <code>livc eval</code> schrijft het in eval/reports/latest."
