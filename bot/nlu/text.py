"""Text helpers shared by the NLU components: cleaning, tokens with offsets, scripts.

Rasa's own tokenizers run after language detection in the pipeline and drop combining marks in
some scripts, so the components tokenize for themselves: a token is a run of letters, marks and
digits (Devanagari or Bengali vowel signs stay inside their word), apostrophes and hyphens split
("Sant'Agata" → sant, agata), and every token keeps its character offsets in the original text so
entities can point back at what the person wrote.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass

from bot.territory import fold

# Longer messages are cut before analysis: 2 000 characters say all there is to say about a
# message's language, and a 10 000-character paste must not cost more than a short one.
MAX_CHARS = 2000
# Zero-width (non-)joiners are part of Persian and Indic spelling, not noise.
_KEEP_FORMAT = {"\u200c", "\u200d"}


def sanitize(text: str | None) -> str:
    """Drop control and invisible format characters, collapse whitespace, cap the length."""
    if not text:
        return ""
    out = []
    for ch in text[: MAX_CHARS * 2]:
        cat = unicodedata.category(ch)
        if ch.isspace() or cat == "Cc":
            out.append(" ")
        elif cat in ("Cf", "Cs", "Co", "Cn") and ch not in _KEEP_FORMAT:
            continue
        else:
            out.append(ch)
    return " ".join("".join(out).split())[:MAX_CHARS]


@dataclass(frozen=True)
class Token:
    """One word of a message: its text, where it is, and its folded form."""

    text: str
    start: int
    end: int

    @property
    def folded(self) -> str:
        """Lookup form of the word (see ``bot.territory.fold``)."""
        return fold(self.text)


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN" or ch in _KEEP_FORMAT


def _han_boundary(before: str, after: str) -> bool:
    scripts = (script_of(before), script_of(after))
    return scripts[0] != scripts[1] and "han" in scripts and None not in scripts


def tokenize(text: str) -> list[Token]:
    """Words of ``text`` with their character offsets (offsets index ``text`` itself)."""
    tokens: list[Token] = []
    start = None
    for i, ch in enumerate(text):
        if _is_word_char(ch):
            if start is None:
                start = i
            elif _han_boundary(text[i - 1], ch):
                # Chinese has no spaces before a Latin name: "我住在Taranto" is two words.
                tokens.append(Token(text[start:i], start, i))
                start = i
        elif start is not None:
            tokens.append(Token(text[start:i], start, i))
            start = None
    if start is not None:
        tokens.append(Token(text[start:], start, len(text)))
    return tokens


# Unicode blocks of the scripts the supported languages are written in.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"),
    (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x08A0, 0x08FF, "arabic"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"),
    (0x0A00, 0x0A7F, "gurmukhi"),
    (0x0A80, 0x0DFF, "other_indic"),
    (0x0E00, 0x0FFF, "other"),
    (0x10A0, 0x10FF, "georgian"),
    (0x1100, 0x11FF, "hangul"),
    (0x1200, 0x139F, "ethiopic"),
    (0x3040, 0x30FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
    (0x20000, 0x2FA1F, "han"),
)


def script_of(ch: str) -> str | None:
    """Script of one letter or vowel sign (None for digits, punctuation, emoji, accents)."""
    category = unicodedata.category(ch)[0]
    if category not in "LM":
        return None
    code = ord(ch)
    for low, high, name in _SCRIPT_RANGES:
        if low <= code <= high:
            return name
    # Combining accents outside the script blocks (U+0300...) belong to whatever precedes them.
    return "other" if category == "L" else None


def script_counts(text: str) -> Counter[str]:
    """Count the letters of each script in ``text``.

    A Han character counts as two letters: one carries about as much as a short word.
    """
    counts: Counter[str] = Counter()
    for ch in text:
        script = script_of(ch)
        if script:
            counts[script] += 2 if script == "han" else 1
    return counts


# Arabic-script letters that vary by keyboard (Arabic vs Persian/Urdu forms) fold to one key.
_ARABIC_UNIFY = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه", "ـ": None})


def key(text: str) -> str:
    """Lookup key of a word: folded, with Arabic keyboard variants unified."""
    return fold(text).translate(_ARABIC_UNIFY)
