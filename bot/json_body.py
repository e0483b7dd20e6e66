"""Read a JSON request body without letting its size, encoding or nesting reach a handler.

Every JSON endpoint (Rasa's HTTP API through ``bot.api_guard``, the REST channel, Telegram, the
web chat, the desk) parses its body here, so the same inputs get the same 4xx everywhere:

- over the byte cap: 413 (Sanic refuses bigger bodies first; channels may set a lower cap);
- not UTF-8, not JSON, or nested deeper than :data:`MAX_DEPTH`: 400. A 10,000-deep ``[[[…]]]``
  makes ``json.loads`` raise ``RecursionError``, which is not a ``ValueError`` and used to become
  a 500; a body just under the interpreter's limit would parse and then break whatever walks it
  later (deep copies, JSON columns), so depth is bounded well below it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

MAX_DEPTH = 32  # no request of any endpoint here nests more than a few levels


class BodyError(Exception):
    """A body refused before any handler saw it; ``code`` and ``message`` go in the answer."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def parse_json(raw: bytes | None, max_bytes: int) -> Any:
    """The decoded body; raises :class:`BodyError`. An empty body is ``None``."""
    raw = raw or b""
    if len(raw) > max_bytes:
        raise BodyError(413, "too_large", f"The request body is over {max_bytes} bytes.")
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, "bad_json", "The request body is not UTF-8.") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise BodyError(400, "bad_json", "The request body is not valid JSON.") from None
    if depth(data) > MAX_DEPTH:
        raise BodyError(400, "too_deep", f"The request body nests more than {MAX_DEPTH} levels.")
    return data


def json_object(raw: bytes | None, max_bytes: int) -> dict[str, Any]:
    """The body, which must be a JSON object; raises :class:`BodyError`."""
    data = parse_json(raw, max_bytes)
    if not isinstance(data, dict):
        raise BodyError(400, "bad_json", "The request body must be a JSON object.")
    return data


def depth(value: Any) -> int:
    """Nesting depth of decoded JSON (a scalar is 0, ``[]`` is 1), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level) for child in children)
    return deepest
