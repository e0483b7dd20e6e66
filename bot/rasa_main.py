"""``python -m bot.rasa_main run ...``: Rasa's own command line, with fixes for Rasa 3.6.

Rasa validates every custom action's response with ``jsonschema.validate``, which first
re-checks the response *schema itself* on every call: about 25 ms per action call on this
2-core machine, and every turn calls two slot-mapping actions plus the answer. Profiling a turn
with py-spy put 59 % of the Rasa server's time there. :func:`fast_action_validation` validates
against a validator compiled once instead; a response that fails is handed to Rasa's original
check, so errors and their messages are unchanged. The other fixes make an unreachable
database or action server fail a turn instead of answering it wrongly (``bot.rasa_outages``).
``bot run`` starts Rasa through this module.
"""

from __future__ import annotations

from typing import Any


def fast_action_validation() -> None:
    """Make ``RemoteAction._validate_action_result`` check the schema once, not per call."""
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction, "_schema_compiled_once", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    rasa_check = RemoteAction._validate_action_result

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if best_match(validator.iter_errors(result)) is None:
            return True
        return rasa_check(self, result)  # raises Rasa's own ValidationError

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    RemoteAction._schema_compiled_once = True  # type: ignore[attr-defined]


def main() -> None:
    """Run Rasa's command line with the fixes applied."""
    from bot.rasa_outages import patient_remote_actions, strict_tracker_store

    fast_action_validation()
    strict_tracker_store()
    patient_remote_actions()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
