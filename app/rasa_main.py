"""``python -m app.rasa_main run ...``: Rasa's own command line, with fixes for Rasa 3.6.

``bot run`` starts Rasa through this module. Each fix is one function, applied by :func:`main`:

- :func:`fast_action_validation`: Rasa validates every custom action's response with
  ``jsonschema.validate``, which first re-checks the response *schema itself* on every call:
  about 25 ms per action call on this 2-core machine, and every turn calls two slot-mapping
  actions plus the answer (py-spy put 59 % of the Rasa server's time there). A validator
  compiled once is used instead; a response that fails is handed to Rasa's original check, so
  errors and their messages are unchanged.
- :func:`closed_api`: the API token comes from ``RASA_AUTH_TOKEN`` in the environment (a
  command-line ``--auth-token`` is visible to every user in ``ps``), and a server listening on a
  non-loopback interface without a token does not start (``bot.exposure``).
- :func:`bounded_server`: the request guard of ``bot.api_guard`` on the app Rasa builds (body
  cap, JSON errors, API bodies checked before Rasa's handlers).
- :func:`nlu_off_event_loop`: NLU runs in a worker thread on at most ``NLU_MAX_CHARS``
  characters. Rasa runs it on the event loop, so a 4,096-character message (about 180 ms of
  NLU here, against 20 ms for a short one) held up every other conversation meanwhile.
- ``bot.rasa_outages``: an unreachable database or action server fails a turn instead of
  answering it wrongly (the turn is retried by the channels).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# What NLU reads of a message: the custom components' own cap, so DIET and the featurizers see
# the text they do (bot.nlu.text.MAX_CHARS). Longer messages, up to MAX_MESSAGE_CHARS, are kept
# whole in the conversation.
from bot.nlu.text import MAX_CHARS as NLU_MAX_CHARS

# Two threads: a long message's NLU does not hold up a short one's (two cores here).
NLU_THREADS = 2
# How long a thread keeps the GIL while another waits for it (Python's default: 5 ms). NLU is
# mostly Python; while a long message's NLU runs, the event loop waits up to this long for the
# GIL at every wake-up (each action call, database answer and request of everyone else's turn).
GIL_SWITCH_SECONDS = 0.0005


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


def closed_api() -> None:
    """Take the API token from the environment; refuse an exposed server without one."""
    import rasa.core.run

    from bot.exposure import exposure_error

    serve = rasa.core.run.serve_application
    if getattr(serve, "_closed_api", False):
        return

    @functools.wraps(serve)
    def serve_application(*args: Any, **kwargs: Any) -> Any:
        bound = inspect.signature(serve).bind(*args, **kwargs)
        bound.apply_defaults()
        token = bound.arguments.get("auth_token") or os.environ.get("RASA_AUTH_TOKEN") or None
        bound.arguments["auth_token"] = token
        refused = exposure_error(bound.arguments.get("interface"), token)
        if refused:
            print(f"error: {refused}", file=sys.stderr)
            raise SystemExit(2)
        return serve(*bound.args, **bound.kwargs)

    serve_application._closed_api = True  # type: ignore[attr-defined]
    rasa.core.run.serve_application = serve_application


def bounded_server() -> None:
    """Install ``bot.api_guard`` on the Sanic app Rasa configures."""
    import rasa.core.run

    from bot import api_guard

    configure = rasa.core.run.configure_app
    if getattr(configure, "_bounded", False):
        return

    @functools.wraps(configure)
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        bound = inspect.signature(configure).bind(*args, **kwargs)
        app = configure(*args, **kwargs)
        api_guard.install(app, bound.arguments.get("auth_token"))
        return app

    configure_app._bounded = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_app


def nlu_off_event_loop(max_chars: int = NLU_MAX_CHARS, threads: int = NLU_THREADS) -> None:
    """Run ``MessageProcessor.parse_message``'s NLU graph in worker threads, on bounded text.

    The rest of Rasa's method is kept: the retrieval-intent update and the unseen-features
    check (not its debug line, which would log the message text). The GIL is handed over more
    often (``GIL_SWITCH_SECONDS``) so the event loop is not starved by a thread parsing.
    """
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker

    original = MessageProcessor.parse_message
    if getattr(original, "_off_event_loop", False):
        return
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="nlu")

    @functools.wraps(original)
    async def parse_message(
        self: MessageProcessor,
        message: Any,
        tracker: Any = None,
        only_output_properties: bool = True,
    ) -> dict[str, Any]:
        if self.http_interpreter:
            return await original(self, message, tracker, only_output_properties)
        if message.text and len(message.text) > max_chars:
            message = copy.copy(message)
            message.text = message.text[:max_chars]
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        parse_data = await asyncio.get_running_loop().run_in_executor(
            executor, self._parse_message_with_graph, message, tracker, only_output_properties
        )
        self._update_full_retrieval_intent(parse_data)
        self._check_for_unseen_features(parse_data)
        return parse_data

    parse_message._off_event_loop = True  # type: ignore[attr-defined]
    MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]


def main() -> None:
    """Run Rasa's command line with the fixes applied."""
    from bot.rasa_outages import patient_remote_actions, strict_tracker_store
    from channels.relay_worker import relay_with_every_server

    fast_action_validation()
    strict_tracker_store()
    patient_remote_actions()
    closed_api()
    bounded_server()
    nlu_off_event_loop()
    relay_with_every_server()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
