"""Towns, offices, services and languages named in a message, as Rasa entities.

Towns come from the ISTAT list (``bot.territory.comuni()``) plus the names people write in other
scripts and spellings (``knowledge/territory.yml``); offices and services from ``lexicon.yml``.
Every entity value is canonical: the official comune name ("Nardò" for "NARDO'", "Фоджа" or
"فودجا" → "Foggia"), the office kind or the service key of knowledge/README.md, an ISO 639-1 code.

Matching is a dictionary lookup of folded token sequences (up to six tokens, longest first),
not spaCy's PhraseMatcher: the names are a closed list, a lookup costs well under a
millisecond, and spaCy would add an import and pipeline load (6.6 s cold for ``spacy.blank("xx")``
on the development machine) while its multi-language tokenizer still leaves unspaced Chinese
("我住在福贾") as one token, so a substring pass would be needed anyway. On top of
the exact lookup: Russian and Ukrainian case endings (в Фодже), Arabic one-letter prefixes
(بفودجا), Chinese names found inside unspaced text, one typo in names of seven letters or more
when the word looks like a place (capitalised, or after "a", "in"...: "a cerignloa"), and
comuni named like everyday words ("Salve", "Noci") only in a place context.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.explicit import explicit_language
from bot.nlu.fingerprint import SourcesFingerprint
from bot.nlu.lexicon import LEXICON_FILE, TERRITORY_FILE
from bot.nlu.text import Token, key, sanitize, script_of, tokenize
from bot.territory import by_folded_name, comuni, fold

EXTRACTOR = "GazetteerEntityExtractor"
CITY, OFFICE, SERVICE, LANGUAGE = "city", "office", "service", "language"
MAX_PHRASE = 6
# Typos are forgiven only in long words, where one wrong letter cannot make another real word.
FUZZY_MIN_LEN = 7

_ARABIC_PREFIXES = ("و", "ب", "ل", "ف")
# Case endings of Russian and Ukrainian feminine nouns, for names ending in -а / -я.
_CYRILLIC_ENDINGS = {
    "а": ("е", "и", "ы", "у", "ой", "і", "ою"),
    "я": ("и", "е", "ю", "ей", "ї", "ею", "і"),
}


# Spelling variation in Indic and Arabic-script transliterations of Italian names: long and short
# vowels, aspirated or not, retroflex or dental t/d, doubled consonants (फ़ोज्जा/फोजा, ਬਾਰਲੇੱਟਾ/
# ਬਾਰਲੇਟਾ, ٹارانٹو/تارانتو, گالیپولی/غاليبولي). Town names are compared in this loose form after the
# exact lookup fails. The scripts with case endings or prefixes get those stripped too.
_LOOSE_SCRIPTS = ("devanagari", "bengali", "gurmukhi", "arabic")
_LOOSE_MAP = str.maketrans(
    {
        # Devanagari
        "ी": "ि",
        "ू": "ु",
        "ई": "इ",
        "ऊ": "उ",
        "ै": "े",
        "ौ": "ो",
        "ॉ": "ो",
        "ँ": "ं",
        "ऍ": "ए",
        "ऐ": "ए",
        "ऑ": "ओ",
        "ण": "न",
        "ट": "त",
        "ठ": "त",
        "थ": "त",
        "ड": "द",
        "ढ": "द",
        "ध": "द",
        "ख": "क",
        "घ": "ग",
        "छ": "च",
        "झ": "ज",
        "भ": "ब",
        "व": "ब",
        "श": "स",
        "ष": "स",
        "य": None,
        "ि": None,
        "इ": None,
        # Bengali
        "ী": "ি",
        "ূ": "ু",
        "ঈ": "ই",
        "ঊ": "উ",
        "ৈ": "ে",
        "ৌ": "ো",
        "ঁ": "ং",
        "ণ": "ন",
        "ট": "ত",
        "ঠ": "ত",
        "থ": "ত",
        "ড": "দ",
        "ঢ": "দ",
        "ধ": "দ",
        "খ": "ক",
        "ঘ": "গ",
        "ছ": "চ",
        "ঝ": "জ",
        "ভ": "ব",
        "শ": "স",
        "ষ": "স",
        "য": None,
        "ি": None,
        "ই": None,
        "অ": "আ",
        "ঙ": "ন",
        # Gurmukhi
        "ੀ": "ਿ",
        "ੂ": "ੁ",
        "ਈ": "ਇ",
        "ਊ": "ਉ",
        "ੈ": "ੇ",
        "ੌ": "ੋ",
        "ਂ": "ੰ",
        "ਣ": "ਨ",
        "ਟ": "ਤ",
        "ਠ": "ਤ",
        "ਥ": "ਤ",
        "ਡ": "ਦ",
        "ਢ": "ਦ",
        "ਧ": "ਦ",
        "ਖ": "ਕ",
        "ਘ": "ਗ",
        "ਛ": "ਚ",
        "ਝ": "ਜ",
        "ਭ": "ਬ",
        "ਵ": "ਬ",
        "ੱ": None,
        "ਯ": None,
        "ਿ": None,
        "ਇ": None,
        "ੲ": None,
        # Arabic script: Urdu/Pashto/Persian letters and the ways Arabic writes g, p, v, ch
        "ٹ": "ت",
        "ټ": "ت",
        "ط": "ت",
        "ڈ": "د",
        "ډ": "د",
        "ڑ": "ر",
        "ړ": "ر",
        "ں": "ن",
        "ڼ": "ن",
        "ے": "ی",
        "ۍ": "ی",
        "ې": "ی",
        "ئ": "ی",
        "ھ": "ه",
        "ہ": "ه",
        "گ": "غ",
        "ګ": "غ",
        "ق": "غ",
        "پ": "ب",
        "ڤ": "ف",
        "ۆ": "و",
        "ؤ": "و",
        "آ": "ا",
        "أ": "ا",
        "إ": "ا",
        "ٱ": "ا",
        "ص": "س",
        "ث": "س",
        "ذ": "ز",
        "ض": "د",
        "ظ": "ز",
        "ژ": "ج",
        "ی": None,
        "\u200c": None,
        "\u200d": None,
    }
)
_LOOSE_PAIRS = (("تش", "چ"), ("دج", "ج"), ("ودو", "و"))
# Case endings or postpositions glued to a town: বারিতে, ফোজ্জায়, বারির (bn); ਬਾਰੀਓਂ (pa).
_LOOSE_SUFFIXES = {
    "bengali": ("তে", "েতে", "য়ে", "য়", "এ", "ের", "র", "কে", "ে", "েই", "ও"),
    "devanagari": ("में", "मे", "से", "का", "की", "के"),
    "gurmukhi": ("ਵਿੱਚ", "ਦੇ", "ਦਾ", "ਦੀ", "ਤੋਂ", "ਓਂ"),
    "arabic": ("میں", "سے", "کے", "کی", "کا", "ی", "ه", "ا"),
}
# Short loose forms are everyday words ("बार" = time, "ত্রাণ" = relief ~ Trani): exact only.
LOOSE_MIN_LEN = 5
# A one-letter difference is forgiven only in long names, with the first and last letters right
# (as for Latin script): "ناخدو" (we take) is not Nardò, "ਲਾਤੀਨਾ" (Latina) not Galatina.
LOOSE_FUZZY_MIN_LEN = 6


def _folded_suffixes() -> dict[str, tuple[str, ...]]:
    return {
        s: tuple(sorted({key(x) for x in xs}, key=len, reverse=True))
        for s, xs in _LOOSE_SUFFIXES.items()
    }


def loose_key(word: str) -> str:
    """Loose form of a folded word in an Indic or Arabic script (see ``_LOOSE_MAP``)."""
    out = word.translate(_LOOSE_MAP).translate(_LOOSE_MAP)  # twice: ी → ि → nothing
    for old, new in _LOOSE_PAIRS:
        out = out.replace(old, new)
    collapsed: list[str] = []
    for ch in out:
        if not collapsed or collapsed[-1] != ch:
            collapsed.append(ch)
    out = "".join(collapsed)
    # Final -a is written ا, ه or left out in Persian and Urdu transliterations.
    if out and script_of(out[0]) == "arabic":
        out = out.rstrip("اه") or out
    return out


def _loose_script(words: tuple[str, ...]) -> str | None:
    scripts = {script_of(w[0]) for w in words if w}
    if len(scripts) == 1:
        script = scripts.pop()
        return script if script in _LOOSE_SCRIPTS else None
    return None


@dataclass(frozen=True)
class Entry:
    """What a phrase means: entity type, canonical value, and how to treat it."""

    entity: str
    value: str
    italian: bool = False  # an Italian word used in every language ("permesso", a town name)
    ambiguous: bool = False  # needs a place context (comuni named like everyday words)
    istat: str | None = None


@dataclass(frozen=True)
class Match:
    """An entity found in a message; ``start``/``end`` index the sanitized text."""

    entry: Entry
    start: int
    end: int
    text: str

    def as_entity(self) -> dict[str, Any]:
        """Rasa's entity dict for this match."""
        entity: dict[str, Any] = {
            "entity": self.entry.entity,
            "value": self.entry.value,
            "start": self.start,
            "end": self.end,
            "confidence_entity": 1.0,
            "extractor": EXTRACTOR,
        }
        if self.entry.istat:
            entity["additional_info"] = {"istat": self.entry.istat}
        return entity


@dataclass
class Gazetteer:
    """Folded phrase → meaning, plus the indexes for typos and unspaced Chinese."""

    phrases: dict[tuple[str, ...], Entry] = field(default_factory=dict)
    fuzzy: dict[str, set[str]] = field(default_factory=dict)
    han: list[tuple[str, Entry]] = field(default_factory=list)
    place_cues: frozenset[str] = frozenset()
    loose: dict[tuple[str, ...], Entry] = field(default_factory=dict)
    loose_fuzzy: dict[str, list[tuple[str, Entry]]] = field(default_factory=dict)

    def add(self, phrase: str, entry: Entry, fuzzy: bool = False) -> None:
        """Index ``phrase``; ``fuzzy`` also forgives one typo in it."""
        if phrase and all(script_of(ch) in ("han", None) for ch in phrase):
            if any(script_of(ch) == "han" for ch in phrase):
                self.han.append((phrase, entry))
                return
        words = tuple(key(t.text) for t in tokenize(phrase))
        if not words:
            return
        # The first source wins: official names before aliases, towns before lexicon words.
        self.phrases.setdefault(words, entry)
        script = _loose_script(words) if entry.entity == CITY else None
        if script:
            loose = tuple(loose_key(w) for w in words)
            if sum(map(len, loose)) >= LOOSE_MIN_LEN:
                self.loose.setdefault(loose, entry)
            if len(loose) == 1 and len(loose[0]) >= LOOSE_FUZZY_MIN_LEN:
                self.loose_fuzzy.setdefault(script, []).append((loose[0], entry))
        if len(words) == 1:
            word = words[0]
            for ending_from, endings in _CYRILLIC_ENDINGS.items():
                if (
                    len(word) >= 4
                    and word.endswith(ending_from)
                    and script_of(word[0]) == "cyrillic"
                ):
                    for ending in endings:
                        self.phrases.setdefault((word[:-1] + ending,), entry)
            if fuzzy and len(word) >= FUZZY_MIN_LEN and script_of(word[0]) == "latin":
                for variant in _deletions(word):
                    self.fuzzy.setdefault(variant, set()).add(word)


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _osa_distance_le1(a: str, b: str) -> bool:
    """Tell whether ``a`` and ``b`` differ by at most one edit (a transposition is one)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _build() -> Gazetteer:
    lex = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    ambiguous = {fold(n) for n in lex["ambiguous_comuni"]}
    gaz = Gazetteer(place_cues=frozenset(key(w) for w in lex["place_cues"]))
    for comune in comuni():
        entry = Entry(
            CITY,
            comune.name,
            italian=True,
            ambiguous=fold(comune.name) in ambiguous,
            istat=comune.istat,
        )
        gaz.add(comune.name, entry, fuzzy=not entry.ambiguous)
    if TERRITORY_FILE.is_file():
        data = yaml.safe_load(TERRITORY_FILE.read_text(encoding="utf-8")) or {}
        for alias in data.get("aliases") or []:
            aliased = by_folded_name().get(fold(str(alias["comune"])))
            if aliased is None:
                continue  # `bot kb validate` reports unknown comuni; NLU just skips them
            entry = Entry(CITY, aliased.name, italian=True, istat=aliased.istat)
            for name in alias.get("names") or []:
                gaz.add(str(name), entry, fuzzy=True)
    for entity, section in ((OFFICE, "offices"), (SERVICE, "services")):
        for value, names in lex[section].items():
            for word in names.get("it") or []:
                gaz.add(str(word), Entry(entity, value, italian=True), fuzzy=True)
            for word in names.get("other") or []:
                gaz.add(str(word), Entry(entity, value))
    return gaz


_lock = threading.Lock()
_gazetteer: Gazetteer | None = None


def gazetteer() -> Gazetteer:
    """Build the gazetteer on first use; the whole process shares it."""
    global _gazetteer
    if _gazetteer is None:
        with _lock:
            if _gazetteer is None:
                _gazetteer = _build()
    return _gazetteer


_SUFFIXES = _folded_suffixes()


def _loose_lookup(gaz: Gazetteer, words: tuple[str, ...]) -> Entry | None:
    """Town names in Indic or Arabic script, spelt loosely, with glued endings or prefixes."""
    script = _loose_script(words)
    if script is None:
        return None
    loose = tuple(loose_key(w) for w in words)
    entry = gaz.loose.get(loose) if sum(map(len, loose)) >= LOOSE_MIN_LEN else None
    if entry is not None or len(words) > 1:
        return entry
    word = words[0]
    forms = [word]
    if script == "arabic" and word[0] in _ARABIC_PREFIXES:
        forms.append(word[1:])
    forms += [
        f[: -len(s)]
        for f in list(forms)
        for s in _SUFFIXES[script]
        if f.endswith(s) and len(f) - len(s) >= 3
    ]
    for form in forms[1:]:
        lk = loose_key(form)
        entry = gaz.phrases.get((form,))
        if entry is None and len(lk) >= LOOSE_MIN_LEN:
            entry = gaz.loose.get((lk,))
        if entry is not None:
            return entry
    # One letter more, less or different in a long name: another transliteration of it.
    for form in forms:
        lk = loose_key(form)
        if len(lk) < LOOSE_FUZZY_MIN_LEN:
            continue
        found = {
            e
            for name, e in gaz.loose_fuzzy.get(script, ())
            if name[0] == lk[0] and name[-1] == lk[-1] and _osa_distance_le1(lk, name)
        }
        if len(found) == 1:
            return found.pop()
    return None


def _lookup(gaz: Gazetteer, words: tuple[str, ...], fuzzy: bool) -> Entry | None:
    entry = gaz.phrases.get(words)
    if entry is None:
        entry = _loose_lookup(gaz, words)
    if entry is None and len(words) == 1:
        word = words[0]
        if word and script_of(word[0]) == "arabic" and word[0] in _ARABIC_PREFIXES:
            entry = gaz.phrases.get((word[1:],))
        elif fuzzy and len(word) >= FUZZY_MIN_LEN and script_of(word[0]) == "latin":
            # First and last letters must match: people rarely get those wrong, while changing
            # them makes everyday words ("copertina" ≠ Copertino, "gelatina" ≠ Galatina).
            candidates = {
                name
                for variant in _deletions(word)
                for name in gaz.fuzzy.get(variant, ())
                if name[0] == word[0] and name[-1] == word[-1] and _osa_distance_le1(word, name)
            }
            if len(candidates) == 1:
                entry = gaz.phrases.get((candidates.pop(),))
    return entry


def _after_place_word(keys: list[str], i: int) -> bool:
    return i > 0 and keys[i - 1] in gazetteer().place_cues


def _in_place_context(tokens: list[Token], keys: list[str], i: int) -> bool:
    return tokens[i].text[:1].isupper() and _after_place_word(keys, i)


def find(text: str | None, gaz: Gazetteer | None = None) -> list[Match]:
    """Entities named in ``text`` (sanitized first), left to right, never overlapping.

    With the shared gazetteer the result is cached per text: the language detector, the
    tokenizer, the concept featurizer and the entity extractor all ask it about each message.
    """
    if gaz is None:
        return list(_find_shared(text or ""))
    return _find(text, gaz)


@lru_cache(maxsize=64)
def _find_shared(text: str) -> tuple[Match, ...]:
    return tuple(_find(text, gazetteer()))


def _find(text: str | None, gaz: Gazetteer) -> list[Match]:
    text = sanitize(text)
    if not text:
        return []
    tokens = tokenize(text)
    keys = [key(t.text) for t in tokens]
    matches: list[Match] = []
    i = 0
    while i < len(tokens):
        for size in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
            # A misspelt town must look like a place: capitalised or after "a", "in", "في"...
            fuzzy = size == 1 and (tokens[i].text[:1].isupper() or _after_place_word(keys, i))
            entry = _lookup(gaz, tuple(keys[i : i + size]), fuzzy)
            if entry is None:
                continue
            if entry.ambiguous and not _in_place_context(tokens, keys, i):
                continue
            start, end = tokens[i].start, tokens[i + size - 1].end
            matches.append(Match(entry, start, end, text[start:end]))
            i += size
            break
        else:
            i += 1
    for phrase, entry in gaz.han:
        at = text.find(phrase)
        if at >= 0 and not any(m.start < at + len(phrase) and at < m.end for m in matches):
            matches.append(Match(entry, at, at + len(phrase), phrase))
    return sorted(matches, key=lambda m: m.start)


def entities(text: str | None) -> list[dict[str, Any]]:
    """Rasa entity dicts for ``text``: towns, offices, services and an explicit language."""
    found = [m.as_entity() for m in find(text)]
    mention = explicit_language(text)
    if mention is not None:
        found.append(
            {
                "entity": LANGUAGE,
                "value": mention.code,
                "start": mention.start,
                "end": mention.end,
                "confidence_entity": 1.0,
                "extractor": EXTRACTOR,
            }
        )
    return found


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class GazetteerEntityExtractor(SourcesFingerprint, GraphComponent, EntityExtractorMixin):
    """Adds ``city``, ``office``, ``service`` and ``language`` entities; needs no training.

    Offsets refer to the message text after :func:`bot.nlu.text.sanitize`, which equals the
    text as sent unless it had control characters, repeated spaces or over 2 000 characters.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GazetteerEntityExtractor:
        """Stateless: nothing to load or train."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Append our entities to whatever earlier extractors found."""
        for message in messages:
            ours = entities(message.get(TEXT) or "")
            if ours:
                theirs = [
                    e
                    for e in message.get(ENTITIES, []) or []
                    if e.get("entity") not in {CITY, OFFICE, SERVICE, LANGUAGE}
                ]
                message.set(ENTITIES, theirs + ours, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data keeps its own annotations."""
        return training_data
