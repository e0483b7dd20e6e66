"""The dashboard in headless Chromium: figures, SVG charts, hidden cells, the queue, no network.

Served by the dashboard channel alone over a seeded database (the figures through the real
channels are checked by ``tests/channels/test_monitoring_e2e.py``).
"""

from __future__ import annotations

import pytest

from monitoring.schema import FALLBACK, HANDOVER
from tests.monitoring.factory import people
from tests.monitoring.served import dashboard

pytestmark = pytest.mark.browser

WAIT = 20


def test_the_dashboard_shows_figures_charts_and_the_queue(store, browser):  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    people(store, 7, "a", province="BA", language="ar", service="asylum")
    people(store, 5, "b", province="BA", language="uk", service="health_care", outcome=HANDOVER)
    people(store, 2, "c", province="TA", language="zh", service="housing")
    people(
        store,
        5,
        "d",
        province="LE",
        language="it",
        outcome=FALLBACK,
        service=None,
        text="posso guidare con la ricevuta? mail: x.y@example.org",
    )
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=(StaleElementReferenceException,))
    with dashboard(store) as url:
        browser.get(url)
        browser.find_element(By.ID, "from").send_keys("11/01/2026")
        browser.find_element(By.ID, "to").send_keys("11/30/2026")
        browser.find_element(By.ID, "show").click()
        wait.until(lambda b: b.find_element(By.ID, "people").text == "19")
        assert browser.find_element(By.ID, "handover").text == "26.3%"
        languages = browser.find_element(By.CSS_SELECTOR, "#languages svg").text
        assert "ar" in languages and "uk" in languages and "zh" not in languages
        assert "1 more with fewer than 5 people" in browser.find_element(By.ID, "languages").text
        assert browser.find_elements(By.CSS_SELECTOR, "#services svg rect")
        wait.until(
            lambda b: (
                [e.text for e in b.find_elements(By.CSS_SELECTOR, "#queue li.example")]
                == ["posso guidare con la ricevuta? mail: [email]"]
            )
        )

        # One province: Taranto has two people, so every figure is hidden.
        Select(browser.find_element(By.ID, "province")).select_by_value("TA")
        browser.find_element(By.ID, "show").click()
        wait.until(lambda b: "Taranto" in b.find_element(By.ID, "period").text)
        assert browser.find_element(By.ID, "people").text == "< 5 people"
        # Nothing was fetched from anywhere but this server.
        entries = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert entries and all(e.startswith(url.split("/webhooks")[0]) for e in entries)
