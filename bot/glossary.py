"""The terminology glossary (``locales/glossary.yml``) and the one check that enforces it.

A person standing in front of an office must recognise the sign on the door, and must not think
that two names are two documents. So the glossary fixes, for each of the 16 languages:

- **offices**: the Italian name ("Questura", "Sportello Unico per l'Immigrazione", ...) that every
  language keeps, optionally followed by a gloss in brackets;
- **concepts** that recur in many texts (the residence permit, the receipt, the mediator, the
  health "ticket", the STP/ENI codes...): the one rendering each language uses, the Italian word
  some of them keep, and the variants that must not come back;
- **register**: the one form of address each language uses, and the forms of the other one.

:func:`Glossary.check` is the single implementation: ``bot messages validate`` runs it on the reply
catalogue (``locales/<lang>.yml``, the English source in ``domain.yml``) and ``bot kb validate`` on
every translated text of ``knowledge/``, each reporting ``file:line``. A text is flagged when:

1. its Italian source keeps an Italian word (the office name, "ricevuta", "STP"...) and it does not;
2. it names an office or concept in its own words (Chinese 警察局) without the Italian word;
3. it uses a variant the glossary rules out (ur ثالث for the mediator, fr "permis de séjour");
4. it writes an Italian word that needs explaining ("ticket") without the explanation;
5. it uses the other register (fr "tu" where the language uses "vous").

Patterns are plain text, matched without regard to case (an all-capital pattern such as "ASL" is
an acronym and matched as written), after folding the spellings that do not change a word
(curly apostrophes, Arabic vowel marks and tatweel, Arabic/Persian yeh and kaf, Indic nukta).
In Latin, Cyrillic and Greek, a pattern starts at the start of a word and ends at its end unless
it ends with ``*``, which stands for any letters ("Квестур*" matches Квестура, Квестури); other
scripts join prefixes and suffixes to words, so their patterns match anywhere. ``re:`` starts a
regular expression for the few cases plain text cannot say.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.kb.vocabulary import LANGUAGES
from bot.kb.yamlsource import LineDict, LineList, YamlError, load_yaml
from bot.settings import PROJECT_ROOT

GLOSSARY_PATH = PROJECT_ROOT / "locales" / "glossary.yml"
SOURCE = "it"  # the language every translation is compared with
KINDS = ("office", "concept")

_ENTRY_KEYS = (
    "id",
    "kind",
    "it",
    "keep",
    "in_italian",
    "terms",
    "names",
    "avoid",
    "explain",
    "note",
)
_REGISTER_KEYS = ("use", "avoid", "why")
_PLACEHOLDER = re.compile(r"{\w+}")
_LATIN = "A-Za-z\u00c0-\u024f\u1e00-\u1eff"
_CYRILLIC = "\u0400-\u052f"
_GREEK = "\u0370-\u03ff"
_FOLD = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u0060": "'",  # apostrophes
        "\u064a": "\u06cc",
        "\u0649": "\u06cc",
        "\u0643": "\u06a9",  # Arabic yeh/kaf → Persian
        "\u0640": None,  # tatweel
        "\u093c": None,
        "\u0a3c": None,
        "\u09bc": None,  # nukta (Devanagari, Gurmukhi, Bengali)
        **{chr(c): None for c in range(0x064B, 0x0660)},
        "\u0670": None,  # Arabic vowel marks
    }
)


def fold(text: str) -> str:
    """The spelling the patterns are compared with (see the module docstring)."""
    return unicodedata.normalize("NFC", text).translate(_FOLD)


def _letters(ch: str) -> str | None:
    """The letter class of a spaced alphabet ``ch`` belongs to, or ``None`` for other scripts."""
    for letters in (_LATIN, _CYRILLIC, _GREEK):
        if re.match(f"[{letters}]", ch):
            return letters
    return None


@dataclass(frozen=True)
class Pattern:
    """One glossary pattern, as written (for messages) and compiled."""

    text: str
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, text: str) -> Pattern:
        """Compile ``text`` (plain text with ``*``, or ``re:`` and a regular expression)."""
        if text.startswith("re:"):
            return cls(text, re.compile(fold(text[3:]), re.IGNORECASE))
        plain = fold(text.strip())
        core = plain.rstrip("*")
        letters_only = re.sub(r"[\s*'.-]", "", core)
        acronym = len(letters_only) > 1 and letters_only.isascii() and letters_only.isupper()
        body = r"\w*".join(re.escape(part) for part in core.split("*"))
        first, last = _letters(core[0]), _letters(core[-1])
        start = f"(?<![{first}])" if first else ""
        end = r"\w*" if plain.endswith("*") else (f"(?![{last}])" if last else "")
        return cls(text, re.compile(start + body + end, 0 if acronym else re.IGNORECASE))

    def find(self, folded: str) -> str | None:
        """The matched text in an already folded text, or ``None``."""
        match = self.regex.search(folded)
        return match.group(0) if match else None


def _first(patterns: tuple[Pattern, ...], folded: str) -> str | None:
    for pattern in patterns:
        found = pattern.find(folded)
        if found:
            return found
    return None


@dataclass(frozen=True)
class Entry:
    """An office or a recurring concept, and how each language writes it."""

    id: str
    kind: str
    italian: str
    keep: tuple[Pattern, ...]  # Italian words a text naming it must carry
    in_italian: tuple[Pattern, ...]  # how an Italian source names it (default: ``keep``)
    terms: dict[str, str]
    names: dict[str, tuple[Pattern, ...]]
    avoid: dict[str, tuple[Pattern, ...]]
    explain: dict[str, tuple[Pattern, ...]]
    line: int = 0


@dataclass(frozen=True)
class Register:
    """The address form one language uses, and the forms of the other one."""

    language: str
    use: str
    avoid: tuple[Pattern, ...]
    line: int = 0


@dataclass
class Glossary:
    """The whole glossary, ready to check texts."""

    entries: list[Entry] = field(default_factory=list)
    registers: dict[str, Register] = field(default_factory=dict)

    def check(self, language: str, text: str, italian: str | None = None) -> list[str]:
        """What is wrong with ``text``, written in ``language``, by the glossary's rules.

        ``italian`` is the Italian source of the same text when there is one: a word it keeps
        (an office name, "ricevuta") must be kept by the translation too.
        """
        if language == SOURCE or not text:
            return []
        folded = fold(_PLACEHOLDER.sub(" ", text))
        source = fold(_PLACEHOLDER.sub(" ", italian)) if italian else ""
        problems: list[str] = []
        for entry in self.entries:
            term = entry.terms.get(language, entry.italian)
            kept = _first(entry.keep, folded)
            if entry.keep and not kept:
                if source and _first(entry.in_italian or entry.keep, source):
                    problems.append(
                        f"the Italian names «{entry.italian}»; keep the Italian word in the "
                        f"{language} text too (glossary: «{term}»)"
                    )
                else:
                    named = _first(entry.names.get(language, ()), folded)
                    if named:
                        problems.append(
                            f"names «{entry.italian}» as «{named}» without the Italian word "
                            f"(glossary: «{term}»)"
                        )
            variant = _first(entry.avoid.get(language, ()), folded)
            if variant:
                problems.append(
                    f"«{variant}» is not the glossary's {language} word for «{entry.italian}»: "
                    f"write «{term}»"
                )
            explanation = entry.explain.get(language, ())
            if kept and explanation and not _first(explanation, folded):
                problems.append(f"«{kept}» without its explanation (glossary: «{term}»)")
        register = self.registers.get(language)
        if register:
            other = _first(register.avoid, folded)
            if other:
                problems.append(
                    f"«{other}» is not the register of {language}: address the reader with "
                    f"«{register.use}» (glossary: register)"
                )
        return problems


class _Reader:
    """Builds a :class:`Glossary` from the YAML tree, collecting ``file:line`` problems."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.problems: list[tuple[str, int, str]] = []

    def error(self, line: int, message: str) -> None:
        self.problems.append((self.display, line, message))

    def patterns(self, value: object, line: int, what: str) -> tuple[Pattern, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.error(line, f"{what} must be a text or a list of texts")
            return ()
        result = []
        for text in value:
            try:
                result.append(Pattern.compile(text))
            except re.error as exc:
                self.error(line, f"{what}: {text!r} is not a valid pattern ({exc})")
        return tuple(result)

    def by_language(self, rec: LineDict, key: str, what: str) -> dict[str, tuple[Pattern, ...]]:
        value = rec.get(key)
        if value is None:
            return {}
        if not isinstance(value, LineDict):
            self.error(rec.line_of(key), f"{key!r} of {what} must map language → patterns")
            return {}
        result = {}
        for lang, patterns in value.items():
            if lang not in LANGUAGES:
                self.error(value.line_of(lang), f"unknown language {lang!r} in {key!r} of {what}")
                continue
            result[lang] = self.patterns(patterns, value.line_of(lang), f"{key} {lang} of {what}")
        return result

    def entry(self, rec: object, line: int, seen: set[str]) -> Entry | None:
        if not isinstance(rec, LineDict):
            self.error(line, "each entry must be a mapping")
            return None
        for key in rec:
            if key not in _ENTRY_KEYS:
                self.error(rec.line_of(key), f"unknown key {key!r} in a glossary entry")
        eid, kind, italian = rec.get("id"), rec.get("kind"), rec.get("it")
        if not isinstance(eid, str) or not eid:
            self.error(rec.line, "entry without an 'id'")
            return None
        what = f"entry {eid!r}"
        if eid in seen:
            self.error(rec.line_of("id"), f"{what} given twice")
        seen.add(eid)
        if kind not in KINDS:
            self.error(rec.line_of("kind"), f"{what}: 'kind' must be one of {', '.join(KINDS)}")
        if not isinstance(italian, str) or not italian.strip():
            self.error(rec.line_of("it"), f"{what} needs its Italian name ('it')")
            italian = eid
        terms_map = rec.get("terms")
        terms: dict[str, str] = {}
        if not isinstance(terms_map, LineDict):
            self.error(rec.line_of("terms"), f"{what} needs 'terms': its rendering per language")
        else:
            for lang, term in terms_map.items():
                if lang not in LANGUAGES:
                    self.error(terms_map.line_of(lang), f"unknown language {lang!r} in {what}")
                elif not isinstance(term, str) or not term.strip():
                    self.error(terms_map.line_of(lang), f"{what}: the {lang} term must be text")
                else:
                    terms[lang] = term.strip()
            missing = [lang for lang in LANGUAGES if lang != SOURCE and lang not in terms]
            if missing:
                self.error(terms_map.line, f"{what} has no term in {', '.join(missing)}")
        keep = (
            self.patterns(rec["keep"], rec.line_of("keep"), f"keep of {what}")
            if "keep" in rec
            else ()
        )
        in_italian = (
            self.patterns(rec["in_italian"], rec.line_of("in_italian"), f"in_italian of {what}")
            if "in_italian" in rec
            else ()
        )
        if kind == "office" and not keep:
            self.error(rec.line, f"{what}: an office needs 'keep', the Italian name's patterns")
        entry = Entry(
            eid,
            str(kind),
            italian.strip(),
            keep,
            in_italian,
            terms,
            self.by_language(rec, "names", what),
            self.by_language(rec, "avoid", what),
            self.by_language(rec, "explain", what),
            rec.line,
        )
        if entry.explain and not entry.keep:
            self.error(
                rec.line_of("explain"), f"{what}: 'explain' needs 'keep' (the word to explain)"
            )
        return entry

    def register(self, lang: object, rec: object, line: int) -> Register | None:
        if lang not in LANGUAGES:
            self.error(line, f"unknown language {lang!r} in 'register'")
            return None
        if not isinstance(rec, LineDict) or not isinstance(rec.get("use"), str):
            self.error(line, f"register of {lang!r} needs 'use' (the address form)")
            return None
        for key in rec:
            if key not in _REGISTER_KEYS:
                self.error(rec.line_of(key), f"unknown key {key!r} in the register of {lang!r}")
        avoid = (
            self.patterns(rec["avoid"], rec.line_of("avoid"), f"register avoid of {lang}")
            if "avoid" in rec
            else ()
        )
        return Register(str(lang), rec["use"], avoid, line)


def load(path: Path = GLOSSARY_PATH) -> tuple[Glossary, list[tuple[str, int, str]]]:
    """Read the glossary; return it and the problems found, as ``(file, line, problem)``."""
    try:
        display = str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        display = str(path)
    reader = _Reader(display)
    glossary = Glossary()
    try:
        data = load_yaml(path)
    except (OSError, YamlError) as exc:
        line = getattr(exc, "line", 1)
        reader.error(line, getattr(exc, "message", str(exc)))
        return glossary, reader.problems
    if not isinstance(data, LineDict):
        reader.error(1, "the glossary must be a mapping with 'register' and 'entries'")
        return glossary, reader.problems
    for key in data:
        if key not in ("register", "entries"):
            reader.error(data.line_of(key), f"unknown key {key!r} (expected register, entries)")
    registers = data.get("register") or LineDict()
    if isinstance(registers, LineDict):
        for lang, rec in registers.items():
            found = reader.register(lang, rec, registers.line_of(lang))
            if found:
                glossary.registers[found.language] = found
    else:
        reader.error(data.line_of("register"), "'register' must map language → address form")
    entries = data.get("entries")
    if not isinstance(entries, LineList):
        reader.error(data.line_of("entries"), "'entries' must be a list")
        return glossary, reader.problems
    seen: set[str] = set()
    for i, rec in enumerate(entries):
        entry_found = reader.entry(rec, entries.line_of(i), seen)
        if entry_found:
            glossary.entries.append(entry_found)
    # A term that breaks the glossary's own rules would teach translators the wrong thing.
    for entry in glossary.entries:
        for lang, term in entry.terms.items():
            for problem in glossary.check(lang, term, entry.italian):
                reader.error(entry.line, f"term {lang} of {entry.id!r}: {problem}")
    return glossary, reader.problems


@lru_cache(maxsize=1)
def default() -> tuple[Glossary, tuple[tuple[str, int, str], ...]]:
    """The shipped glossary and its problems, read once per process."""
    glossary, problems = load()
    return glossary, tuple(problems)


def text_maps(node: object) -> list[LineDict]:
    """Every map language → text in a knowledge file's YAML tree (its ``it`` present).

    Lists of phrasings (an FAQ entry's ``variants``) are training examples, not texts anyone
    reads, and are left out: their values are lists, not texts.
    """
    found: list[LineDict] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, LineDict):
            if (
                "it" in item
                and all(k in LANGUAGES for k in item)
                and all(isinstance(v, str) for v in item.values())
            ):
                found.append(item)
            else:
                stack.extend(reversed(list(item.values())))
        elif isinstance(item, LineList):
            stack.extend(reversed(item))
    return found


def check_tree(node: object, glossary: Glossary | None = None) -> list[tuple[int, str]]:
    """``(line, problem)`` for every translated text under ``node`` (a loaded knowledge file)."""
    glossary = glossary or default()[0]
    problems = []
    for texts in text_maps(node):
        italian = texts["it"]
        for lang, text in texts.items():
            for problem in glossary.check(lang, text, italian):
                problems.append((texts.line_of(lang), f"glossary ({lang}): {problem}"))
    return problems
