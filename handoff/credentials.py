"""How a mediator proves who they are at the desk: a password, or a one-time link.

- **Passwords** are set by the coordinator (``bot handoff mediator password NAME``) and kept
  as scrypt hashes (Python's ``hashlib``, OpenSSL underneath), never in clear.
- **One-time links** (``bot handoff mediator link NAME``) carry a random code sent to the
  mediator's own Telegram or WhatsApp chat, so whoever opens the link holds that account; the
  database keeps only the code's SHA-256 and its expiry, and the first use clears it.

The desk then gives a signed session (``channels.sessions``) bound to :func:`fingerprint` of the
password hash, so a new password ends older sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

MIN_PASSWORD_CHARS = 10
LINK_MINUTES = 15
# scrypt cost: about 50 ms per check on this machine, which slows guessing down to a crawl.
_N, _R, _P, _LENGTH = 2**14, 8, 1, 32


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=64 * 1024 * 1024
    )


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` of a new password (raises ValueError if it is too short)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password has at least {MIN_PASSWORD_CHARS} characters")
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _N, _R, _P, _LENGTH)
    return "$".join(
        (
            "scrypt",
            str(_N),
            str(_R),
            str(_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        )
    )


def check_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the stored hash (False when there is none)."""
    if not stored or not isinstance(password, str):
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


def fingerprint(password_hash: str | None) -> str:
    """What a desk session is bound to: changes whenever the password does."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:32]


def new_login_code() -> tuple[str, str]:
    """A one-time code for a sign-in link and the hash the database keeps of it."""
    code = secrets.token_urlsafe(24)
    return code, login_code_hash(code)


def login_code_hash(code: str) -> str:
    """What the database keeps of a sign-in code: enough to check it, not to use it."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()
