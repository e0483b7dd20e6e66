"""``python -m bot.rasa_main run ...``: Rasa's own command line, with fixes for Rasa 3.6.

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
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
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


def main() -> None:
    """Run Rasa's command line with the fixes applied."""
    fast_action_validation()
    closed_api()
    bounded_server()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
