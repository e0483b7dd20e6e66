"""Slot names that code outside the action server reads from a conversation's tracker.

The channels read the conversation's language to say their own few sentences (a voice note they
cannot play, a turn that failed) in it. The name belongs to the domain (``domain/``), which the
actions fill; it is defined here, below both, so a channel need not import the action server's
constants, and ``actions.constants`` takes it from here: one name, one place.
"""

from __future__ import annotations

SLOT_LANGUAGE = "language"  # ISO 639-1 code of the conversation's language (domain/: slots)
