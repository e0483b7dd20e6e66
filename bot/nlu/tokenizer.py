"""Whitespace tokenizer that also splits Chinese into characters.

Chinese is written without spaces, so Rasa's ``WhitespaceTokenizer`` turns a whole Chinese
sentence into one token and the word-level features learn nothing from it ("我需要医生" and
"我需要律师" share no word). Splitting Han runs into single characters gives the word-level
featurizer the characters, which in Chinese carry most of the meaning; the rest of the text is
tokenized exactly as ``WhitespaceTokenizer`` does.

Town names become one token ``TOWN_TOKEN`` (offsets kept): which town a message names says
nothing about its intent, but with 257 comuni in many scripts the classifier would otherwise
learn that "Cerignola" means work because the work examples name farm towns, and read a bare
town (``inform``) as a job question. The gazetteer extracts the town itself, and the concept
featurizer still marks that a town is there.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.text import sanitize, script_of

TOWN_TOKEN = "ttown"


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
class CJKWhitespaceTokenizer(WhitespaceTokenizer):
    """``WhitespaceTokenizer`` plus one token per Han character."""

    @staticmethod
    def not_supported_languages() -> list[str] | None:
        """Every language: Chinese is the reason this class exists."""
        return None

    def tokenize(self, message: Message, attribute: str) -> list[Any]:
        """Whitespace tokens, with Han runs split into characters and towns masked."""
        tokens = [
            part for token in super().tokenize(message, attribute) for part in _split_han(token)
        ]
        if attribute != TEXT:
            return tokens
        return _mask_towns(message.get(TEXT) or "", tokens)


def _mask_towns(text: str, tokens: list[Token]) -> list[Token]:
    from bot.nlu.gazetteer import CITY, find

    if not tokens or sanitize(text) != text:
        return tokens  # gazetteer offsets index the sanitized text: only mask when they agree
    spans = [(m.start, m.end) for m in find(text) if m.entry.entity == CITY]
    if not spans:
        return tokens
    out: list[Token] = []
    last_span = None
    for token in tokens:
        span = next((s for s in spans if token.start < s[1] and token.end > s[0]), None)
        if span is None:
            out.append(token)
        elif span == last_span and out:
            # A town of several tokens (San Severo, 福贾) is one town token.
            previous = out.pop()
            out.append(Token(TOWN_TOKEN, previous.start, token.end))
        else:
            out.append(Token(TOWN_TOKEN, token.start, token.end))
        last_span = span if span is not None else None
    return out
