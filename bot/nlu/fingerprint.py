"""Tell Rasa's training cache when our NLU components change.

Rasa keeps each trained graph node in its cache (``.rasa/cache``) under a fingerprint of the
component's class name, its config and its inputs, and restores it when they match. Our
components also read what the graph does not see: their own code, ``lexicon.yml`` and the town
aliases of ``knowledge/territory.yml``. Without this, a new lexicon word or a tokenizer change
left the cache handing back the DIET classifier trained on the old features (seen on
2026-12-06: ``rasa train`` restored every component 22 s after a lexicon change).

The components that run after DIET and feed nothing to it — the safety layer and the FAQ
retriever — have fingerprints of their own files only, so a new danger word or FAQ entry
retrains them in seconds and leaves DIET in the cache.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.nlu.lexicon import LEXICON_FILE, TERRITORY_FILE
from bot.settings import PROJECT_ROOT

NLU_DIR = Path(__file__).parent
# The FAQ the retriever learns (bot/nlu/faq.py); editors change it without touching code.
FAQ_DIR = PROJECT_ROOT / "knowledge" / "faq"
# Read only by the components after DIET (each lists them in its own fingerprint).
DOWNSTREAM_ONLY = frozenset({"safety.py", "safety.yml", "faq.py"})


def meaningful_bytes(path: Path) -> bytes:
    """What of a file shapes a model: a Python file's syntax tree, any other file's bytes.

    Reformatting the code or editing a comment leaves the tree as it was, so neither retrains
    the model (13 minutes from scratch); a changed docstring or statement does. A Python file
    that does not parse falls back to its bytes (training then reports the error).
    """
    data = path.read_bytes()
    if path.suffix != ".py":
        return data
    try:
        return ast.dump(ast.parse(data)).encode()
    except (SyntaxError, ValueError):
        return data


def files_fingerprint(paths: Iterable[Path]) -> str:
    """SHA-256 of the files' names and meaningful contents, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + meaningful_bytes(path) + b"\0")
    return digest.hexdigest()


@lru_cache(maxsize=1)
def sources_fingerprint() -> str:
    """The NLU components' code and word lists and the town aliases (DIET's inputs depend on)."""
    files = sorted(
        p
        for p in NLU_DIR.rglob("*")
        if p.is_file() and p.suffix in (".py", ".yml") and p.name not in DOWNSTREAM_ONLY
    )
    return files_fingerprint([*files, TERRITORY_FILE])


class SourcesFingerprint:
    """Mixin for a ``GraphComponent``: its cache entries depend on ``sources_fingerprint``."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Rasa adds this to the component's fingerprint (``GraphComponent.fingerprint_addon``)."""
        return sources_fingerprint()


def faq_fingerprint() -> str:
    """What the FAQ retriever reads: its code, the text helpers, the town names, the FAQ."""
    return files_fingerprint(
        [
            NLU_DIR / "faq.py",
            NLU_DIR / "text.py",
            NLU_DIR / "gazetteer.py",
            LEXICON_FILE,
            TERRITORY_FILE,
            *sorted(FAQ_DIR.glob("*.yml")),
        ]
    )


def safety_fingerprint() -> str:
    """What the safety layer reads: its code, its word lists and the text helpers."""
    return files_fingerprint([NLU_DIR / "safety.py", NLU_DIR / "safety.yml", NLU_DIR / "text.py"])
