"""Every ``utter_*`` name the Python code uses is a response of the domain.

A misspelt or renamed response is not an error anywhere else: the action server sends the name,
Rasa answers with nothing, and the person gets silence. This reads every string literal of the
packages that name responses (a whole ``utter_…`` name, not a prefix or an f-string) and looks
each up in the domain (``domain.yml``), read through Rasa's own loader.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

from rasa.shared.core.domain import Domain

from bot.messages import DOMAIN_FILE
from bot.settings import PROJECT_ROOT

PACKAGES = ("actions", "bot", "channels", "handoff", "app")
RESPONSE_NAME = re.compile(r"utter_[a-z0-9_]*[a-z0-9]")


def domain_path() -> Path:
    return DOMAIN_FILE


@lru_cache(maxsize=1)
def domain_responses() -> frozenset[str]:
    return frozenset(Domain.load(str(domain_path())).responses)


def names_used(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and RESPONSE_NAME.fullmatch(node.value)
    ]


def test_every_response_name_in_python_is_in_the_domain() -> None:
    responses = domain_responses()
    missing = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}: {name}"
        for package in PACKAGES
        for path in sorted((PROJECT_ROOT / package).rglob("*.py"))
        for line, name in names_used(path)
        if name not in responses
    ]
    assert not missing, "responses used in Python but not in the domain:\n" + "\n".join(missing)


def test_the_check_reads_names_and_would_catch_a_missing_one(tmp_path: Path) -> None:
    used = [
        name for path in (PROJECT_ROOT / "actions").rglob("*.py") for _, name in names_used(path)
    ]
    assert "utter_fallback_rephrase" in used  # a name the fallback action sends
    assert len(domain_responses()) > 50
    source = tmp_path / "x.py"
    source.write_text(
        'PREFIX = "utter_channel_"\nd.utter_message(response="utter_no_such_reply")\n'
        'f"utter_answer_line_{x}"\n'
    )
    assert names_used(source) == [(2, "utter_no_such_reply")]
    assert "utter_no_such_reply" not in domain_responses()
