"""The relay (handoff.relay.Relay) against fake Twilio and Telegram servers on 127.0.0.1.

The relay sends through the channels' outbound port (``channels.outbound.ChannelOutbound``),
as it does in the server.

Each test builds a SQLite file database in tmp_path holding both the handoff tables
(HandoffStore) and the channel contacts (ChannelStore), registers mediators, creates people as
real contacts (as the WhatsApp and Telegram channels record them), opens and claims tickets
through ``Handoff`` and then drives ``await relay.drain()``; the assertions are on what the fake
platforms received and on the outbox rows' states.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import sqlalchemy as sa

# The fake platform servers live beside the channel tests (a folder without __init__.py whose
# conftest pytest puts on sys.path only when it collects that folder): do the same here.
_CHANNEL_TESTS = str(Path(__file__).resolve().parents[1] / "channels")
if _CHANNEL_TESTS not in sys.path:
    sys.path.insert(0, _CHANNEL_TESTS)

from channel_fakes import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    BOT_TOKEN,
    WEBHOOK_SECRET,
    WHATSAPP_NUMBER,
    FakeTelegram,
    FakeTwilio,
)

import handoff.outbox as outbox_module  # noqa: E402
from bot.messages import render  # noqa: E402
from bot.settings import Settings, get_settings  # noqa: E402
from channels import common  # noqa: E402
from channels.outbound import ChannelOutbound  # noqa: E402
from channels.store import ChannelStore, channel_contacts  # noqa: E402
from handoff import schema as t  # noqa: E402
from handoff.gate import Runtime, intercept  # noqa: E402
from handoff.records import Mediator, Ticket  # noqa: E402
from handoff.relay import SENT_BY_RELAY, Relay  # noqa: E402
from handoff.schema import CLOSED  # noqa: E402
from handoff.service import Handoff  # noqa: E402
from handoff.store import HandoffStore  # noqa: E402
from handoff.texts import mediator_text  # noqa: E402

GROUP_CHAT = "-1001234567890"  # TELEGRAM_MEDIATOR_CHAT_ID
TEMPLATE_SID = "HX" + "1" * 32
MEDIATOR_CHAT = 5550001  # the Telegram mediator's user id = their private chat with the bot
PERSON_WA = "whatsapp:+393331112233"
PERSON_TG = 12345
DRAIN_TIMEOUT = 20.0  # a relay that never stops draining fails the test instead of hanging it


async def drain(relay: Relay) -> int:
    return await asyncio.wait_for(relay.drain(), DRAIN_TIMEOUT)


# --- the world: fakes, environment, one database, stores, relays ------------------------------


@dataclass
class World:
    twilio: FakeTwilio
    telegram: FakeTelegram
    url: str
    settings: Settings
    store: HandoffStore
    contacts: ChannelStore
    handoff: Handoff
    relay: Relay
    _extra: list = field(default_factory=list)

    # people, as the channels record them when they write

    def whatsapp_person(self, address: str = PERSON_WA) -> str:
        person = common.pseudonym("wa", address)
        self.contacts.record_inbound(person, "whatsapp", address)
        return person

    def telegram_person(self, chat_id: int = PERSON_TG) -> str:
        person = common.pseudonym("tg", str(chat_id))
        self.contacts.record_inbound(person, "telegram", str(chat_id))
        return person

    def telegram_mediator(
        self, name: str = "Amina", user_id: int = MEDIATOR_CHAT, ui_language: str = "en"
    ) -> Mediator:
        return self.store.mediators.add(
            name, ["en"], telegram_user_id=str(user_id), ui_language=ui_language
        )

    def claimed_ticket(self, person: str, channel: str, mediator: Mediator) -> Ticket:
        ticket = self.handoff.request(person, channel, "en").ticket
        return self.handoff.claim(ticket.id, mediator).ticket

    def close_window(self, person: str, hours: float = 25.0) -> None:
        """The person last wrote ``hours`` ago."""
        with self.contacts.engine.begin() as conn:
            conn.execute(
                sa.update(channel_contacts)
                .where(channel_contacts.c.pseudonym == person)
                .values(last_inbound_at=time.time() - hours * 3600)
            )

    # another process on the same database

    def new_relay(self) -> Relay:
        store = HandoffStore(self.url)
        relay = Relay(
            Handoff(store, self.settings),
            ChannelOutbound(self.settings, self.contacts),
            self.settings,
        )
        self._extra.append((store, relay))
        return relay

    # what the fakes received

    def to_whatsapp(self, address: str) -> list[dict[str, str]]:
        return [m for m in self.twilio.messages if m["To"] == address]

    def bodies_to(self, address: str) -> list[str]:
        return [m.get("Body", "") for m in self.to_whatsapp(address)]

    def telegram_texts(self, chat_id: int | str) -> list[str]:
        return [
            str(p["text"])
            for p in self.telegram.methods("sendMessage")
            if int(p["chat_id"]) == int(chat_id)
        ]

    # the outbox

    def outbox(
        self, destination: str | None = None, address: str | None = None, kind: str | None = None
    ) -> list[dict]:
        query = sa.select(t.outbox).order_by(t.outbox.c.id)
        if destination:
            query = query.where(t.outbox.c.destination == destination)
        if address:
            query = query.where(t.outbox.c.address == address)
        with self.store.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        if kind:
            import json

            rows = [r for r in rows if json.loads(r["payload"]).get("kind") == kind]
        return rows

    def set_row(self, row_id: int, **values: object) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(sa.update(t.outbox).where(t.outbox.c.id == row_id).values(**values))

    async def settle(self, relay: Relay | None = None, timeout: float = 10.0) -> None:
        """Drain until no row the relay sends is due or in flight (a woken worker included)."""
        relay = relay or self.relay
        deadline = time.monotonic() + timeout
        while True:
            await drain(relay)
            now = outbox_module.time.time()
            with self.store.engine.connect() as conn:
                busy = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(t.outbox)
                    .where(
                        t.outbox.c.destination.in_(SENT_BY_RELAY),
                        sa.or_(
                            t.outbox.c.state == "sending",
                            sa.and_(t.outbox.c.state == "pending", t.outbox.c.due_at <= now),
                        ),
                    )
                ).scalar_one()
            if not busy:
                return
            assert time.monotonic() < deadline, "the outbox did not settle"
            await asyncio.sleep(0.02)


@pytest.fixture
async def world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[World]:
    twilio = await FakeTwilio().start()
    telegram = await FakeTelegram().start()
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": WHATSAPP_NUMBER,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "TELEGRAM_MEDIATOR_CHAT_ID": GROUP_CHAT,
        "MEDIATOR_GROUP_LANGUAGE": "it",
        "PSEUDONYM_SECRET": "relay-test-pseudonym-key",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'relay.db'}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("TWILIO_WEBHOOK_URL", "TWILIO_HANDOFF_TEMPLATE_SID"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    common.pseudonym_key.cache_clear()
    settings = get_settings()
    url = settings.database_url
    store = HandoffStore(url)
    contacts = ChannelStore(url)
    handoff = Handoff(store, settings)
    world = World(
        twilio,
        telegram,
        url,
        settings,
        store,
        contacts,
        handoff,
        Relay(handoff, ChannelOutbound(settings, contacts), settings),
    )
    try:
        yield world
    finally:
        for relay in [world.relay, *(r for _, r in world._extra)]:
            await stop(relay)
            await relay.outbound.aclose()
        for extra_store, _ in world._extra:
            extra_store.dispose()
        store.dispose()
        contacts.dispose()
        await twilio.stop()
        await telegram.stop()
        get_settings.cache_clear()
        common.pseudonym_key.cache_clear()


async def stop(relay: Relay) -> None:
    """``relay.stop()``, cancelling the worker again should a cancellation be lost (so a relay
    bug fails its test instead of hanging the teardown)."""
    stopping = asyncio.ensure_future(relay.stop())
    while not stopping.done():
        await asyncio.wait({stopping}, timeout=1.0)
        worker = relay._task
        if not stopping.done() and worker is not None and not worker.done():
            worker.cancel()
    await stopping


def use_template(world: World, sid: str | None) -> None:
    """Switch TWILIO_HANDOFF_TEMPLATE_SID for the relay (and the service) of ``world``."""
    settings = replace(world.settings, twilio_handoff_template_sid=sid)
    world.settings = settings
    world.handoff.settings = settings
    world.relay.settings = settings


# --- 1. both directions, in order, once -------------------------------------------------------


async def test_replies_reach_whatsapp_person_in_order_once_and_person_reaches_mediator(
    world: World,
) -> None:
    amina = world.telegram_mediator()
    person = world.whatsapp_person()
    ticket = world.claimed_ticket(person, "whatsapp", amina)
    replies = ["Ciao, sono Amina.", "Di quale documento hai bisogno?", "Ti aiuto io."]
    for n, text in enumerate(replies):
        world.handoff.reply(ticket.id, amina, text, f"telegram:{900 + n}")

    await world.settle()

    claimed = render("utter_handoff_claimed", "en", name="Amina")
    assert world.bodies_to(PERSON_WA) == [claimed, *replies]
    assert all(m["From"] == WHATSAPP_NUMBER for m in world.to_whatsapp(PERSON_WA))
    # Draining again, by this relay or by another process's, sends nothing more.
    assert await drain(world.relay) == 0
    assert await drain(world.new_relay()) == 0
    assert world.bodies_to(PERSON_WA) == [claimed, *replies]
    assert {r["state"] for r in world.outbox("person", person)} == {"sent"}

    said = ["Ho bisogno del permesso di soggiorno", "Sono a Bologna", "Grazie!"]
    for n, text in enumerate(said):
        world.contacts.record_inbound(person, "whatsapp", PERSON_WA)  # as the channel does
        assert world.handoff.person_wrote(person, text, f"whatsapp:SM{n}") is not None
    await world.settle()

    relayed = [x for x in world.telegram_texts(MEDIATOR_CHAT) if " › " in x]
    assert relayed == [
        mediator_text("person_says", "en", ticket=ticket.label, text=x) for x in said
    ]
    # In the mediator's private chat, not the group; and not back to the person.
    assert not [x for x in world.telegram_texts(GROUP_CHAT) if " › " in x]
    assert world.bodies_to(PERSON_WA) == [claimed, *replies]


# --- 2. the ticket card -------------------------------------------------------------------------


async def test_ticket_card_reaches_mediators_group_with_claim_button(world: World) -> None:
    amina = world.telegram_mediator()
    person = world.telegram_person()
    ticket = world.handoff.request(person, "telegram", "en", topic="permesso").ticket

    await world.settle()

    cards = [
        p for p in world.telegram.methods("sendMessage") if int(p["chat_id"]) == int(GROUP_CHAT)
    ]
    assert len(cards) == 1
    (card,) = cards
    assert ticket.label in str(card["text"])
    keyboard = card["reply_markup"]["inline_keyboard"]
    assert [[button["callback_data"] for button in row] for row in keyboard] == [
        [f"claim:{ticket.id}"]
    ]
    assert keyboard[0][0]["text"] == mediator_text("button_claim", "it", ticket=ticket.label)
    # With a group, a Telegram mediator gets no private copy of the card; the person nothing.
    assert world.telegram_texts(int(amina.telegram_user_id)) == []
    assert world.telegram_texts(PERSON_TG) == []
    assert {r["state"] for r in world.outbox()} == {"sent"}


async def test_the_group_card_shows_who_holds_it_and_loses_its_claim_button(
    world: World,
) -> None:
    """Issue #17: claim, release, transfer and close edit the one card; no new group card."""
    amina = world.telegram_mediator()
    olena = world.store.mediators.add("Olena", ["uk"], telegram_user_id="5550002")
    person = world.telegram_person()
    ticket = world.handoff.request(
        person, "telegram", "en", transcript=[("person", "my permit expired")]
    ).ticket
    await world.settle()
    group = int(GROUP_CHAT)
    (card,) = [p for p in world.telegram.methods("sendMessage") if int(p["chat_id"]) == group]
    (message_id,) = [m for c, m in world.telegram.shown if c == group]
    assert world.store.tickets.get(ticket.id).card_message_id == str(message_id)

    def shown() -> dict:
        return world.telegram.shown[(group, message_id)]

    world.handoff.claim(ticket.id, amina)
    await world.settle()
    assert shown()["text"].startswith("🔒 Presa da Amina · dalle ")  # the group reads Italian
    assert "my permit expired" in shown()["text"]
    assert "reply_markup" not in shown()  # the Claim button is gone

    world.handoff.release(ticket.id, amina)
    await world.settle()
    assert shown()["text"].startswith("↩️ Rilasciata da Amina")
    assert shown()["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == (
        f"claim:{ticket.id}"
    )

    world.handoff.claim(ticket.id, amina)
    world.handoff.transfer(ticket.id, world.store.mediators.get(amina.id), "uk")
    await world.settle()
    assert shown()["text"].startswith("↪️ Passata da Amina ai mediatori che parlano uk")
    assert "reply_markup" in shown()

    world.handoff.claim(ticket.id, olena)
    world.handoff.close(ticket.id, olena)
    await world.settle()
    assert shown()["text"].startswith("✔️ Chiusa da Olena")
    assert "my permit expired" not in shown()["text"]  # a closed card keeps no conversation
    assert "reply_markup" not in shown()
    world.handoff.reopen(ticket.id, world.store.mediators.get(olena.id))
    await world.settle()
    assert shown()["text"].startswith("🔒 Presa da Olena")
    # One card in the group all along, edited in place; every edit went through.
    group_sends = [p for p in world.telegram.methods("sendMessage") if int(p["chat_id"]) == group]
    assert group_sends == [card]
    assert len(world.telegram.methods("editMessageText")) == 7  # 3 claims, 4 other changes
    assert {r["state"] for r in world.outbox("telegram", GROUP_CHAT)} == {"sent"}


async def test_delete_my_data_wipes_the_group_card(world: World) -> None:
    amina = world.telegram_mediator()
    person = world.telegram_person()
    ticket = world.handoff.request(
        person, "telegram", "en", transcript=[("person", "my name is Joseph")]
    ).ticket
    world.handoff.claim(ticket.id, amina)
    await world.settle()
    ((group, message_id),) = [k for k in world.telegram.shown if k[0] == int(GROUP_CHAT)]
    assert "Joseph" in world.telegram.shown[(group, message_id)]["text"]

    assert world.handoff.erase(person) == 1
    await world.settle()
    assert world.telegram.shown[(group, message_id)]["text"] == mediator_text(
        "card_closed", "it", ticket=ticket.label
    )


# --- 3. WhatsApp's 24-hour window -----------------------------------------------------------------


async def test_late_reply_goes_as_template_then_held_replies_follow_when_person_writes(
    world: World,
) -> None:
    use_template(world, TEMPLATE_SID)
    amina = world.telegram_mediator(ui_language="en")
    person = world.whatsapp_person()
    ticket = world.claimed_ticket(person, "whatsapp", amina)
    await world.settle()
    before = len(world.to_whatsapp(PERSON_WA))  # the "mediator joined" notice
    world.close_window(person, hours=25)

    world.handoff.reply(ticket.id, amina, "Sei ancora lì?", "telegram:1")
    await world.settle()

    new = world.to_whatsapp(PERSON_WA)[before:]
    assert len(new) == 1
    assert new[0]["ContentSid"] == TEMPLATE_SID and "Body" not in new[0]
    told = mediator_text("delivered_as_template", "en", ticket=ticket.label)
    assert world.telegram_texts(MEDIATOR_CHAT).count(told) == 1
    (held,) = world.outbox("person", person, kind="relay")
    assert held["state"] == "held"

    # A second late reply: no second template (and no second notice).
    world.handoff.reply(ticket.id, amina, "Ti scrivo domani.", "telegram:2")
    await world.settle()
    assert len(world.to_whatsapp(PERSON_WA)) == before + 1
    assert world.telegram_texts(MEDIATOR_CHAT).count(told) == 1
    assert [r["state"] for r in world.outbox("person", person, kind="relay")] == ["held", "held"]

    # The person writes: the window reopens and the held replies go out, in order, with text.
    world.contacts.record_inbound(person, "whatsapp", PERSON_WA)
    world.handoff.person_wrote(person, "Eccomi", "whatsapp:SMback")
    await world.settle()

    after = world.to_whatsapp(PERSON_WA)[before + 1 :]
    assert [m.get("Body") for m in after] == ["Sei ancora lì?", "Ti scrivo domani."]
    assert not any("ContentSid" in m for m in after)
    assert [r["state"] for r in world.outbox("person", person, kind="relay")] == ["sent", "sent"]
    assert mediator_text("person_says", "en", ticket=ticket.label, text="Eccomi") in (
        world.telegram_texts(MEDIATOR_CHAT)
    )
    assert await drain(world.relay) == 0
    assert len(world.to_whatsapp(PERSON_WA)) == before + 3


async def test_late_reply_without_template_fails_and_mediator_is_told(world: World) -> None:
    use_template(world, None)
    amina = world.telegram_mediator(ui_language="it")
    person = world.whatsapp_person()
    ticket = world.claimed_ticket(person, "whatsapp", amina)
    await world.settle()
    before = len(world.to_whatsapp(PERSON_WA))
    world.close_window(person, hours=25)

    world.handoff.reply(ticket.id, amina, "Sei ancora lì?", "telegram:1")
    await world.settle()

    assert len(world.to_whatsapp(PERSON_WA)) == before  # nothing reached the person
    told = mediator_text("window_closed_failed", "it", ticket=ticket.label)
    assert world.telegram_texts(MEDIATOR_CHAT).count(told) == 1
    (row,) = world.outbox("person", person, kind="relay")
    assert row["state"] == "failed" and row["error"]
    # The report is kept in the transcript too (the desk shows it).
    transcript = world.store.transcripts.messages(ticket.id)
    assert told in [m.text for m in transcript if m.author == "system"]


async def test_mediator_is_told_even_when_a_notice_already_triggered_the_template(
    world: World,
) -> None:
    """The ticket waited over 24 hours: the "mediator joined" notice is what meets the closed
    window and sends the template; the mediator's first reply is then held, and they are told."""
    use_template(world, TEMPLATE_SID)
    amina = world.telegram_mediator(ui_language="en")
    person = world.whatsapp_person()
    ticket = world.handoff.request(person, "whatsapp", "en").ticket
    await world.settle()
    world.close_window(person, hours=25)
    world.handoff.claim(ticket.id, amina)
    await world.settle()
    assert [m.get("ContentSid") for m in world.to_whatsapp(PERSON_WA)] == [TEMPLATE_SID]

    world.handoff.reply(ticket.id, amina, "Buongiorno, sono Amina.", "telegram:1")
    world.handoff.reply(ticket.id, amina, "Mi scrivi quando puoi?", "telegram:2")
    await world.settle()

    assert len(world.to_whatsapp(PERSON_WA)) == 1  # no second template
    told = mediator_text("delivered_as_template", "en", ticket=ticket.label)
    assert world.telegram_texts(MEDIATOR_CHAT).count(told) == 1
    assert {r["state"] for r in world.outbox("person", person)} == {"held"}

    world.contacts.record_inbound(person, "whatsapp", PERSON_WA)
    world.handoff.person_wrote(person, "Eccomi", "whatsapp:SMback")
    await world.settle()
    assert world.bodies_to(PERSON_WA)[1:] == [
        render("utter_handoff_claimed", "en", name="Amina"),
        "Buongiorno, sono Amina.",
        "Mi scrivi quando puoi?",
    ]


async def test_template_refused_for_a_moment_is_retried_not_given_up(world: World) -> None:
    """Twilio is down when the template should go: the reply is retried (template first), not
    failed; once Twilio is back the template goes and the mediator hears what happened."""
    use_template(world, TEMPLATE_SID)
    amina = world.telegram_mediator(ui_language="en")
    person = world.whatsapp_person()
    ticket = world.claimed_ticket(person, "whatsapp", amina)
    await world.settle()
    before = len(world.to_whatsapp(PERSON_WA))
    world.close_window(person, hours=25)
    world.twilio.fail_with = (503, 20500)

    world.handoff.reply(ticket.id, amina, "Sei ancora lì?", "telegram:1")
    assert await drain(world.relay) == 1
    (row,) = world.outbox("person", person, kind="relay")
    assert row["state"] == "pending"
    assert world.store.tickets.get(ticket.id).template_sent_at is None

    world.twilio.fail_with = None
    world.set_row(row["id"], due_at=time.time() - 1)
    await world.settle()
    new = world.to_whatsapp(PERSON_WA)[before:]
    assert [m.get("ContentSid") for m in new] == [TEMPLATE_SID]
    assert (
        world.telegram_texts(MEDIATOR_CHAT).count(
            mediator_text("delivered_as_template", "en", ticket=ticket.label)
        )
        == 1
    )
    assert not [x for x in world.telegram_texts(MEDIATOR_CHAT) if "NOT delivered" in x]
    (row,) = world.outbox("person", person, kind="relay")
    assert row["state"] == "held"


# --- 4. a Telegram person who blocked the bot ---------------------------------------------------


async def test_blocked_telegram_person_fails_the_row_and_mediator_is_told(world: World) -> None:
    amina = world.telegram_mediator(ui_language="en")
    person = world.telegram_person(PERSON_TG)
    ticket = world.claimed_ticket(person, "telegram", amina)
    await world.settle()
    assert world.telegram_texts(PERSON_TG) == [render("utter_handoff_claimed", "en", name="Amina")]
    world.telegram.blocked_chats.add(PERSON_TG)

    world.handoff.reply(ticket.id, amina, "Are you there?", "telegram:1")
    await world.settle()

    # One attempt (a 403 is final), refused by Telegram.
    assert world.telegram_texts(PERSON_TG)[1:] == ["Are you there?"]
    (row,) = world.outbox("person", person, kind="relay")
    assert row["state"] == "failed"
    assert "blocked" in row["error"]
    told = mediator_text("delivery_failed", "en", ticket=ticket.label, reason=row["error"])
    assert world.telegram_texts(MEDIATOR_CHAT).count(told) == 1
    assert await drain(world.relay) == 0
    assert len(world.telegram_texts(PERSON_TG)) == 2


async def test_a_mediator_who_never_pressed_start_is_listed_as_unreachable(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue #17: Telegram's 403 "bot can't initiate conversation" is no longer only logged."""
    from app.cli import main
    from handoff.store import get_handoff_store

    amina = world.telegram_mediator()
    world.telegram.never_started.add(MEDIATOR_CHAT)
    world.claimed_ticket(world.telegram_person(), "telegram", amina)  # "you now hold …" refused
    await world.settle()

    (row,) = world.outbox("telegram", str(MEDIATOR_CHAT))
    assert row["state"] == "failed" and "can't initiate conversation" in row["error"]
    since = world.store.mediators.get(amina.id).unreachable_since
    assert since is not None and abs(since - time.time()) < 60
    get_handoff_store.cache_clear()
    assert main(["handoff", "mediator", "list"]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if "Amina" in x]
    assert "UNREACHABLE on Telegram since" in line and "Start" in line

    # The group (not a mediator) refusing changes no mediator; a later refusal keeps "since".
    world.handoff.request(world.whatsapp_person(), "whatsapp", "en")
    await world.settle()
    assert world.store.mediators.get(amina.id).unreachable_since == since
    get_handoff_store.cache_clear()


# --- 5. platform trouble: retried, not failed ---------------------------------------------------


class FrozenClock:
    """Stands in for ``time`` in handoff.store: a fixed instant, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


async def test_twilio_503_is_retried_later_then_delivered_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    amina = world.telegram_mediator(ui_language="en")
    person = world.whatsapp_person()
    ticket = world.claimed_ticket(person, "whatsapp", amina)
    await world.settle()
    before = len(world.to_whatsapp(PERSON_WA))
    clock = FrozenClock()
    monkeypatch.setattr(outbox_module, "time", clock)
    world.twilio.fail_with = (503, 20500)

    world.handoff.reply(ticket.id, amina, "Ci sei?", "telegram:1")
    assert await drain(world.relay) == 1

    (row,) = world.outbox("person", person, kind="relay")
    assert row["state"] == "pending", row
    assert row["due_at"] > clock.now
    assert "503" in (row["error"] or "")
    assert len(world.to_whatsapp(PERSON_WA)) == before
    # Not due yet: nothing is taken; the mediator is not told of a failure.
    assert await drain(world.relay) == 0
    assert not [x for x in world.telegram_texts(MEDIATOR_CHAT) if "NOT delivered" in x]

    world.twilio.fail_with = None
    clock.now += 120
    assert await drain(world.relay) == 1
    assert world.bodies_to(PERSON_WA)[before:] == ["Ci sei?"]
    (row,) = world.outbox("person", person, kind="relay")
    assert row["state"] == "sent"
    assert await drain(world.relay) == 0
    assert await drain(world.new_relay()) == 0
    assert world.bodies_to(PERSON_WA)[before:] == ["Ci sei?"]


# --- 6. restarts ---------------------------------------------------------------------------------


async def test_row_abandoned_while_sending_is_delivered_once_after_the_lease(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    amina = world.telegram_mediator()
    person = world.whatsapp_person()
    ticket = world.claimed_ticket(person, "whatsapp", amina)
    await world.settle()
    before = len(world.to_whatsapp(PERSON_WA))
    world.handoff.reply(ticket.id, amina, "Messaggio dopo il riavvio", "telegram:1")

    # A relay claims the row and dies before sending it.
    (taken,) = world.store.outbox.take_due(50, SENT_BY_RELAY)
    assert taken.payload["text"] == "Messaggio dopo il riavvio"
    (row,) = world.outbox("person", person, kind="relay")
    assert row["state"] == "sending"

    # A new process: within the lease the row may still be in flight, so it is left alone.
    restarted = world.new_relay()
    assert await drain(restarted) == 0
    assert len(world.to_whatsapp(PERSON_WA)) == before

    # The lease has run out: it is sent, once.
    world.set_row(row["id"], claimed_at=time.time() - outbox_module.SENDING_LEASE_SECONDS - 1)
    assert await drain(restarted) == 1
    assert world.bodies_to(PERSON_WA)[before:] == ["Messaggio dopo il riavvio"]
    (row,) = world.outbox("person", person, kind="relay")
    assert row["state"] == "sent"

    # Yet another process, with no lease at all: a sent row is never sent again.
    monkeypatch.setattr(outbox_module, "SENDING_LEASE_SECONDS", 0.0)
    assert await drain(world.new_relay()) == 0
    assert await drain(restarted) == 0
    assert world.bodies_to(PERSON_WA)[before:] == ["Messaggio dopo il riavvio"]


# --- 7. the gate in front of Rasa -----------------------------------------------------------------


async def test_gate_relays_cancels_and_takes_the_rating(world: World) -> None:
    runtime = Runtime(world.handoff, world.relay)
    amina = world.telegram_mediator(ui_language="en")
    person = world.telegram_person(PERSON_TG)
    ticket = world.claimed_ticket(person, "telegram", amina)
    await world.settle()

    text = "Mi serve aiuto con il permesso"
    assert await intercept(None, person, "telegram", text, "telegram:1001", runtime=runtime) is True
    await world.settle()
    says = mediator_text("person_says", "en", ticket=ticket.label, text=text)
    assert world.telegram_texts(MEDIATOR_CHAT).count(says) == 1

    # The platform delivers the same message again: taken, not relayed twice.
    assert await intercept(None, person, "telegram", text, "telegram:1001", runtime=runtime) is True
    await world.settle()
    assert world.telegram_texts(MEDIATOR_CHAT).count(says) == 1
    assert [
        m.text for m in world.store.transcripts.messages(ticket.id) if m.author == "person"
    ].count(text) == 1

    # "Back to the assistant": the ticket closes and the mediator is told.
    assert (
        await intercept(
            None, person, "telegram", "/handoff_cancel", "telegram:1002", runtime=runtime
        )
        is True
    )
    await world.settle()
    assert world.store.tickets.get(ticket.id).status == CLOSED
    assert mediator_text("person_cancelled", "en", ticket=ticket.label) in (
        world.telegram_texts(MEDIATOR_CHAT)
    )
    assert render("utter_handoff_cancelled", "en") in world.telegram_texts(PERSON_TG)

    # A second ticket, closed by the mediator: the next "4" is the rating.
    second = world.claimed_ticket(person, "telegram", amina)
    assert second.id != ticket.id
    world.handoff.close(second.id, amina)
    await world.settle()
    assert await intercept(None, person, "telegram", "4", "telegram:1003", runtime=runtime) is True
    assert world.store.tickets.get(second.id).rating == 4
    await world.settle()
    assert mediator_text("person_rated", "en", ticket=second.label, rating=4) in (
        world.telegram_texts(MEDIATOR_CHAT)
    )

    # The bot is back: an ordinary message goes to Rasa and to no mediator.
    relayed = len(world.telegram_texts(MEDIATOR_CHAT))
    assert (
        await intercept(
            None, person, "telegram", "Che documenti servono?", "telegram:1004", runtime=runtime
        )
        is False
    )
    await world.settle()
    assert len(world.telegram_texts(MEDIATOR_CHAT)) == relayed
    assert world.store.tickets.get(second.id).rating == 4


# --- 8. stopping ------------------------------------------------------------------------------


async def test_stop_right_after_a_wake_stops_the_worker(world: World) -> None:
    """A message queued just before shutdown (``wake()``) must not keep the worker alive: on
    Python 3.10 ``asyncio.wait_for`` swallows a cancellation that meets a completed wait."""
    world.relay.start()
    worker = world.relay._task
    assert worker is not None
    deadline = time.monotonic() + 5
    while not getattr(world.relay._event, "_waiters", None):  # idle, waiting to be woken
        assert time.monotonic() < deadline, "the worker never went idle"
        await asyncio.sleep(0.01)

    world.relay.wake()
    stopping = asyncio.ensure_future(world.relay.stop())
    done, _ = await asyncio.wait({stopping}, timeout=3.0)

    assert stopping in done, "Relay.stop() did not return: the worker ignored its cancellation"
    assert worker.done()


async def test_a_mediators_file_is_copied_to_a_telegram_person_and_refused_for_whatsapp(
    world: World,
) -> None:
    amina = world.telegram_mediator(ui_language="en")
    on_telegram = world.claimed_ticket(world.telegram_person(), "telegram", amina)
    copy = {"from_chat_id": MEDIATOR_CHAT, "message_id": 77}

    world.handoff.reply(on_telegram.id, amina, "the form", "telegram:900", copy)
    await world.settle()

    (copied,) = world.telegram.methods("copyMessage")
    assert int(copied["chat_id"]) == PERSON_TG
    assert int(copied["from_chat_id"]) == MEDIATOR_CHAT and int(copied["message_id"]) == 77

    marco = world.telegram_mediator("Marco", user_id=MEDIATOR_CHAT + 1, ui_language="en")
    on_whatsapp = world.claimed_ticket(world.whatsapp_person(), "whatsapp", marco)
    world.handoff.reply(
        on_whatsapp.id,
        marco,
        "the form",
        "telegram:901",
        {"from_chat_id": MEDIATOR_CHAT + 1, "message_id": 78},
    )
    await world.settle()

    assert "the form" not in world.bodies_to(PERSON_WA)
    assert any(
        t.startswith(f"Ticket {on_whatsapp.label}: NOT delivered")
        for t in world.telegram_texts(MEDIATOR_CHAT + 1)
    )
