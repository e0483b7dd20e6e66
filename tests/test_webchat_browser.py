"""The local web chat works in a real browser (headless Chromium from Debian's packages)."""

from __future__ import annotations

import shutil

import pytest

from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip(
            "headless Chromium is not installed (apt-get install chromium chromium-driver; "
            ".ci/run installs it, so CI always runs this test)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


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
