"""The conversation's language is sticky: unsure detections do not switch it."""

import pytest

from actions.language import choose_language


@pytest.mark.parametrize(
    ("current", "detected", "expected"),
    [
        (None, {"code": "fr", "confidence": 0.3, "source": "fasttext"}, "fr"),
        (None, {"code": None, "confidence": 0.0, "source": "no_letters"}, "it"),
        ("fr", {"code": "es", "confidence": 0.61, "source": "fasttext"}, "fr"),
        ("fr", {"code": None, "confidence": 0.0, "source": "no_letters"}, "fr"),
        ("fr", {"code": "en", "confidence": 0.97, "source": "fasttext"}, "en"),
        ("ar", None, "ar"),
    ],
)
def test_choose_language(current, detected, expected) -> None:
    assert choose_language(current, detected) == expected
