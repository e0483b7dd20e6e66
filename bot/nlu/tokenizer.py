"""Whitespace tokenizer that also splits Chinese into characters.

Chinese is written without spaces, so Rasa's ``WhitespaceTokenizer`` turns a whole Chinese
sentence into one token and the word-level features learn nothing from it ("我需要医生" and
"我需要律师" share no word). Splitting Han runs into single characters gives the word-level
featurizer the characters, which in Chinese carry most of the meaning; the rest of the text is
tokenized exactly as ``WhitespaceTokenizer`` does.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.text import script_of


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
        """Whitespace tokens, with Han runs split into characters."""
        return [
            part for token in super().tokenize(message, attribute) for part in _split_han(token)
        ]
