"""Whether the Rasa server may listen where it is told to.

Rasa's HTTP API can append a bot event to any conversation (the channel then delivers it to the
person's real WhatsApp or Telegram), run any action on anyone (``action_delete_my_data``) and read
any tracker. It asks for nothing unless ``RASA_AUTH_TOKEN`` is set, so it may listen on a
non-loopback address only with a token. ``bot run`` checks this before starting anything, and
``app.rasa_main`` again on the interface Rasa is actually given (Rasa's own default is 0.0.0.0).
"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 (also IPv4-mapped) and ``localhost``; not 0.0.0.0 or names."""
    if not host:
        return False
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def exposure_error(host: str | None, auth_token: str | None) -> str | None:
    """Why the server must not start on ``host`` without a token, or None if it may."""
    if auth_token or is_loopback(host):
        return None
    return (
        f"RASA_HOST={host or '0.0.0.0'} is not a loopback address and RASA_AUTH_TOKEN is not set: "
        f"anyone reaching the port could read and change every conversation; set "
        f"RASA_AUTH_TOKEN or listen on 127.0.0.1"
    )
