"""Signed, expiring sessions: who a desk mediator or a web chat page is, without trusting ids.

The desk used to believe an ``X-Mediator-Id`` header (any visitor could be mediator 1), and the
web chat answered ``/messages?sender=web-…`` to whoever named the id. Now the server hands out a
session when someone proves who they are (a mediator's password or one-time link; a new web chat
page), and every later request carries it.

A session is ``<payload>.<signature>``, both base64url: the payload is ``kind|subject|expires``
(``desk`` and a mediator id, or ``webchat`` and a ``web-…`` pseudonym); the signature is an
HMAC-SHA256 of the payload and a *binding* under a key derived from the pseudonym key
(``PSEUDONYM_SECRET``), so every instance of one installation accepts the others' sessions and
nobody else can make one. For mediators the binding is a fingerprint of their password hash:
setting a new password ends the sessions made before. Nothing is stored; a session ends when it
expires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

DESK = "desk"
WEBCHAT = "webchat"
_CONTEXT = b"puglia-assistant sessions v1"


def _key() -> bytes:
    from channels.common import pseudonym_key

    # A key of its own (HMAC of a fixed label): a session signature is never a pseudonym.
    return hmac.new(pseudonym_key(), _CONTEXT, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: bytes, binding: str) -> bytes:
    return hmac.new(_key(), payload + b"|" + binding.encode("utf-8"), hashlib.sha256).digest()


def issue(kind: str, subject: str, seconds: float, binding: str = "") -> str:
    """A session for ``subject`` valid ``seconds`` from now."""
    if "|" in kind or "|" in subject:
        raise ValueError("kind and subject must not contain '|'")
    payload = f"{kind}|{subject}|{int(time.time() + seconds)}".encode()
    return f"{_b64(payload)}.{_b64(_signature(payload, binding))}"


def _parts(token: str | None) -> tuple[bytes, bytes, list[str]] | None:
    if not token or len(token) > 512 or token.count(".") != 1:
        return None
    payload_text, signature_text = token.split(".")
    try:
        payload, signature = _unb64(payload_text), _unb64(signature_text)
        fields = payload.decode("utf-8").split("|")
    except (binascii.Error, ValueError):
        return None
    if len(fields) != 3 or not fields[2].isdigit():
        return None
    return payload, signature, fields


def subject(token: str | None, kind: str) -> str | None:
    """The subject of an unexpired session of this kind, *signature not checked yet*.

    For looking up what the binding depends on; :func:`valid` decides.
    """
    parts = _parts(token)
    if parts is None:
        return None
    _, _, (got_kind, got_subject, expires) = parts
    if got_kind != kind or int(expires) < time.time():
        return None
    return got_subject


def valid(token: str | None, kind: str, binding: str = "") -> str | None:
    """The subject if the session is of this kind, unexpired and signed with this binding."""
    found = subject(token, kind)
    if found is None:
        return None
    parts = _parts(token)
    assert parts is not None
    payload, signature, _ = parts
    if not hmac.compare_digest(signature, _signature(payload, binding)):
        return None
    return found
