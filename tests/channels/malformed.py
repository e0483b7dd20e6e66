"""Malformed request bodies, shared by the in-process and the whole-stack malformed-input tests.

Every JSON endpoint must answer each of ``BODIES`` with a 4xx (``huge`` with 413), never a 5xx
and never by doing something. ``WRONG_TYPES`` are well-formed JSON objects whose fields have the
wrong type for whichever endpoint they reach.
"""

from __future__ import annotations

import json

HUGE_BYTES = 1_000_000

BODIES: dict[str, bytes] = {
    "empty": b"",
    "list": b"[]",
    "string": b'"hello"',
    "number": b"5",
    "null": b"null",
    "true": b"true",
    "not json": b"{oops",
    "bad utf-8": b'{"sender": "me", "message": "\xff\xfe\xfa"}',
    "10,000-deep list": b"[" * 10_000 + b"]" * 10_000,
    "10,000-deep object": b'{"a": ' * 10_000 + b"1" + b"}" * 10_000,
    "huge": json.dumps(
        {"sender": "me", "message": "x" * HUGE_BYTES, "text": "x" * HUGE_BYTES}
    ).encode(),
}

WRONG_TYPES: dict[str, bytes] = {
    name: json.dumps(body).encode()
    for name, body in {
        "numbers": {"sender": 5, "message": 5, "text": 5, "name": 5, "languages": 5},
        "lists": {
            "sender": ["me"],
            "message": ["hi"],
            "text": ["hi"],
            "name": ["x"],
            "languages": [1, 2],
        },
        "objects": {"sender": {}, "message": {}, "text": {}, "name": {}, "language": {}},
        "nulls": {"sender": None, "message": None, "text": None, "name": None},
        "booleans": {"sender": True, "message": False, "text": True, "name": False},
    }.items()
}

ALL = {**BODIES, **WRONG_TYPES}
