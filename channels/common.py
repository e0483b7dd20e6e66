"""What the WhatsApp and Telegram channels share, apart from storage (``channels.store``).

- **Pseudonyms**: Rasa, its tracker store and the logs only ever see ``wa-…``/``tg-…`` ids,
  an HMAC of the real address under a key that is not in the repository. The prefix tells
  which channel can reach the person; the real address stays in ``channel_contacts``.
- **Text splitting**: WhatsApp (1600 characters per Twilio message) and Telegram (4096) cut
  long answers; a cut falls on a paragraph, line or sentence boundary whenever one is near.
- **Numbered options**: WhatsApp has no buttons outside approved templates, so buttons become
  "1. …" lines and a reply of "2" (in any script's digits) means the second one.
- **Channel messages**: the few sentences a channel sends by itself (a voice note it cannot
  listen to, a photo it cannot read) are responses of ``domain/channels.yml``, translated in
  ``locales/`` with every other reply, so translators edit data, not Python.

The delivery errors (``DeliveryError`` and its subclasses) are defined with the outbound port in
``bot.delivery`` and re-exported here, where the channels have always found them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

# The port's errors, re-exported: channels raise them from their replies too.
from bot.delivery import DeliveryError as DeliveryError
from bot.delivery import RecipientUnreachable as RecipientUnreachable
from bot.delivery import UnknownRecipient as UnknownRecipient
from bot.delivery import WindowClosed as WindowClosed
from bot.settings import VAR_DIR, get_settings

PSEUDONYM_KEY_FILE = "pseudonym.key"
# ITU-T E.164 country calling codes are prefix-free: +1 and +7 have one digit, these have two,
# every other one has three. That is enough to tell the country code of any number.
_TWO_DIGIT_CALLING_CODES = frozenset(
    "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 "
    "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98".split()
)
_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
# Break preferences, best first: paragraph, line, end of sentence (Latin punctuation needs a
# space after it, "3.5" is no sentence end; CJK, Arabic and Devanagari marks are enough), any
# whitespace.
_BREAKS = (r"\n\s*\n", r"\n", r"[.!?;](?:\s|$)|[。！？؟।]\s*", r"\s")


# --- pseudonyms -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def pseudonym_key() -> bytes:
    """The secret behind every pseudonym (and the desk's session signatures): PSEUDONYM_SECRET.

    Cached for the process; tests that change the variable call ``pseudonym_key.cache_clear()``.
    """
    configured = get_settings().pseudonym_secret
    if configured:
        return configured.encode("utf-8")
    # Development: one random key per installation, created once and never committed (var/ is
    # ignored by git). Creating it with O_EXCL means two processes starting together agree.
    path = VAR_DIR / PSEUDONYM_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    key = path.read_text().strip()
    if not key:  # another process is writing it right now
        raise RuntimeError(f"{path} is empty; delete it or set PSEUDONYM_SECRET")
    return key.encode("utf-8")


def pseudonym(channel_prefix: str, address: str) -> str:
    """Stable pseudonym of an address on a channel, e.g. ``wa-3f…`` for a WhatsApp number."""
    digest = hmac.new(
        pseudonym_key(), f"{channel_prefix}:{address}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{channel_prefix}-{digest[:24]}"


def calling_code(number: str) -> str | None:
    """Country calling code (``+39``) of an E.164 number such as ``whatsapp:+393331234567``."""
    digits = number.rsplit(":", 1)[-1].strip()
    if not digits.startswith("+") or not digits[1:].isdigit() or len(digits) < 4:
        return None
    digits = digits[1:]
    if digits[0] in "17":
        return "+" + digits[0]
    if digits[:2] in _TWO_DIGIT_CALLING_CODES:
        return "+" + digits[:2]
    return "+" + digits[:3]


# --- text -----------------------------------------------------------------------------------


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters, at the nicest boundary nearby."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        cut = _break_position(text[: limit + 1], limit)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def _break_position(window: str, limit: int) -> int:
    # A boundary in the first quarter would leave a stub; then a lesser boundary is better.
    for pattern in _BREAKS:
        ends = [m.end() for m in re.finditer(pattern, window) if limit // 4 < m.end() <= limit]
        if ends:
            return ends[-1]
    return limit


# --- numbered options -----------------------------------------------------------------------


def button_payload(button: Mapping[str, Any]) -> str:
    """Return what choosing a Rasa button sends: its payload, else its title."""
    return str(button.get("payload") or button.get("title") or "")


def render_numbered(text: str, buttons: Sequence[Mapping[str, Any]]) -> str:
    """Append one "n. title" line per button to the message text."""
    lines = [
        f"{i}. {button.get('title') or button_payload(button)}"
        for i, button in enumerate(buttons, 1)
    ]
    return "\n\n".join(p for p in ((text or "").strip(), "\n".join(lines)) if p)


def looks_like_choice(reply: str) -> bool:
    """Whether a reply could pick a numbered option (what it means depends on the options)."""
    return bool(_CHOICE.match(reply or ""))


def choose_numbered(reply: str, payloads: Sequence[str]) -> str | None:
    """Return the payload a reply such as "2", "2." or "٢" picks among the last options."""
    match = _CHOICE.match(reply or "")
    if not match or not payloads:
        return None
    index = int(match.group(1))
    return payloads[index - 1] if 1 <= index <= len(payloads) else None


# --- channel messages -----------------------------------------------------------------------


CHANNEL_RESPONSE_PREFIX = "utter_channel_"


def channel_message(key: str, languages: Iterable[str | None]) -> str:
    """Text of ``utter_channel_<key>`` in the first of ``languages`` translated, else English."""
    from bot.messages import default_catalogue, render

    response = CHANNEL_RESPONSE_PREFIX + key
    for language in languages:
        if language and default_catalogue().get(language, response) is not None:
            return render(response, language)
    return render(response, None)


def catalogue_keys() -> list[str]:
    """Every channel message key, for tests that check each is translated."""
    from bot.messages import response_names

    return sorted(
        name[len(CHANNEL_RESPONSE_PREFIX) :]
        for name in response_names()
        if name.startswith(CHANNEL_RESPONSE_PREFIX)
    )
