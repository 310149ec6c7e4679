"""Person names (a heuristic: after a person word, a known given name or surname, or two
capitalised words that are not ordinary words), the word lists behind it, and the names
the corpus itself mentions (`PublicNames`), which pass."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from ..data import data_lines
from .findings import Finding

# Word lists


def _word_list(name: str) -> frozenset[str]:
    return frozenset(w for line in data_lines(name) for w in line.split())


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
STOPWORDS = frozenset(
    """
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
""".split()
)

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
_PARTICLES = frozenset(
    "van de der den ter ten te vanden vander el al ben ibn bin le la du da di dos von ait abou".split()
)


@dataclass(frozen=True)
class PublicNames:
    """What the corpus itself names: capitalised word runs ("Bart Somers", "Vlaamse
    Regering") with their surname-like endings ("Somers", "De Wever"), and the words it
    writes in lower case (ordinary words, never a name). A question naming a minister from
    the guide asks about public life, not about a case."""

    runs: frozenset[str] = frozenset()
    common: frozenset[str] = frozenset()

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> PublicNames:
        runs: set[str] = set()
        common: set[str] = set()
        for text in texts:
            for _, _, word in _words(text):
                if word.islower():
                    common.add(word)
            for raw in _runs(text, _words(text)):
                for run in (raw, _trim(raw)):
                    tokens = [w for _, _, w in run]
                    runs.update(" ".join(tokens[i:]) for i in range(len(tokens)))
        return cls(frozenset(runs), frozenset(common))


NO_PUBLIC = PublicNames()


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
    for w in words:
        joined = current and re.fullmatch(r"[ \t]+", text[current[-1][1] : w[0]])
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
        return (
            folded in STOPWORDS
            and folded not in person_names()
            or re.fullmatch(PERSON_WORDS, word, re.IGNORECASE) is not None
        )

    while run and (ordinary(run[0][2]) or run[0][2].lower() in _PARTICLES and run[0][2].islower()):
        run = run[1:]
    while run and run[-1][2].lower() in _PARTICLES:
        run = run[:-1]
    return run


def find_names(text: str, public: PublicNames) -> list[Finding]:
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
    if run and _PERSON_BEFORE.search(text[max(0, run[0][0] - 30) : run[0][0]]):
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
        with_surname = nxt and nxt[2].casefold() in surnames() and re.fullmatch(r"\s+", text[end : nxt[0]])
        if with_surname or _PERSON_BEFORE.search(text[max(0, start - 30) : start]):
            found.append(Finding("name", start, nxt[1] if with_surname else end))
    return found


def _sentence_initial(text: str, start: int) -> bool:
    before = text[max(0, start - 40) : start].rstrip(" \t\"'“‘(*•-–")
    return not before or before[-1] in ".!?:;\n"
