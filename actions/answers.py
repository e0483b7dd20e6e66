"""Answer a service question for the person's town, and the follow-ups about it.

The flow people expect: a question about a service ("il mio permesso scade, vivo a Gallipoli")
gets what to do first, the office that serves their town (whether it is open now and when it
next opens), the documents and the steps. Without a town the assistant asks for it once,
remembers the question, and answers it when the town arrives ("Nardò"). Follow-ups ("and when is
it open?", "what do I bring?") apply to the service and office just discussed. For a CPIA
("where can I learn Italian") the nearest teaching site is proposed, with its distance.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import faq, render
from actions.constants import (
    ASPECT_INTENTS,
    DEFAULT_LANGUAGE,
    ENTITY_CITY,
    ENTITY_FAQ,
    ENTITY_OFFICE,
    ENTITY_SERVICE,
    HEALTH_SERVICE,
    OFFICE_PENDING,
    SAFETY,
    SERVICE_INTENT_PREFIX,
    SLOT_CITY,
    SLOT_FAILED_TURNS,
    SLOT_FAQ,
    SLOT_LANGUAGE,
    SLOT_OFFICE,
    SLOT_PENDING_QUESTION,
    SLOT_PROCEDURE,
    SLOT_SERVICE,
    TIMEZONE,
    TRUSTED_INTENT,
    UNDOCUMENTED_PROCEDURES,
)
from actions.faq import FaqChoice
from actions.knowledge import shared_knowledge_base
from bot.kb.queries import Comune, KnowledgeBase, Office, Procedure
from bot.kb.vocabulary import SERVICES
from bot.messages import render_with_buttons
from bot.territory import fold

_WORD = re.compile(r"\w{4,}")

# Kinds of office a person may attend wherever they live: the nearest one is proposed, with its
# distance, rather than the one filed for the person's territory (a CPIA teaching site).
NEAREST_KINDS = ("cpia",)


def _stems(text: str | None) -> set[str]:
    return {fold(word)[:4] for word in _WORD.findall(text or "")}


def _rome_now() -> dt.datetime:
    return dt.datetime.now(ZoneInfo(TIMEZONE))


class KnowledgeAction(Action, ABC):
    """Base of the actions that answer from the knowledge base.

    The domain must contain the slots ``language``, ``city``, ``service``, ``office``,
    ``procedure``, ``pending_question`` and ``failed_turns`` and the ``utter_answer_*``
    responses (``domain.yml``).
    """

    def __init__(
        self,
        knowledge_base: KnowledgeBase | None = None,
        clock: Callable[[], dt.datetime] = _rome_now,
    ) -> None:
        self._knowledge_base = knowledge_base
        self._clock = clock

    @abstractmethod
    def name(self) -> str:
        """Abstract, so rasa-sdk does not register this base class as an action."""

    @property
    def kb(self) -> KnowledgeBase:
        return self._knowledge_base or shared_knowledge_base()

    # -------------------------------------------------------------- reading the tracker

    @staticmethod
    def language(tracker: Tracker) -> str:
        return tracker.get_slot(SLOT_LANGUAGE) or DEFAULT_LANGUAGE

    def comune(self, tracker: Tracker) -> Comune | None:
        """The town of this message, or the one the conversation already knows."""
        for value in (
            *(
                e.get("value")
                for e in tracker.latest_message.get("entities", [])
                if e.get("entity") == ENTITY_CITY
            ),
            tracker.get_slot(SLOT_CITY),
        ):
            if isinstance(value, str) and value:
                found = self.kb.find_comune(value)
                if found:
                    return found
        return None

    @staticmethod
    def named_services(tracker: Tracker) -> set[str]:
        """The services this message names (the gazetteer's curated keywords)."""
        named = {
            str(e["value"])
            for e in tracker.latest_message.get("entities", [])
            if e.get("entity") == ENTITY_SERVICE and e.get("value") in SERVICES
        }
        named.discard("emergency")
        return named

    @classmethod
    def named_service(cls, tracker: Tracker) -> str | None:
        """The one service this message names, if exactly one."""
        named = cls.named_services(tracker)
        return named.pop() if len(named) == 1 else None

    @staticmethod
    def undocumented(tracker: Tracker) -> bool:
        """Whether the person says they have no papers (the parse's ``safety`` field)."""
        return bool((tracker.latest_message.get(SAFETY) or {}).get("undocumented"))

    @classmethod
    def service(cls, tracker: Tracker) -> str | None:
        """The service this message is about, else the one the conversation is about.

        What is asked decides, not the words that tell the story ("non ho il permesso di
        soggiorno, dove trovo un medico?"):

        1. a person without papers who mentions care is asking about care, which for them is
           STP care — never the Questura, whatever else the message names;
        2. a service intent the classifier is sure of (``TRUSTED_INTENT``) stands;
        3. otherwise a single service named in the message ("اللجوء", "律师", "codice fiscale")
           outranks the classifier, which errs more on languages with little training data;
        4. then the classifier's service intent, then the conversation's service.
        """
        named = cls.named_services(tracker)
        if HEALTH_SERVICE in named and cls.undocumented(tracker):
            return HEALTH_SERVICE
        intent = tracker.latest_message.get("intent") or {}
        name = str(intent.get("name") or "")
        candidate = (
            name[len(SERVICE_INTENT_PREFIX) :] if name.startswith(SERVICE_INTENT_PREFIX) else ""
        )
        if candidate in SERVICES and float(intent.get("confidence") or 0) >= TRUSTED_INTENT:
            return candidate
        if len(named) == 1:
            return next(iter(named))
        if candidate in SERVICES:
            return candidate
        return tracker.get_slot(SLOT_SERVICE)

    @staticmethod
    def office_kind(tracker: Tracker) -> str | None:
        for entity in tracker.latest_message.get("entities", []):
            if entity.get("entity") == ENTITY_OFFICE and entity.get("value"):
                return str(entity["value"])
        return None

    # -------------------------------------------------------------- knowledge

    def choose_procedure(
        self, service: str, language: str, text: str, undocumented: bool = False
    ) -> Procedure | None:
        """The procedure whose title and summary share most word stems with the message.

        A person without papers gets the procedure meant for them when the service has one
        (``UNDOCUMENTED_PROCEDURES``: STP care, not SSN registration).

        Stems are a word's first four letters, folded, so "scade", "scaduto" and "scadenza"
        meet; they are compared with the texts in the person's language and in Italian (people
        write "rinnovo", "kit", "scaduto" whatever their language). Ties keep the file order,
        whose first procedure is the most common case.
        """
        procedures = self.kb.procedures(service, language)
        if not procedures:
            return None
        if undocumented:
            meant = UNDOCUMENTED_PROCEDURES.get(service)
            for procedure in procedures:
                if procedure.id == meant:
                    return procedure
        italian = {p.id: p for p in self.kb.procedures(service, "it")}
        asked = _stems(text)

        def score(procedure: Procedure) -> int:
            reference = italian.get(procedure.id, procedure)
            texts = (procedure.title, procedure.summary, reference.title, reference.summary)
            return len(asked & set().union(*(_stems(t) for t in texts)))

        return max(procedures, key=score)  # max keeps the first of equal scores

    def office(self, service: str, comune: Comune, procedure: Procedure | None) -> Office | None:
        """The office serving the comune, preferring the kinds the procedure names."""
        for kind in procedure.office_kinds if procedure else ():
            found = self.office_of_kind(service, comune, kind)
            if found:
                return found
        found = self.kb.office_for(service, comune.istat)
        if found and found.kind in NEAREST_KINDS:
            return self.office_of_kind(service, comune, found.kind) or found
        return found

    def office_of_kind(self, service: str, comune: Comune, kind: str) -> Office | None:
        """The office of ``kind`` for the comune: the nearest for :data:`NEAREST_KINDS`."""
        if kind in NEAREST_KINDS:
            nearest = self.kb.nearest_offices(service, comune.istat, kind, limit=1)
            if nearest:
                return nearest[0]
        return self.kb.office_for(service, comune.istat, kind)

    def with_distance(self, office: Office, comune: Comune | None) -> Office:
        """``office`` with its distance from the comune, when it was chosen by distance."""
        if comune is None or office.kind not in NEAREST_KINDS or office.distance_km is not None:
            return office
        for service in office.services:
            for candidate in self.kb.nearest_offices(
                service, comune.istat, office.kind, limit=None
            ):
                if candidate.id == office.id:
                    return candidate
        return office

    # -------------------------------------------------------------- messages

    @staticmethod
    def say(dispatcher: CollectingDispatcher, lines: list[str]) -> None:
        """One composed message (see ``utter_answer_card``); nothing when there are no lines."""
        if lines:
            dispatcher.utter_message(response="utter_answer_card", card="\n".join(lines))

    def ask_city(self, dispatcher: CollectingDispatcher, pending: str) -> list[EventType]:
        dispatcher.utter_message(response="utter_answer_ask_city")
        return [SlotSet(SLOT_PENDING_QUESTION, pending), SlotSet(SLOT_FAILED_TURNS, 0)]

    def answer_for_town(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, service: str
    ) -> list[EventType]:
        """Answer ``service`` for the person's town; without one, all but the office first.

        What does not depend on the town (what to do, the documents, the steps) is never held
        back behind "which town?": it comes at once, and the town is asked only to name the
        office (the answer waits in ``pending_question`` as ``office:<service>``).
        """
        comune = self.comune(tracker)
        if comune is not None:
            return self.answer_service(dispatcher, tracker, service, comune)
        language = self.language(tracker)
        procedure = self.choose_procedure(
            service, language, tracker.latest_message.get("text"), self.undocumented(tracker)
        )
        if procedure is None:
            return [SlotSet(SLOT_SERVICE, service), *self.ask_city(dispatcher, service)]
        name = self.kb.service_name(service, language)
        dispatcher.utter_message(
            response="utter_answer_summary_general",
            service_name=name.text if name else service,
            title=procedure.title,
            summary=procedure.summary,
        )
        self.send_procedure(dispatcher, procedure, language)
        dispatcher.utter_message(response="utter_answer_ask_city_for_office")
        return [
            SlotSet(SLOT_SERVICE, service),
            SlotSet(SLOT_PROCEDURE, procedure.id),
            SlotSet(SLOT_OFFICE, None),
            SlotSet(SLOT_PENDING_QUESTION, OFFICE_PENDING + service),
            SlotSet(SLOT_FAILED_TURNS, 0),
        ]

    def answer_service(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        service: str,
        comune: Comune,
    ) -> list[EventType]:
        """Summary, office with its opening, documents, steps, then the next questions."""
        language = self.language(tracker)
        procedure = self.choose_procedure(
            service, language, tracker.latest_message.get("text"), self.undocumented(tracker)
        )
        office = self.office(service, comune, procedure)
        name = self.kb.service_name(service, language)
        if procedure:
            dispatcher.utter_message(
                response="utter_answer_summary",
                service_name=name.text if name else service,
                city=comune.name,
                title=procedure.title,
                summary=procedure.summary,
            )
        self.send_office(dispatcher, office, comune, language)
        if procedure:
            self.send_procedure(dispatcher, procedure, language)
        dispatcher.utter_message(response="utter_answer_next")
        return self.answered(service, comune, office, procedure)

    def answer_office_only(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, service: str, comune: Comune
    ) -> list[EventType]:
        """The office for a service whose procedure was already given, now that the town is."""
        language = self.language(tracker)
        procedure = self._current_procedure(tracker, service, language)
        office = self.office(service, comune, procedure)
        self.send_office(dispatcher, office, comune, language)
        dispatcher.utter_message(response="utter_answer_next")
        return self.answered(service, comune, office, procedure)

    @staticmethod
    def answered(
        service: str, comune: Comune, office: Office | None, procedure: Procedure | None
    ) -> list[EventType]:
        return [
            SlotSet(SLOT_SERVICE, service),
            SlotSet(SLOT_CITY, comune.name),
            SlotSet(SLOT_OFFICE, office.id if office else None),
            SlotSet(SLOT_PROCEDURE, procedure.id if procedure else None),
            SlotSet(SLOT_PENDING_QUESTION, None),
            SlotSet(SLOT_FAILED_TURNS, 0),
        ]

    def send_office(
        self,
        dispatcher: CollectingDispatcher,
        office: Office | None,
        comune: Comune,
        language: str,
    ) -> None:
        """The office card (contacts, opening now and next, provenance), or an honest no."""
        if office is None:
            dispatcher.utter_message(response="utter_answer_no_office", city=comune.name)
            return
        opening = self.kb.opening(office.id, self._clock())
        notes = self.kb.office_notes(office.id, language)
        self.say(
            dispatcher,
            render.office_lines(
                office, language, notes=notes.text if notes else None, near=comune.name
            )
            + render.opening_lines(opening, language)
            + render.provenance_lines(office.checked, office.source, office.verified, language),
        )

    def send_procedure(
        self, dispatcher: CollectingDispatcher, procedure: Procedure, language: str
    ) -> None:
        """Documents, numbered steps, and where the procedure's facts come from.

        When only the checklist is in another language (the title and summary were in the
        person's), one line says so before it; when the whole card is, the note comes last.
        """
        self.send_documents(dispatcher, procedure, language, note=not procedure.title_fell_back)
        header = render.render("utter_answer_steps_header", language)
        for text in render.list_messages(header, procedure.steps, numbered=True):
            dispatcher.utter_message(response="utter_answer_card", card=text)
        self.say(
            dispatcher,
            render.provenance_lines(
                procedure.checked, procedure.source, procedure.verified, language
            )
            + render.fallback_line(procedure, language),
        )

    # -------------------------------------------------------------- FAQ

    def faq_choice(self, tracker: Tracker) -> FaqChoice:
        return faq.choose(
            tracker.latest_message, tracker.get_slot(SLOT_SERVICE), tracker.get_slot(SLOT_FAQ)
        )

    def answer_faq(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        entry_id: str,
        related: tuple[str, ...] = (),
    ) -> list[EventType] | None:
        """The curated answer first; then the office if the town is known, else the offer.

        ``related``: the next closest questions, offered as buttons right under the answer (a
        long question's best match is right less than half the time: ``actions/faq.py``).
        With the town known, the office the answer points to comes with the related
        procedure's title and summary (its documents and steps are one button away).
        """
        language = self.language(tracker)
        entry = self.kb.faq(entry_id, language)
        if entry is None:
            return None
        self.say(
            dispatcher,
            [f"❓ {entry.question}", entry.answer]
            + render.provenance_lines(
                entry.checked,
                entry.sources[0] if entry.sources else None,
                entry.verified,
                language,
            )
            + render.fallback_line(entry, language),
        )
        buttons = self.faq_buttons(related, language)
        if buttons:
            dispatcher.utter_message(response="utter_faq_related", buttons=buttons)
        events: list[EventType] = [
            SlotSet(SLOT_FAQ, entry.id),
            SlotSet(SLOT_SERVICE, entry.service),
            SlotSet(SLOT_PROCEDURE, entry.procedure),
            SlotSet(SLOT_FAILED_TURNS, 0),
        ]
        if not entry.office_kinds and not entry.procedure:
            return events
        comune = self.comune(tracker)
        if comune is None:
            dispatcher.utter_message(response="utter_answer_ask_city_for_office")
            return [*events, SlotSet(SLOT_PENDING_QUESTION, OFFICE_PENDING + entry.service)]
        procedure = (
            self.kb.procedure(entry.service, language, entry.procedure) if entry.procedure else None
        )
        office = next(
            (
                found
                for kind in entry.office_kinds
                if (found := self.kb.office_for(entry.service, comune.istat, kind))
            ),
            None,
        ) or self.office(entry.service, comune, procedure)
        if procedure:
            name = self.kb.service_name(entry.service, language)
            dispatcher.utter_message(
                response="utter_answer_summary",
                service_name=name.text if name else entry.service,
                city=comune.name,
                title=procedure.title,
                summary=procedure.summary,
            )
        self.send_office(dispatcher, office, comune, language)
        dispatcher.utter_message(response="utter_answer_next")
        return [*events, *self.answered(entry.service, comune, office, procedure)]

    def suggest_faq(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, entries: tuple[str, ...]
    ) -> list[EventType]:
        """The closest questions as buttons, and a mediator beside them."""
        language = self.language(tracker)
        buttons = self.faq_buttons(entries, language)
        _, mediator = render_with_buttons("utter_fallback_offer_mediator", language)
        dispatcher.utter_message(response="utter_faq_suggest", buttons=buttons + mediator)
        return []

    def faq_buttons(self, entries: tuple[str, ...], language: str) -> list[dict[str, str]]:
        """One button per FAQ entry: its question, in the person's language where it exists."""
        buttons = []
        for entry_id in entries:
            entry = self.kb.faq(entry_id, language)
            if entry:
                buttons.append(
                    {"title": entry.question, "payload": f'/inform{{"faq_id": "{entry_id}"}}'}
                )
        return buttons

    @staticmethod
    def send_documents(
        dispatcher: CollectingDispatcher, procedure: Procedure, language: str, note: bool = True
    ) -> None:
        """The documents to bring.

        With ``note``, first the line saying that the checklist is not in the person's language
        (see :func:`actions.render.checklist_fallback_line`).
        """
        lines = render.checklist_fallback_line(procedure, language) if note else []
        if not procedure.documents:
            if lines:
                dispatcher.utter_message(response="utter_answer_card", card="\n".join(lines))
            dispatcher.utter_message(response="utter_answer_no_documents")
            return
        header = "\n".join([*lines, render.render("utter_answer_documents_header", language)])
        for text in render.list_messages(header, procedure.documents, numbered=False):
            dispatcher.utter_message(response="utter_answer_card", card=text)

    def answer_aspect(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        aspect: str,
    ) -> list[EventType]:
        """Hours, location or documents of the office or service being discussed."""
        language = self.language(tracker)
        service = self.service(tracker)
        kind = self.office_kind(tracker)
        if aspect == "ask_documents_needed":
            if not service:
                dispatcher.utter_message(response="utter_answer_ask_service")
                return [SlotSet(SLOT_PENDING_QUESTION, aspect)]
            procedure = self._current_procedure(tracker, service, language)
            if procedure is None:
                dispatcher.utter_message(response="utter_answer_no_documents")
                return []
            self.send_documents(dispatcher, procedure, language)
            return [
                SlotSet(SLOT_SERVICE, service),
                SlotSet(SLOT_PROCEDURE, procedure.id),
                SlotSet(SLOT_PENDING_QUESTION, None),
                SlotSet(SLOT_FAILED_TURNS, 0),
            ]

        comune = self.comune(tracker)
        office = self._current_office(tracker, service, kind, comune)
        if office is None:
            if comune is None:
                return self.ask_city(dispatcher, aspect)
            if not service and not kind:
                dispatcher.utter_message(response="utter_answer_ask_service")
                return [SlotSet(SLOT_PENDING_QUESTION, aspect)]
            dispatcher.utter_message(response="utter_answer_no_office", city=comune.name)
            return []
        office = self.with_distance(office, comune)
        near = comune.name if comune else None
        if aspect == "ask_office_location":
            lines = render.office_lines(office, language, location_only=True, near=near)
        else:
            opening = self.kb.opening(office.id, self._clock())
            lines = [render.render("utter_answer_line_office", language, name=office.name)]
            lines += render.opening_lines(opening, language, with_week=True)
        lines += render.provenance_lines(office.checked, office.source, office.verified, language)
        self.say(dispatcher, lines)
        return [
            SlotSet(SLOT_OFFICE, office.id),
            SlotSet(SLOT_PENDING_QUESTION, None),
            SlotSet(SLOT_FAILED_TURNS, 0),
        ]

    def _current_procedure(self, tracker: Tracker, service: str, language: str) -> Procedure | None:
        if service == tracker.get_slot(SLOT_SERVICE) and tracker.get_slot(SLOT_PROCEDURE):
            found = self.kb.procedure(service, language, tracker.get_slot(SLOT_PROCEDURE))
            if found:
                return found
        return self.choose_procedure(
            service, language, tracker.latest_message.get("text"), self.undocumented(tracker)
        )

    def _current_office(
        self, tracker: Tracker, service: str | None, kind: str | None, comune: Comune | None
    ) -> Office | None:
        """The office asked about: by kind, else the one just discussed, else the service's."""
        if comune and kind:
            for candidate in ((service,) if service else ()) + SERVICES:
                found = self.office_of_kind(candidate, comune, kind)
                if found:
                    return found
        current = tracker.get_slot(SLOT_OFFICE)
        if current and not kind and (comune is None or comune.name == tracker.get_slot(SLOT_CITY)):
            found = self.kb.office(current)
            if found:
                return found
        if comune and service:
            return self.office(service, comune, self.kb.procedure(service, "it"))
        return None


class ActionAnswerService(KnowledgeAction):
    """A question about one of the twelve services: its FAQ answer, else its procedure."""

    def name(self) -> str:
        return "action_answer_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        choice = self.faq_choice(tracker)
        if choice.answer:
            events = self.answer_faq(dispatcher, tracker, choice.answer, choice.suggestions)
            if events is not None:
                return events
        service = self.service(tracker)
        if service is None:
            if choice.suggestions:
                return self.suggest_faq(dispatcher, tracker, choice.suggestions)
            dispatcher.utter_message(response="utter_answer_ask_service")
            return []
        return self.answer_for_town(dispatcher, tracker, service)


class ActionAnswerAspect(KnowledgeAction):
    """Opening hours, location or documents of the office or service being discussed."""

    def name(self) -> str:
        return "action_answer_aspect"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        aspect = intent if intent in ASPECT_INTENTS else "ask_office_location"
        named = self.named_service(tracker)
        if aspect != "ask_documents_needed" and named and named != tracker.get_slot(SLOT_SERVICE):
            # "caut de lucru, unde mă înscriu la centro per l'impiego?": where or when, about a
            # service the conversation has not discussed yet, is a question about that service.
            # Its answer has the office's address and opening too, and the procedure besides.
            return self.answer_for_town(dispatcher, tracker, named)
        return self.answer_aspect(dispatcher, tracker, aspect)


class ActionHandleInform(KnowledgeAction):
    """The person gave their town, or chose a suggested question: answer what was waiting."""

    def name(self) -> str:
        return "action_handle_inform"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        chosen = next(
            (
                str(e["value"])
                for e in tracker.latest_message.get("entities", [])
                if e.get("entity") == ENTITY_FAQ and e.get("value")
            ),
            None,
        )
        if chosen:
            events = self.answer_faq(dispatcher, tracker, chosen)
            if events is not None:
                return events
        comune = self.comune(tracker)
        if comune is None:
            choice = self.faq_choice(tracker)
            if choice.answer:
                events = self.answer_faq(dispatcher, tracker, choice.answer, choice.suggestions)
                if events is not None:
                    return events
            dispatcher.utter_message(response="utter_answer_city_unknown")
            return []
        pending = tracker.get_slot(SLOT_PENDING_QUESTION) or ""
        named = self.named_service(tracker)
        if named and named != tracker.get_slot(SLOT_SERVICE):
            # "I live in Trani and need a free lawyer" read as a town alone: a service
            # named in the message is the question.
            return self.answer_service(dispatcher, tracker, named, comune)
        if pending.startswith(OFFICE_PENDING) and pending[len(OFFICE_PENDING) :] in SERVICES:
            return self.answer_office_only(
                dispatcher, tracker, pending[len(OFFICE_PENDING) :], comune
            )
        if pending in SERVICES:
            return self.answer_service(dispatcher, tracker, pending, comune)
        if pending in ASPECT_INTENTS:
            return self.answer_aspect(dispatcher, tracker, pending)
        dispatcher.utter_message(response="utter_answer_city_noted", city=comune.name)
        return [SlotSet(SLOT_CITY, comune.name), SlotSet(SLOT_FAILED_TURNS, 0)]
