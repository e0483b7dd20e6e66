"""Whitespace tokenizer that also splits Chinese into characters and masks town names.

Chinese is written without spaces, so Rasa's ``WhitespaceTokenizer`` turns a whole Chinese
sentence into one token and the word-level features learn nothing from it ("我需要医生" and
"我需要律师" share no word). Splitting Han runs into single characters gives the word-level
featurizer the characters, which in Chinese carry most of the meaning; the rest of the text is
tokenized exactly as ``WhitespaceTokenizer`` does.

A town named in the message becomes one token whose lemma (what the count-vector featurizers
read) is ``__city__``, as Rasa makes every number ``__NUMBER__``. Which of the 257 comuni a
person lives in says nothing about what they ask, but the classifier learnt it did: the few
towns of the training examples were each seen with one or two intents ("cerco una stanza a
Massafra" read as a health question because Massafra appeared only in health examples). The
town itself reaches the dialogue as a ``city`` entity (``GazetteerEntityExtractor``).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.fingerprint import SourcesFingerprint
from bot.nlu.gazetteer import CITY, find
from bot.nlu.text import sanitize, script_of

CITY_LEMMA = "__city__"


def _split_han(token: Token) -> list[Token]:
    text = token.text
    if not any(script_of(ch) == "han" for ch in text):
        return [token]
    parts: list[Token] = []
    run_start: int | None = None
    for i, ch in enumerate(text):
        if script_of(ch) == "han":
            if run_start is not None:
                parts.append(Token(text[run_start:i], token.start + run_start))
                run_start = None
            parts.append(Token(ch, token.start + i))
        elif run_start is None:
            run_start = i
    if run_start is not None:
        parts.append(Token(text[run_start:], token.start + run_start))
    return parts


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class CJKWhitespaceTokenizer(SourcesFingerprint, WhitespaceTokenizer):
    """``WhitespaceTokenizer`` plus one token per Han character and one per town."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``WhitespaceTokenizer``'s options, plus ``mask_towns`` (on unless set to false)."""
        return {**WhitespaceTokenizer.get_default_config(), "mask_towns": True}

    @staticmethod
    def not_supported_languages() -> list[str] | None:
        """Every language: Chinese is the reason this class exists."""
        return None

    def tokenize(self, message: Message, attribute: str) -> list[Any]:
        """Whitespace tokens, with Han runs split into characters and towns masked."""
        tokens = [
            part for token in super().tokenize(message, attribute) for part in _split_han(token)
        ]
        if attribute != TEXT or not self._config.get("mask_towns", True):
            return tokens
        return _mask_towns(message.get(attribute) or "", tokens)


def _mask_towns(text: str, tokens: list[Token]) -> list[Token]:
    """Merge the tokens of each town the gazetteer finds into one ``__city__`` token."""
    if sanitize(text) != text:
        return tokens  # the gazetteer's offsets would not point into this text
    spans = [(m.start, m.end) for m in find(text) if m.entry.entity == CITY]
    if not spans:
        return tokens
    out: list[Token] = []
    for start, end in spans:
        inside = [t for t in tokens if t.start < end and start < t.end]
        if not inside:
            continue
        first, last = min(t.start for t in inside), max(t.end for t in inside)
        tokens = [t for t in tokens if t not in inside]
        out.append(Token(text[first:last], first, last, lemma=CITY_LEMMA))
    return sorted(tokens + out, key=lambda t: t.start)
