"""The whole handoff on one machine, in two headless Chromium windows: the web chat and the desk.

A person asks for a mediator in the web chat; a mediator signs in at the local desk, claims the
ticket and writes; each side reads the other; the mediator closes and the person is asked for a
rating. Real Rasa and action servers (``bot run``), as ``make run`` starts them.
"""

from __future__ import annotations

import pytest

from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WAIT = 30  # seconds for anything to appear (polling is every 1-1.5 s)


def test_a_person_and_a_mediator_talk_through_the_web_chat_and_the_desk(  # type: ignore[no-untyped-def]
    stack: Stack, browser
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)

    def texts(selector: str) -> list[str]:
        return [e.text for e in browser.find_elements(By.CSS_SELECTOR, selector)]

    def appears(selector: str, fragment: str) -> None:
        """Wait until an element matching ``selector`` contains ``fragment``."""
        try:
            wait.until(lambda _: any(fragment in t for t in texts(selector)))
        except Exception as exc:  # say what was there instead
            raise AssertionError(
                f"{fragment!r} never appeared in {selector}: {texts(selector)}\n"
                f"{stack.log()[-3000:]}"
            ) from exc

    def type_into(element_id: str, text: str) -> None:
        box = browser.find_element(By.ID, element_id)
        box.clear()
        box.send_keys(text)

    # The person asks for a mediator in the web chat.
    chat = browser.current_window_handle
    browser.get(f"{stack.base_url}/webhooks/webchat/")
    type_into("text", "I want to talk to a mediator")
    browser.find_element(By.ID, "send").click()
    appears(".msg.bot", "cultural mediator")

    # A mediator signs in at the desk, in a second window, and sees the ticket.
    browser.switch_to.new_window("window")
    desk = browser.current_window_handle
    browser.get(f"{stack.base_url}/webhooks/desk/")
    type_into("name", "Sara")
    type_into("languages", "en, it")
    browser.find_element(By.ID, "signin-button").click()
    appears("#queue li.ticket", "I want to talk to a mediator")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#queue li.ticket")) == 1

    # Claims it: the conversation so far shows; writes to the person.
    wait.until(lambda _: browser.find_element(By.CSS_SELECTOR, "#queue li.ticket button.claim"))
    browser.find_element(By.CSS_SELECTOR, "#queue li.ticket button.claim").click()
    appears("#transcript .line.person", "I want to talk to a mediator")
    appears("#held li.ticket", "en")
    wait.until(lambda _: browser.find_element(By.ID, "text").is_enabled())
    type_into("text", "Hello, I am Sara")
    browser.find_element(By.ID, "send").click()
    appears("#transcript .line.mediator", "Hello, I am Sara")

    # The web chat shows that Sara joined, then her message.
    browser.switch_to.window(chat)
    appears(".msg.notice", "Sara")
    appears(".msg.mediator", "Hello, I am Sara")
    bot_replies = len(browser.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.notice)"))

    # The person answers; the desk shows it and the bot stays quiet.
    type_into("text", "Thank you, my permit expires next week")
    browser.find_element(By.ID, "send").click()
    browser.switch_to.window(desk)
    appears("#transcript .line.person", "Thank you, my permit expires next week")
    browser.switch_to.window(chat)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.notice)")) == bot_replies
    assert texts(".msg.user")[-1] == "Thank you, my permit expires next week"

    # The mediator closes; the person is asked for a rating and can give it.
    browser.switch_to.window(desk)
    browser.find_element(By.ID, "close").click()
    appears("#ticket-title", "closed")
    browser.switch_to.window(chat)
    appears(".msg.notice", "from 1 (not at all) to 5 (very)")
    question = browser.find_elements(By.CSS_SELECTOR, ".msg.notice")[-1]
    buttons = question.find_elements(By.CSS_SELECTOR, ".buttons button")
    assert [b.text for b in buttons] == ["1", "2", "3", "4", "5"]
    buttons[4].click()
    appears(".msg.notice", "Thank you for your rating")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.notice)")) == bot_replies


def test_a_mediator_opens_the_desk_from_a_one_time_link(  # type: ignore[no-untyped-def]
    stack: Stack, browser
) -> None:
    import dataclasses
    import re

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from bot.settings import get_settings
    from handoff.service import Handoff
    from handoff.store import HandoffStore

    store = HandoffStore(f"sqlite:///{stack.log_path.parent / 'tracker.db'}")
    try:
        omar = store.mediators.add("Omar", ["ar"], telegram_user_id="90001", ui_language="en")
        settings = dataclasses.replace(
            get_settings(), mediator_desk_url=f"{stack.base_url}/webhooks/desk/"
        )
        assert Handoff(store, settings).send_desk_link(omar) == "telegram"
        ((row, _),) = store.outbox.rows("telegram", "90001")
    finally:
        store.dispose()
    link = re.search(r"(http://\S+#login=[\w-]+)", row.payload["text"]).group(1)

    browser.get(link)
    wait = WebDriverWait(browser, WAIT)
    try:
        wait.until(lambda _: "Omar" in browser.find_element(By.ID, "who").text)
    except Exception as exc:
        raise AssertionError(
            f"not signed in: {browser.find_element(By.ID, 'status').text!r} "
            f"at {browser.current_url}\n{stack.log()[-2000:]}"
        ) from exc
    assert "#login=" not in browser.current_url  # the code leaves the address bar
    assert browser.find_element(By.ID, "desk-view").is_displayed()
    # The link worked once: opened again, it signs nobody in.
    browser.execute_script("sessionStorage.clear()")
    browser.get("about:blank")  # else only the fragment changes and the page is not reloaded
    browser.get(link)
    wait.until(lambda _: "expired or was used" in browser.find_element(By.ID, "status").text)
    assert browser.find_element(By.ID, "who").text == ""


def test_a_mediator_changes_their_profile_and_sees_they_are_unreachable(  # type: ignore[no-untyped-def]
    stack: Stack, browser
) -> None:
    """Issue #17: the profile form saves languages, provinces, hours and a pause; Telegram's
    refusal to write to the mediator shows as a banner."""
    import dataclasses
    import re
    import time

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from bot.settings import get_settings
    from handoff.service import Handoff
    from handoff.store import HandoffStore

    store = HandoffStore(f"sqlite:///{stack.log_path.parent / 'tracker.db'}")
    try:
        store.mediators.add("Leyla", ["ar"], telegram_user_id="90002", ui_language="en")
        leyla = store.mediators.by_name("Leyla")
        settings = dataclasses.replace(
            get_settings(), mediator_desk_url=f"{stack.base_url}/webhooks/desk/"
        )
        Handoff(store, settings).send_desk_link(leyla)
        ((row, _),) = store.outbox.rows("telegram", "90002")
        link = re.search(r"(http://\S+#login=[\w-]+)", row.payload["text"]).group(1)

        browser.get(link)
        wait = WebDriverWait(browser, WAIT)
        wait.until(lambda _: "Leyla" in browser.find_element(By.ID, "who").text)
        assert not browser.find_element(By.ID, "unreachable").is_displayed()
        store.mediators.set_unreachable("90002", time.time())  # as the relay does on a 403
        wait.until(lambda _: browser.find_element(By.ID, "unreachable").is_displayed())
        assert "press Start" in browser.find_element(By.ID, "unreachable").text

        browser.find_element(By.CSS_SELECTOR, "#profile-box summary").click()
        fields = {"profile-languages": "ar fr", "profile-provinces": "BA", "profile-hours": "x"}
        for field, value in fields.items():
            element = browser.find_element(By.ID, field)
            element.clear()
            element.send_keys(value)
        browser.find_element(By.ID, "profile-save").click()
        wait.until(lambda _: "Not changed" in browser.find_element(By.ID, "status").text)
        assert store.mediators.by_name("Leyla").languages == ("ar",)  # nothing half-saved

        hours = browser.find_element(By.ID, "profile-hours")
        hours.clear()
        hours.send_keys("mon-fri 09:00-13:00")
        browser.find_element(By.ID, "profile-paused").click()
        browser.find_element(By.ID, "profile-save").click()
        wait.until(lambda _: "Profile saved" in browser.find_element(By.ID, "status").text)
        saved = store.mediators.by_name("Leyla")
        assert (saved.languages, saved.provinces, saved.hours, saved.paused) == (
            ("ar", "fr"),
            ("BA",),
            "mon-fri 09:00-13:00",
            True,
        )
        assert browser.find_element(By.ID, "paused-banner").is_displayed()
        assert "Leyla (ar, fr)" in browser.find_element(By.ID, "who").text
        browser.save_screenshot(str(stack.log_path.parent / "desk-profile.png"))
    finally:
        store.dispose()
