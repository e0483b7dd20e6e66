from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from bot.kb.db import make_engine
from bot.kb.load import load
from bot.kb.queries import KnowledgeBase
from bot.settings import PROJECT_ROOT
from bot.training import model_path
from tests.stack import Stack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole assistant as `make run` starts it, shared by the end-to-end tests."""
    if not model_path().exists():
        pytest.fail("no trained model for the current inputs: run `make train` (make test does)")
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="session")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The shipped knowledge, loaded into a SQLite file in a temporary folder."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('kb') / 'kb.db'}")
    result = load(PROJECT_ROOT / "knowledge", engine)
    assert not result.problems, result.problems
    return KnowledgeBase(engine, refresh_seconds=None)


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    """Headless Chromium from Debian's packages (the web chat and desk tests)."""
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
        # Both pages poll on timers; a window in the background must not be slowed down.
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()
