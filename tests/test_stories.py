"""The dialogue follows the test stories (rasa test core --fail-on-prediction-errors)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from bot.training import model_path

pytestmark = pytest.mark.e2e


def test_test_stories_have_no_prediction_errors(tmp_path: Path) -> None:
    model = model_path()
    if not model.exists():
        pytest.fail("no trained model for the current inputs: run `make train` (make test does)")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "core",
            "--model",
            str(model),
            "--stories",
            "tests/stories",
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = (
        failed.read_text() if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    )
    assert result.returncode == 0, details
