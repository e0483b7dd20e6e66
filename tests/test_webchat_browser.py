"""The local web chat works in a real browser (headless Chromium from Debian's packages)."""

from __future__ import annotations

import pytest

from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_message_typed_in_the_page_gets_the_reply(stack: Stack, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{stack.base_url}/webhooks/webchat/")
    box = browser.find_element(By.ID, "text")
    box.send_keys("bonjour, j'ai besoin d'aide")
    browser.find_element(By.ID, "send").click()

    reply = WebDriverWait(browser, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".msg.bot"))
    )
    assert reply.text.startswith("Bonjour")
    user_messages = browser.find_elements(By.CSS_SELECTOR, ".msg.user")
    assert [m.text for m in user_messages] == ["bonjour, j'ai besoin d'aide"]
