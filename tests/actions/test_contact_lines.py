"""The next best contact when the address is unknown, the main seat's contacts, the nearest CPIA.

"Not confirmed yet" only when nothing at all is known; otherwise the phone, PEC, e-mail and
website a person can use, the register they come from, and the distance to the nearest CPIA.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from rasa_sdk.executor import CollectingDispatcher

from actions import render
from actions.answers import ActionAnswerAspect, ActionAnswerService
from bot.kb.queries import FieldSource, KnowledgeBase, Office
from bot.messages import render as line
from tests.actions.conftest import cards, city, tracker

TUESDAY_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Rome"))

BLANK = Office(
    id="x",
    kind="prefettura",
    name="Prefettura di Prova",
    comune_istat="072006",
    comune_name="Bari",
    province="BA",
    address="",
    map_url="",
    phone="",
    email="",
    pec="",
    website="",
    booking_url="",
    services=("citizenship",),
    source=None,
    checked=None,
    verified=False,
    file=None,
)
REGISTER = FieldSource(
    "address", "Registro (prova)", "https://registro.example/", None, "2021-07-22", seat=True
)


def test_nothing_known_says_not_confirmed() -> None:
    lines = render.office_lines(BLANK, "en")
    assert lines == [
        line("utter_answer_line_office", "en", name="Prefettura di Prova"),
        line("utter_answer_line_address_unknown", "en"),
    ]


def test_without_an_address_the_contacts_come_instead() -> None:
    office = dataclasses.replace(
        BLANK, pec="protocollo@pec.prova.example", website="https://prova.example"
    )
    lines = render.office_lines(office, "it")
    assert line("utter_answer_line_address_unknown", "it") not in lines
    assert lines[1:] == [
        "📍 L'indirizzo non è ancora noto. Contatta prima l'ufficio:",
        "📨 PEC (posta elettronica certificata): protocollo@pec.prova.example",
        "🌐 https://prova.example",
    ]
    # Asked only where it is, the person still gets the contacts: they are how to find out.
    assert render.office_lines(office, "it", location_only=True) == lines


def test_a_main_seat_from_a_register_says_so_and_names_the_register() -> None:
    office = dataclasses.replace(
        BLANK,
        address="Piazza Prova 1, 70122 Bari",
        map_url="https://maps.example/",
        phone="080 0000000",
        field_sources=(REGISTER, dataclasses.replace(REGISTER, field="phone")),
    )
    lines = render.office_lines(office, "en")
    assert lines[1] == (
        "📍 Main office: Piazza Prova 1, 70122 Bari. The counter you need may "
        "be in another building: call first."
    )
    assert "📞 Switchboard: 080 0000000" in lines
    assert lines[-1] == "ℹ️ Contacts from a public register: Registro (prova) (2021-07-22)."
    # A counter's own address, written by an editor, is shown as it is, with no register.
    own = render.office_lines(dataclasses.replace(office, field_sources=()), "en")
    assert own[1] == "📍 Piazza Prova 1, 70122 Bari" and "📞 080 0000000" in own
    assert not any(text.startswith("ℹ️") for text in own)


def test_the_distance_is_written_in_the_persons_language() -> None:
    office = dataclasses.replace(BLANK, kind="cpia", address="Via Uno 1, Maglie", distance_km=9.34)
    assert render.office_lines(office, "en", near="Castrignano de' Greci")[1] == (
        "📏 About 9.3 km from Castrignano de' Greci (between town centres)."
    )
    assert render.office_lines(dataclasses.replace(office, distance_km=23.6), "it", near="Lecce")[
        1
    ] == ("📏 Circa 24 km da Lecce (tra i centri dei due comuni).")
    assert "9,3" in render.office_lines(office, "fr", near="Lecce")[1]
    same_town = dataclasses.replace(office, distance_km=0.0)
    assert not any("📏" in text for text in render.office_lines(same_town, "en", near="Maglie"))


async def test_learning_italian_gives_the_nearest_cpia_site_with_its_distance(
    kb: KnowledgeBase,
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerService(kb, clock=lambda: TUESDAY_MORNING).run(
        dispatcher,
        tracker(
            "where can I learn Italian",
            "ask_italian_course",
            city("Castrignano de' Greci"),
            language="en",
        ),
        {},
    )
    text = cards(dispatcher)
    nearest = kb.nearest_offices(
        "italian_course", kb.find_comune("Castrignano de' Greci").istat, "cpia", limit=1
    )[0]
    assert f"🏢 {nearest.name}" in text
    assert "📏 About " in text and "km from Castrignano de' Greci" in text
    assert "CIRCONDARIALE" not in text and "not confirmed" not in text


async def test_a_cpia_site_in_the_persons_town_needs_no_distance(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerService(kb, clock=lambda: TUESDAY_MORNING).run(
        dispatcher,
        tracker("corso di italiano", "ask_italian_course", city("Nardò"), language="it"),
        {},
    )
    text = cards(dispatcher)
    assert "Nardò" in text and "CPIA" in text and "📏" not in text


async def test_the_prefettura_answer_gives_its_switchboard_not_not_confirmed(
    kb: KnowledgeBase,
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerService(kb, clock=lambda: TUESDAY_MORNING).run(
        dispatcher,
        tracker(
            "ricongiungimento familiare",
            "ask_family_reunification",
            city("Brindisi"),
            language="it",
        ),
        {},
    )
    text = cards(dispatcher)
    assert "Prefettura di Brindisi" in text
    assert "📞 Centralino: 0831 5761" in text
    assert "Sede principale: Piazza S. Teresa 1, 72100 Brindisi" in text
    assert "non è ancora confermato" not in text
    assert "Ministero dell'Interno, contatti delle Prefetture (2021-07-22)" in text


async def test_where_is_a_small_towns_anagrafe(kb: KnowledgeBase) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerAspect(kb, clock=lambda: TUESDAY_MORNING).run(
        dispatcher,
        tracker(
            "dove si trova?",
            "ask_office_location",
            city("Accadia"),
            language="it",
            service="residence_registration",
        ),
        {},
    )
    text = cards(dispatcher)
    assert "Comune di Accadia - Ufficio Anagrafe" in text
    assert "Sede principale: Via Roma 1, 71021 Accadia" in text
