from __future__ import annotations

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
