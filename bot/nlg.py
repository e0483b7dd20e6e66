"""Rasa natural-language generator that answers in the conversation's language.

Configured in ``endpoints.yml`` (``nlg: type: bot.nlg.CatalogueNLG``). It picks the response
variation exactly as Rasa's templated generator does (channel, conditions), then replaces its
text and button titles with the translation from the message catalogue (``locales/``) for the
``language`` slot, and only then fills the placeholders. Without a translation the English source
text is used, so a person never gets silence.

The first reply of a conversation also carries the short privacy notice, after the answer so it
never delays it. "First" means no bot message yet in the tracker; since every message of that
turn sees the same tracker, the generator remembers which turn already got the notice.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.messages import Catalogue, default_catalogue

SLOT_LANGUAGE = "language"
PRIVACY_NOTICE = "utter_privacy_notice"
_REMEMBERED_TURNS = 10_000


class CatalogueNLG(TemplatedNaturalLanguageGenerator):
    """Domain responses, translated through the message catalogue."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        domain: Domain | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        super().__init__((domain or Domain.empty()).responses)
        self._catalogue = catalogue
        self._noticed: OrderedDict[tuple[str, int], None] = OrderedDict()

    @property
    def catalogue(self) -> Catalogue:
        """Loaded on first use, not when Rasa builds the generator."""
        if self._catalogue is None:
            self._catalogue = default_catalogue()
        return self._catalogue

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Generate the response in the language of the conversation (or ``language=``)."""
        filled_slots = tracker.current_slot_values()
        language = kwargs.pop("language", None) or filled_slots.get(SLOT_LANGUAGE)
        response = self.generate_in(utter_action, language, filled_slots, output_channel, **kwargs)
        if response and response.get("text") and self._first_reply(tracker):
            notice = self.generate_in(PRIVACY_NOTICE, language, filled_slots, output_channel)
            if notice and notice.get("text"):
                response["text"] = f"{response['text']}\n\n{notice['text']}"
        return response

    def _first_reply(self, tracker: DialogueStateTracker) -> bool:
        """True once per conversation: for the first message the bot sends in it."""
        if any(isinstance(event, BotUttered) for event in tracker.events):
            return False
        turn = (tracker.sender_id, len(tracker.events))
        if turn in self._noticed:
            return False
        self._noticed[turn] = None
        if len(self._noticed) > _REMEMBERED_TURNS:
            self._noticed.popitem(last=False)
        return True

    def generate_in(
        self,
        utter_action: str,
        language: str | None,
        filled_slots: dict[str, Any],
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Select a variation, translate it into ``language``, fill its placeholders."""
        response = copy.deepcopy(
            self._random_response_for(utter_action, output_channel, filled_slots)
        )
        if response is None:
            return None
        translation = self.catalogue.get(language, utter_action)
        if translation is not None:
            response["text"] = translation.text
            buttons = response.get("buttons") or []
            for button, title in zip(buttons, translation.buttons, strict=False):
                button["title"] = title
        return self._fill_response(response, filled_slots, **kwargs)
