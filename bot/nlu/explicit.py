"""Explicit requests for a language: "write in English", "parla italiano", "بالعربي لو سمحت".

A language name alone is not a request: "corso di italiano" is about a course and "non parlo
italiano" says the opposite. A message is a request when it is short, names exactly one supported
language (or uses a one-word form such as "по-русски" or "بالعربي"), and every other word is a
request word ("write", "parla", "svp", "لو سمحت"...), or one of them is a verb or noun that asks
for a language by itself ("write", "parla", "اكتب", "language") — with no negation and no word
about learning or courses (``language_blockers`` in lexicon.yml).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.nlu.lexicon import lexicon
from bot.nlu.text import sanitize, script_of, tokenize

# A request to switch language is a short message; longer ones are about something else.
MAX_WORDS = 9
# Chinese characters that make a language name a course, an exam or a person, not a request:
# study, lesson, class, exam, training, enrol, read (a diploma), translator, staff.
_HAN_BLOCKERS = ("学", "课", "班", "考", "培训", "报名", "读", "文凭", "翻译", "人员", "调解")


@dataclass(frozen=True)
class LanguageMention:
    """A supported language named in a message, with the span that names it."""

    code: str
    start: int
    end: int
    text: str


def _han_mentions(text: str) -> list[LanguageMention]:
    names = lexicon().language_names
    found = []
    for name, code in names.items():
        if name and all(script_of(ch) == "han" for ch in name):
            at = text.find(name)
            if at >= 0:
                found.append(LanguageMention(code, at, at + len(name), name))
    return found


def explicit_language(text: str | None) -> LanguageMention | None:
    """Return the language ``text`` explicitly asks for, or None."""
    text = sanitize(text)
    if not text:
        return None
    lex = lexicon()
    tokens = tokenize(text)
    folded = [t.folded for t in tokens]
    if any(f in lex.blockers for f in folded):
        return None
    mentions: list[LanguageMention] = []
    covered: set[int] = set()
    adverbial = False
    # Phrases of up to three words ("по русски" after folding "по-русски"), longest first.
    for size in (3, 2, 1):
        for i in range(len(tokens) - size + 1):
            if any(j in covered for j in range(i, i + size)):
                continue
            key = " ".join(folded[i : i + size])
            code = lex.explicit_forms.get(key)
            if code:
                adverbial = True
            else:
                code = lex.language_names.get(key)
            if code:
                start, end = tokens[i].start, tokens[i + size - 1].end
                mentions.append(LanguageMention(code, start, end, text[start:end]))
                covered.update(range(i, i + size))
    han = [] if mentions else _han_mentions(text)
    if han:
        # Chinese has no spaces: "请用中文" is one token; a short message naming one language
        # in Han characters is a request unless it is about studying (学).
        codes = {m.code for m in han}
        if len(codes) == 1 and len(text) <= 12 and not any(ch in text for ch in _HAN_BLOCKERS):
            return han[0]
        return None
    codes = {m.code for m in mentions}
    if len(codes) != 1 or len(tokens) > MAX_WORDS:
        return None
    others = [f for j, f in enumerate(folded) if j not in covered]
    if adverbial or all(f in lex.cues for f in others):
        return mentions[0]
    # A verb or noun that asks for a language ("write", "parla", "اكتب", "language") carries
    # the request; other words may be ones we do not know ("hermano", "amico", "bro").
    if any(f in lex.request_verbs for f in others):
        return mentions[0]
    return None
