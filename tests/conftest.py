from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.training import model_path
from tests.stack import Stack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole assistant as `make run` starts it, shared by the end-to-end tests."""
    if not model_path().exists():
        pytest.fail("no trained model for the current inputs: run `make train` (make test does)")
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running
