"""Tell Rasa's training cache when our NLU components change.

Rasa keeps each trained graph node in its cache (``.rasa/cache``) under a fingerprint of the
component's class name, its config and its inputs, and restores it when they match. Our
components also read what the graph does not see: their own code, ``lexicon.yml`` and the town
aliases of ``knowledge/territory.yml``. Without this, a new lexicon word or a tokenizer change
left the cache handing back the DIET classifier trained on the old features (seen on
2026-12-06: ``rasa train`` restored every component 22 s after a lexicon change).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.nlu.lexicon import TERRITORY_FILE
from bot.settings import PROJECT_ROOT

NLU_DIR = Path(__file__).parent
# The FAQ the retriever learns (bot/nlu/faq.py); editors change it without touching code.
FAQ_DIR = PROJECT_ROOT / "knowledge" / "faq"


@lru_cache(maxsize=1)
def sources_fingerprint() -> str:
    """SHA-256 of the NLU components' code and word lists, the town aliases and the FAQ."""
    digest = hashlib.sha256()
    files = sorted(p for p in NLU_DIR.rglob("*") if p.is_file() and p.suffix in (".py", ".yml"))
    for path in [*files, TERRITORY_FILE, *sorted(FAQ_DIR.glob("*.yml"))]:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class SourcesFingerprint:
    """Mixin for a ``GraphComponent``: its cache entries depend on ``sources_fingerprint``."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Rasa adds this to the component's fingerprint (``GraphComponent.fingerprint_addon``)."""
        return sources_fingerprint()
