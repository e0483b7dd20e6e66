"""The knowledge base the actions share, opened on first use (never at import).

Actions take a ``KnowledgeBase`` in their constructor so tests can hand them one built in a
temporary folder; rasa-sdk constructs them without arguments, and then they use this shared
instance, which reads ``DATABASE_URL`` through ``bot.settings``.
"""

from __future__ import annotations

import threading

from bot.kb.queries import KnowledgeBase

_lock = threading.Lock()
_shared: KnowledgeBase | None = None


def shared_knowledge_base() -> KnowledgeBase:
    """One KnowledgeBase per action-server process."""
    global _shared
    if _shared is None:
        with _lock:
            if _shared is None:
                _shared = KnowledgeBase()
    return _shared
