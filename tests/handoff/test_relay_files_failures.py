"""The relay's share of issue #17: files, WhatsApp card templates, failed deliveries, retention.

A recording outbound port stands in for Twilio and Telegram (the end-to-end test,
``tests/channels/test_media_e2e.py``, covers the real adapters); the database is a real
SQLite file, so what the desk and the group would read is what is asserted.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from handoff import schema as t
from handoff.delivery import WINDOW_CLOSED_CODE
from handoff.media import MediaStore
from handoff.relay import Relay
from handoff.service import Handoff
from handoff.store import HandoffStore
from handoff.texts import mediator_text
from tests.handoff.helpers import Clock, settings_for

GROUP = "-1001234567890"
MARCO = "whatsapp:+393330000002"
JPEG = b"\xff\xd8\xff\xe0" + b"x" * 2000


class RecordingPort:
    """Records every call; WhatsApp sends return a MessageSid as Twilio's would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self._n = 0

    def _sid(self) -> list[str]:
        self._n += 1
        return [f"SM{self._n:032x}"]

    async def send_to_person(self, person: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("person", (person, *args), kwargs))
        return self._sid() if person.startswith("wa-") else None

    async def copy_to_person(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("copy", args, kwargs))

    async def send_template(self, *args: Any, **kwargs: Any) -> list[str]:
        self.calls.append(("template", args, kwargs))
        return self._sid()

    async def send_to_mediator(self, channel: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("mediator", (channel, *args), kwargs))
        return self._sid() if channel == "whatsapp" else None

    async def send_file(self, destination: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("file", (destination, *args), kwargs))
        return self._sid() if destination == "whatsapp" else None

    async def aclose(self) -> None:
        pass


def _world(url: str, tmp_path: Path, **settings: Any) -> tuple[Handoff, Relay, RecordingPort]:
    values = dict(media_dir=tmp_path / "media", telegram_mediator_chat_id=GROUP)
    values.update(settings)
    handoff = Handoff(HandoffStore(url), settings_for(url, **values))
    port = RecordingPort()
    return handoff, Relay(handoff, port), port


def _spool(media: MediaStore, content: bytes = JPEG, content_type: str = "image/jpeg") -> Any:
    spool = media.spool(content_type)
    spool.write(content)
    return spool.finish()


async def test_a_persons_photo_goes_to_the_holder_as_a_file(sqlite_url: str, tmp_path: Path):
    handoff, relay, port = _world(sqlite_url, tmp_path)
    marco = handoff.store.mediators.add("Marco", ["uk"], whatsapp=MARCO, ui_language="en")
    ticket = handoff.request("tg-1", "telegram", "uk").ticket
    handoff.claim(ticket.id, marco)
    await relay.drain()
    port.calls.clear()

    kept = relay.media.add(_spool(relay.media), person="tg-1", ticket_id=ticket.id)
    change = handoff.person_wrote("tg-1", "[image]", "telegram:1")
    assert change is not None
    handoff.person_sent_files(change.ticket, [(kept.id, kept.kind)], "my permit", "telegram:1")
    await relay.drain()

    files = [c for c in port.calls if c[0] == "file"]
    assert len(files) == 1
    destination, address, media_id, caption = files[0][1]
    assert (destination, address, media_id) == ("whatsapp", MARCO, kept.id)
    assert ticket.label in caption and "photo" in caption and "my permit" in caption
    # Its MessageSid is recorded with the ticket, so a status callback finds it.
    (status,) = [d for d in relay.deliveries.for_ticket(ticket.id) if ":file" in d.outbox_key]
    assert (status.recipient, status.mediator_id) == ("mediator", marco.id)


async def test_a_whatsapp_card_carries_its_template_values(sqlite_url: str, tmp_path: Path):
    handoff, relay, port = _world(sqlite_url, tmp_path)
    handoff.store.mediators.add("Marco", ["uk"], whatsapp=MARCO, ui_language="en")
    ticket = handoff.request("tg-1", "telegram", "uk", topic="ask_housing").ticket
    await relay.drain()
    (card,) = [c for c in port.calls if c[0] == "mediator" and c[1][0] == "whatsapp"]
    template = card[2]["template"]
    assert template["kind"] == "card" and template["language"] == "en"
    assert template["variables"]["1"] == ticket.label
    assert template["variables"]["2"] == "uk"
    assert template["variables"]["4"] == "ask_housing"


async def test_a_whatsapp_reminder_carries_the_reminder_template_values(
    sqlite_url: str, tmp_path: Path, clock: Clock
):
    handoff, relay, port = _world(sqlite_url, tmp_path)
    handoff.store.mediators.add("Marco", ["uk"], whatsapp=MARCO, ui_language="en")
    ticket = handoff.request("tg-1", "telegram", "uk").ticket
    await relay.drain()
    port.calls.clear()
    clock.advance(10 * 60 + 1)  # settings_for's reminder interval
    assert handoff.remind_due()
    await relay.drain()
    (reminder,) = [c for c in port.calls if c[0] == "mediator" and c[1][0] == "whatsapp"]
    template = reminder[2]["template"]
    assert template["kind"] == "reminder"
    assert [template["variables"][k] for k in ("1", "2")] == [ticket.label, "uk"]
    assert template["variables"]["3"]  # how long it has waited, in words


async def test_63016_on_a_card_is_written_told_and_sent_as_the_template(
    sqlite_url: str, tmp_path: Path
):
    handoff, relay, port = _world(sqlite_url, tmp_path)
    handoff.store.mediators.add("Marco", ["uk"], whatsapp=MARCO, ui_language="en")
    ticket = handoff.request("tg-1", "telegram", "uk").ticket
    await relay.drain()
    (status,) = relay.deliveries.for_ticket(ticket.id)
    update = relay.deliveries.record_status(status.message_sid, "failed", WINDOW_CLOSED_CODE)
    assert update.newly_failed
    port.calls.clear()

    await relay.status_failed(update.status)
    await relay.drain()
    await relay.stop()  # status_failed woke the worker: let it finish its round

    told = mediator_text(
        "mediator_delivery_failed", "it", ticket=ticket.label, name="Marco", reason="error 63016"
    )
    assert told in [m.text for m in handoff.store.transcripts.messages(ticket.id)]
    to_group = [c for c in port.calls if c[0] == "mediator" and c[1][:2] == ("telegram", GROUP)]
    assert [c[1][2] for c in to_group] == [told]
    (again,) = [c for c in port.calls if c[0] == "mediator" and c[1][0] == "whatsapp"]
    assert again[2]["template"]["force"] is True  # the window is shut: the template, not text
    assert [d.error_code for d in relay.deliveries.for_ticket(ticket.id, failed_only=True)] == [
        63016
    ]


async def test_63016_on_a_reply_to_a_person_sends_the_template_and_holds_it(
    sqlite_url: str, tmp_path: Path
):
    template = "HX" + "7" * 32
    handoff, relay, port = _world(sqlite_url, tmp_path, twilio_handoff_template_sid=template)
    sara = handoff.store.mediators.add("Sara", ["ar"], telegram_user_id="4242")
    ticket = handoff.request("wa-1", "whatsapp", "ar").ticket
    handoff.claim(ticket.id, sara)
    handoff.reply(ticket.id, sara, "مرحبا", "telegram:77")
    await relay.drain()
    (status,) = [d for d in relay.deliveries.for_ticket(ticket.id) if d.outbox_key == "m1:person"]
    update = relay.deliveries.record_status(status.message_sid, "undelivered", 63016)
    port.calls.clear()

    await relay.status_failed(update.status)
    await relay.drain()
    await relay.stop()  # status_failed woke the worker: let it finish its round

    assert [c[1] for c in port.calls if c[0] == "template"] == [("wa-1", template)]
    assert not [c for c in port.calls if c[0] == "person"]  # held, not sent again as text
    held = [r for r, state in handoff.store.outbox.rows("person", "wa-1") if state == "held"]
    assert [r.payload["text"] for r in held] == ["مرحبا"]
    told = mediator_text("delivery_failed", "it", ticket=ticket.label, reason="error 63016")
    assert told in [m.text for m in handoff.store.transcripts.messages(ticket.id)]


async def test_files_past_retention_are_purged_by_the_relay(sqlite_url: str, tmp_path: Path):
    handoff, relay, _ = _world(sqlite_url, tmp_path, media_retention_days=1)
    kept = relay.media.add(_spool(relay.media), person="wa-1", ticket_id=None)
    path = relay.media.path(kept)
    assert relay.purge() == 0 and path.is_file()  # within retention: kept
    assert relay.purge(now=time.time() + 2 * 86400) == 1
    assert not path.exists() and relay.media.get(kept.id) is None


async def test_the_relays_worker_purges_in_its_first_round(sqlite_url: str, tmp_path: Path):
    handoff, relay, port = _world(sqlite_url, tmp_path)
    kept = relay.media.add(_spool(relay.media), person="wa-1", ticket_id=None)
    with relay.media.engine.begin() as conn:  # as if kept past MEDIA_RETENTION_DAYS
        conn.execute(sa.update(t.media).values(expires_at=time.time() - 1))
    relay.start(port)
    try:
        for _ in range(100):
            if relay.media.get(kept.id) is None:
                break
            await asyncio.sleep(0.05)
    finally:
        await relay.stop()
    assert relay.media.get(kept.id) is None
    assert not relay.media.path(kept).exists()
