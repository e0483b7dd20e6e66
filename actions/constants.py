"""Names shared between the domain and the actions (slots, entities, actions)."""

SLOT_LANGUAGE = "language"
DEFAULT_LANGUAGE = "it"

# A detected language replaces the conversation's one only when fastText is at least this sure.
LANGUAGE_SWITCH_CONFIDENCE = 0.8
