"""The action server registers exactly the domain's custom actions (and no base class)."""

import yaml
from rasa_sdk.executor import ActionExecutor

from bot.messages import DOMAIN_FILE


def test_action_server_registers_every_domain_action_and_nothing_abstract() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")  # raises if a base class gets instantiated
    domain_actions = set((yaml.safe_load(DOMAIN_FILE.read_text()) or {}).get("actions") or [])
    assert domain_actions <= set(executor.actions)
