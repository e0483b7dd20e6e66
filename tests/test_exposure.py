"""Where the Rasa server may listen without a token, and how the token reaches it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app.runner import child_environment, server_commands
from bot.exposure import exposure_error, is_loopback
from bot.settings import get_settings


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.org", False),
        ("", False),
        (None, False),
    ],
)
def test_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_an_exposed_host_needs_a_token():
    assert exposure_error("127.0.0.1", None) is None
    assert exposure_error("0.0.0.0", "s3cret") is None
    refused = exposure_error("0.0.0.0", None)
    assert refused and refused.startswith("RASA_HOST=0.0.0.0 is not a loopback address")
    assert "\n" not in refused
    # Rasa's own default interface, when none is given, is 0.0.0.0.
    assert exposure_error(None, None).startswith("RASA_HOST=0.0.0.0")


def test_the_token_goes_through_the_environment_not_the_command_line(monkeypatch):
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    settings = dataclasses.replace(get_settings(), rasa_auth_token="tok-123")
    _, rasa = server_commands(settings, Path("model.tar.gz"))
    assert "--auth-token" not in rasa and "tok-123" not in " ".join(rasa)
    assert child_environment(settings)["RASA_AUTH_TOKEN"] == "tok-123"
    # Without one, none is inherited by mistake.
    monkeypatch.setenv("RASA_AUTH_TOKEN", "stale")
    settings = dataclasses.replace(settings, rasa_auth_token=None)
    assert "RASA_AUTH_TOKEN" not in child_environment(settings)
