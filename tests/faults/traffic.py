"""Traffic for the fault tests: people writing on WhatsApp and Telegram, and the tally of what
each of them got back through the fake platform APIs.

Each person writes one message per scenario, so every reply reaching their number answers that
message. Its expected answer is what a control person got for the same text in calm conditions:
a message is **answered** when its person got as many reply parts as the control and none twice,
**lost** when it got fewer (none at all, or an answer cut short), **duplicated** when any part
came twice or there were more parts than the control got.

The platforms are played as they behave: Twilio posts a webhook once (it does not redeliver
incoming messages), Telegram redelivers an update until it gets a 2xx.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from tests.channels.channel_fakes import (
    WEBHOOK_SECRET,
    FakeTelegram,
    FakeTwilio,
    telegram_text_update,
    twilio_form,
    twilio_signed,
)

# Asks for an office and a procedure: several reply parts, a knowledge lookup and custom
# actions, so a fault can land in the middle of a turn.
TEXT = "how do I renew my permesso di soggiorno? I live in Nardò"
TELEGRAM_REDELIVERY_SECONDS = (1, 2, 4, 8, 8, 8, 8, 8)


@dataclass
class Person:
    """Someone writing once: a WhatsApp number or a Telegram chat id."""

    channel: str  # "whatsapp" | "telegram"
    address: str  # whatsapp:+39… or the chat id
    status: int | None = None  # the webhook's final answer

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Tally:
    """What a scenario did to its messages."""

    scenario: str
    sent: int = 0
    accepted: int = 0
    answered: int = 0
    lost: int = 0
    duplicated: int = 0
    details: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.scenario}: sent {self.sent}, accepted {self.accepted}, "
            f"answered {self.answered}, lost {self.lost}, duplicated {self.duplicated}"
        )


class Traffic:
    """Posts signed webhooks to a running stack and reads the fakes to see what came back."""

    def __init__(self, base_url: str, twilio: FakeTwilio, telegram: FakeTelegram) -> None:
        self.base_url = base_url
        self.twilio = twilio
        self.telegram = telegram
        self.expected: dict[str, list[str]] = {}  # channel → the control's reply parts
        self._tag = secrets.randbelow(9000) + 1000

    def people(self, channel: str, count: int) -> list[Person]:
        """``count`` people nobody has seen yet on ``channel``."""
        self._tag += 1
        if channel == "whatsapp":
            return [Person(channel, f"whatsapp:+3932{self._tag:04d}{i:04d}") for i in range(count)]
        return [Person(channel, str(7_000_000_000 + self._tag * 10_000 + i)) for i in range(count)]

    # --- sending --------------------------------------------------------------------------

    async def write(self, http: aiohttp.ClientSession, person: Person, text: str = TEXT) -> None:
        """One message, posted as the platform posts it; ``person.status`` is the outcome."""
        if person.channel == "whatsapp":
            url = self.base_url + "/webhooks/whatsapp/webhook"
            body, headers = twilio_signed(
                url, twilio_form(text, sender=person.address, sid="SM" + secrets.token_hex(16))
            )
            person.status = await _post(http, url, body, headers)
            return
        url = self.base_url + "/webhooks/telegram/webhook"
        update = telegram_text_update(
            text, chat_id=int(person.address), update_id=secrets.randbelow(2**31)
        )
        headers = {
            "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
            "Content-Type": "application/json",
        }
        for delay in (*TELEGRAM_REDELIVERY_SECONDS, None):
            person.status = await _post(http, url, json.dumps(update).encode(), headers)
            if person.accepted or delay is None:
                return
            await asyncio.sleep(delay)

    async def write_all(self, people: list[Person], text: str = TEXT) -> None:
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(self.write(http, p, text) for p in people))

    # --- what came back -------------------------------------------------------------------

    def replies(self, person: Person) -> list[str]:
        if person.channel == "whatsapp":
            return [m.get("Body", "") for m in self.twilio.messages if m["To"] == person.address]
        return [
            str(m.get("text", ""))
            for m in self.telegram.methods("sendMessage")
            if str(m.get("chat_id")) == person.address
        ]

    async def learn_expected(self, channel: str, timeout: float = 90.0) -> list[str]:
        """Send the text from a control person in calm conditions; remember the answer."""
        control = self.people(channel, 1)
        await self.write_all(control)
        assert control[0].accepted, f"the control message got {control[0].status}"
        parts = await self._settled(control[0], timeout)
        assert parts, f"no answer to the control message on {channel}"
        self.expected[channel] = parts
        return parts

    async def _settled(self, person: Person, timeout: float, quiet: float = 3.0) -> list[str]:
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.replies(person))
            if count != last:
                last, since = count, time.monotonic()
            elif count and time.monotonic() - since >= quiet:
                break
            await asyncio.sleep(0.1)
        return self.replies(person)

    def received(self, people: list[Person]) -> int:
        """Reply parts delivered so far to these people."""
        return sum(len(self.replies(p)) for p in people)

    async def tally(self, scenario: str, people: list[Person], timeout: float) -> Tally:
        """Wait until every accepted message has its full answer (or ``timeout``), then count.

        A further quiet spell lets a late duplicate show up before the count.
        """
        deadline = time.monotonic() + timeout
        accepted = [p for p in people if p.accepted]
        while time.monotonic() < deadline and any(
            len(self.replies(p)) < len(self.expected[p.channel]) for p in accepted
        ):
            await asyncio.sleep(0.2)
        await asyncio.sleep(3.0)
        result = Tally(scenario, sent=len(people), accepted=len(accepted))
        for person in people:
            if not person.accepted:
                result.details.append(f"{person.address}: webhook answered {person.status}")
                continue
            got, want = self.replies(person), self.expected[person.channel]
            repeated = [text for text, n in Counter(got).items() if n > 1]
            if repeated or len(got) > len(want):
                result.duplicated += 1
                result.details.append(
                    f"{person.address}: {len(got)} parts of {len(want)}, {len(repeated)} repeated"
                )
            elif len(got) < len(want):
                result.lost += 1
                result.details.append(f"{person.address}: {len(got)} parts of {len(want)}")
            else:
                result.answered += 1
        return result


async def _post(http: aiohttp.ClientSession, url: str, body: bytes, headers: dict) -> int | None:
    try:
        async with http.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=15)
        ) as resp:
            await resp.read()
            return resp.status
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return None  # the platform saw a connection error or a timeout
