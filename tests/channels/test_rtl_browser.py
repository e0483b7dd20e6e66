"""Right-to-left text in the web chat and the mediator desk, in headless Chromium.

Both pages are served as Rasa serves them, on 127.0.0.1, with a scripted bot in place of Rasa:
the replies are the assistant's real Arabic, Urdu, Persian and Pashto texts (the catalogue and
the tax code procedure of the knowledge base, laid out by actions/render.py), so no trained
model is needed. What is checked is what a reader sees: the direction Chromium computed for
each bubble, and where words end up on the screen (the number of a step on the right, a link
after the Arabic word that introduces it).

``RTL_SCREENSHOTS=<folder>`` saves a screenshot of each page there (reports/rtl/ has them).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from channel_harness import ScriptedBot, serve
from rasa.core.channels.channel import UserMessage
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionRequestMediator
from actions.render import list_messages
from bot.messages import render, render_with_buttons
from bot.settings import PROJECT_ROOT
from channels.desk import MediatorDeskInput
from channels.webchat import WebChatInput
from tests.actions.conftest import web_conversation

pytestmark = [pytest.mark.browser]

WAIT = 15  # seconds for anything to appear
ARABIC_QUESTION = "كيف أحصل على الرمز الضريبي في ليتشي؟"
URDU_QUESTION = "مجھے لیچے میں ٹیکس کوڈ کیسے ملے گا؟"
# Persian and Pashto are written right to left too.
OTHERS = {"fa": "چطور در لچه کد مالیاتی بگیرم؟", "ps": "په لېچې کې مالیاتي کوډ څنګه واخلم؟"}
QUESTIONS = {ARABIC_QUESTION: "ar", URDU_QUESTION: "ur", **{q: c for c, q in OTHERS.items()}}
MAP_URL = "https://www.openstreetmap.org/?mlat=40.3474&mlon=18.1671"


def tax_code(language: str) -> dict[str, Any]:
    """The tax code procedure's title and steps in ``language``, from knowledge/."""
    path = PROJECT_ROOT / "knowledge" / "procedures" / "tax_code.yml"
    (procedure, *_) = yaml.safe_load(path.read_text("utf-8"))["procedures"]
    return {
        "title": procedure["title"][language],
        "steps": [step[language] for step in procedure["steps"][:2]],
    }


def answer(language: str) -> list[tuple[str, list[dict[str, str]]]]:
    """The replies to a tax code question: the steps, then the office (Latin name first)."""
    procedure = tax_code(language)
    header = f"{procedure['title']}\n{render('utter_answer_steps_header', language)}"
    steps = list_messages(header, procedure["steps"], numbered=True)
    office = "\n".join(
        [
            render(
                "utter_answer_line_office",
                language,
                name="Agenzia delle Entrate — Ufficio territoriale di Lecce",
            ),
            render("utter_answer_line_address", language, address="Viale Gallipoli 39, Lecce"),
            render("utter_answer_line_map", language, map_url=MAP_URL),
        ]
    )
    back = render_with_buttons("utter_handoff_opened", language, ticket="#1", wait="15")[1]
    return [*[(text, []) for text in steps], (office, back)]


class RightToLeftBot(ScriptedBot):
    """Answers each question of QUESTIONS in its language."""

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        language = QUESTIONS.get(message.text or "", "en")
        for text, buttons in answer(language):
            if buttons:
                await message.output_channel.send_text_with_buttons(
                    message.sender_id, text, buttons
                )
            else:
                await message.output_channel.send_text_message(message.sender_id, text)


@pytest.fixture
def serve_page(runtime, store) -> Iterator[Callable[[Any], str]]:  # type: ignore[no-untyped-def]
    """Serve a channel from an event loop in a thread (Selenium blocks the test's thread)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    stops = []

    def start(channel: Any) -> str:
        served, stop = asyncio.run_coroutine_threadsafe(
            serve(channel, store, RightToLeftBot()), loop
        ).result(WAIT)
        stops.append(stop)
        return served.url

    yield start
    for stop in stops:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(WAIT)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(WAIT)


def direction(browser, element) -> str:  # type: ignore[no-untyped-def]
    return browser.execute_script("return getComputedStyle(arguments[0]).direction", element)


# Where a piece of text is drawn: [left, right] of the first occurrence of ``needle`` under
# ``element``, in CSS pixels.
SPAN = """
const [element, needle] = arguments;
const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const at = node.data.indexOf(needle);
  if (at < 0) continue;
  const range = document.createRange();
  range.setStart(node, at);
  range.setEnd(node, at + needle.length);
  const box = range.getClientRects()[0];
  return [box.left, box.right];
}
return null;
"""


def span(browser, element, needle: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    found = browser.execute_script(SPAN, element, needle)
    assert found is not None, f"{needle!r} is not in {element.text!r}"
    return tuple(found)


def screenshot(browser, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("RTL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(folder) / name))


def test_arabic_urdu_persian_and_pashto_replies_read_right_to_left_in_the_web_chat(  # type: ignore[no-untyped-def]
    serve_page, browser, runtime
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(720, 560)
    browser.get(serve_page(WebChatInput(runtime=runtime)))
    wait = WebDriverWait(browser, WAIT)
    box = browser.find_element(By.ID, "text")
    assert direction(browser, box) == "ltr"

    def ask(question: str, replies_before: int) -> list[Any]:
        box.send_keys(question)
        # The box turns right to left as the person types.
        assert direction(browser, box) == "rtl"
        browser.find_element(By.ID, "send").click()
        wait.until(
            lambda _: len(browser.find_elements(By.CSS_SELECTOR, ".msg.bot")) >= replies_before + 2
        )
        assert direction(browser, box) == "ltr"  # empty again
        return browser.find_elements(By.CSS_SELECTOR, ".msg.bot")[replies_before:]

    steps, office = ask(ARABIC_QUESTION, 0)
    (mine,) = browser.find_elements(By.CSS_SELECTOR, ".msg.user")
    assert direction(browser, mine) == "rtl"
    assert direction(browser, steps) == "rtl"
    # A numbered step begins on the right: its number is right of its first word.
    first_word = tax_code("ar")["steps"][0].split()[0]
    assert span(browser, steps, "1")[0] > span(browser, steps, first_word)[1]
    # The office's name and address are Latin and stay left to right; the Arabic map line reads
    # right to left, its link after (left of) the Arabic word, and the link in its own order.
    viale, lecce = span(browser, office, "Viale"), span(browser, office, "Lecce")
    assert viale[1] < lecce[0]
    label = render("utter_answer_line_map", "ar", map_url="").split()[1].rstrip(":")
    assert span(browser, office, "https")[1] < span(browser, office, label)[0]
    assert span(browser, office, "https")[1] < span(browser, office, "openstreetmap")[0]
    (button,) = office.find_elements(By.CSS_SELECTOR, ".buttons button")
    assert direction(browser, button) == "rtl"
    screenshot(browser, "webchat-ar.png")

    for language, question in [("ur", URDU_QUESTION), *OTHERS.items()]:
        replies = ask(question, len(browser.find_elements(By.CSS_SELECTOR, ".msg.bot")))
        assert [direction(browser, x) for x in replies[:-1]] == ["rtl"] * (len(replies) - 1)
        first_word = tax_code(language)["steps"][0].split()[0]
        assert span(browser, replies[0], "1")[0] > span(browser, replies[0], first_word)[1]
        mine = browser.find_elements(By.CSS_SELECTOR, ".msg.user")[-1]
        assert direction(browser, mine) == "rtl", language


def arabic_conversation_then_italian() -> Tracker:
    """What Rasa sends the action server: Arabic all along, then one Italian sentence."""
    turns = [
        (ARABIC_QUESTION, "ar", "script", "ar", answer("ar")[0][0]),
        ("وأين المكتب؟", "ar", "script", "ar", answer("ar")[-1][0]),
        ("Voglio parlare con un mediatore", "it", "fasttext", "it", None),
    ]
    return web_conversation("web-arabic-person", *turns)


def test_the_desk_shows_an_arabic_ticket_whose_last_message_is_italian(  # type: ignore[no-untyped-def]
    serve_page, browser, runtime, handoff_store, monkeypatch
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # Karim reads cards on Telegram; he speaks Arabic, Marco only Italian.
    handoff_store.mediators.add("Karim", ["ar"], telegram_user_id="90001", ui_language="en")
    handoff_store.mediators.add("Marco", ["it"], telegram_user_id="90002", ui_language="it")
    monkeypatch.setattr(ActionRequestMediator, "handoff", runtime.handoff)
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionRequestMediator().run(dispatcher, arabic_conversation_then_italian(), {}))

    (ticket,) = handoff_store.tickets.in_states()
    assert (ticket.language, ticket.last_language) == ("ar", "it")
    assert dispatcher.messages[0]["language"] == "ar"  # told in Arabic that a mediator comes
    (card,) = [row for row, _ in handoff_store.outbox.rows("telegram")]
    assert card.address == "90001"
    assert "Language: ar (last message it)" in card.payload["text"]

    browser.set_window_size(1200, 900)
    browser.get(serve_page(MediatorDeskInput(runtime=runtime)))
    wait = WebDriverWait(browser, WAIT)
    browser.find_element(By.ID, "name").send_keys("Sara")
    browser.find_element(By.ID, "languages").send_keys("ar, it")
    browser.find_element(By.ID, "signin-button").click()
    wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, "#queue li.ticket"))
    (item,) = browser.find_elements(By.CSS_SELECTOR, "#queue li.ticket")
    assert f"{ticket.label} · ar (last message it)" in item.text
    assert direction(browser, item.find_element(By.CSS_SELECTOR, ".last")) == "rtl"

    item.find_element(By.CSS_SELECTOR, "button.claim").click()
    wait.until(lambda _: len(browser.find_elements(By.CSS_SELECTOR, "#transcript .line")) >= 5)
    assert "language ar (last message it)" in browser.find_element(By.ID, "ticket-info").text
    lines = {
        line.find_element(By.CSS_SELECTOR, ".text").text.split("\n")[0]: direction(
            browser, line.find_element(By.CSS_SELECTOR, ".text")
        )
        for line in browser.find_elements(By.CSS_SELECTOR, "#transcript .line.person")
    }
    assert lines == {
        ARABIC_QUESTION: "rtl",
        "وأين المكتب؟": "rtl",
        "Voglio parlare con un mediatore": "ltr",
    }
    (steps, *_) = browser.find_elements(By.CSS_SELECTOR, "#transcript .line.bot .text")
    assert direction(browser, steps) == "rtl"
    first_word = tax_code("ar")["steps"][0].split()[0]
    assert span(browser, steps, "1")[0] > span(browser, steps, first_word)[1]

    reply = browser.find_element(By.ID, "text")
    wait.until(lambda _: reply.is_enabled())
    reply.send_keys("مرحباً، أنا سارة، وسيطة ثقافية.")
    assert direction(browser, reply) == "rtl"
    screenshot(browser, "desk-ar.png")
