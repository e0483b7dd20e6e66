"""Names shared between the domain and the actions (slots, entities, actions)."""

from bot.kb.vocabulary import LANGUAGES
from bot.slots import SLOT_LANGUAGE as SLOT_LANGUAGE  # also read by the channels

DEFAULT_LANGUAGE = "it"
# Romanized Arabic/Urdu/Bengali, Wolof and Nigerian Pidgin writers read English more often than
# Italian; used only when the conversation has no language yet.
ROMANIZED_FALLBACK_LANGUAGE = "en"
SUPPORTED_LANGUAGES = frozenset(LANGUAGES)
# Detector sources that never change the conversation's language (bot/nlu/language.py).
WEAK_LANGUAGE_SOURCES = frozenset({"too_short", "no_letters", "romanized", "unsupported", "mixed"})

# A detected language replaces the conversation's one only when fastText is at least this sure.
LANGUAGE_SWITCH_CONFIDENCE = 0.8

SLOT_CITY = "city"
SLOT_SERVICE = "service"
SLOT_OFFICE = "office"
SLOT_PROCEDURE = "procedure"
SLOT_PENDING_QUESTION = "pending_question"
SLOT_FAILED_TURNS = "failed_turns"
SLOT_FAQ = "faq"  # the FAQ entry answered last
# pending_question when a service was answered without its office: "office:<service>".
OFFICE_PENDING = "office:"

# The parse's danger verdict (bot/nlu/safety.py: SAFETY); a plain string so the action server
# does not import the NLU component and Rasa with it.
SAFETY = "safety"

ENTITY_CITY = "city"
ENTITY_SERVICE = "service"
ENTITY_OFFICE = "office"
ENTITY_FAQ = "faq_id"  # a suggested FAQ question chosen with its button

# Intents that ask about one aspect of an office rather than a service.
ASPECT_INTENTS = ("ask_opening_hours", "ask_office_location", "ask_documents_needed")
SERVICE_INTENT_PREFIX = "ask_"
HEALTH_SERVICE = "health_care"
# A service intent at least this sure is what was asked, whatever services the story names.
TRUSTED_INTENT = 0.8
# The procedure for a person without papers, where a service has one (knowledge/procedures/).
UNDOCUMENTED_PROCEDURES = {HEALTH_SERVICE: "health-stp-code"}

TIMEZONE = "Europe/Rome"
