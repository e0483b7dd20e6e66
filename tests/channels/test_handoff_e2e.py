"""The whole mediator loop through the real assistant, fake Twilio and Telegram, real PostgreSQL.

One stack (`bot run`) serves both scenarios, then is restarted in the middle of a claimed
conversation:

- a WhatsApp person asks for a mediator → card in the Telegram mediators' group → a mediator
  claims it → messages both ways, in order, a redelivered webhook relayed once → the mediator
  closes → the person is asked for a rating, rates, and the bot answers again;
- the card in the group is edited as the ticket changes: who holds it and since when, the Claim
  button gone once claimed, the conversation gone once closed (issue #17);
- a Telegram person and a WhatsApp mediator, with the same commands; the mediator first adds
  Ukrainian to their languages by a WhatsApp command, and only then gets Ukrainian cards
  (Sara, who speaks it, is in the group); Sara, marked unreachable on Telegram, is no longer
  once she writes to the bot in private;
- a reply to a WhatsApp person silent for over 24 hours goes out as the approved template and
  reaches them when they write again;
- a restart of Rasa and the action server while a conversation is claimed loses nothing and
  repeats nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import aiohttp
import pytest
import sqlalchemy as sa
from channel_fakes import (
    WEBHOOK_SECRET,
    FakeTelegram,
    FakeTwilio,
    start_stack,
    telegram_callback_update,
    telegram_text_update,
    twilio_form,
    twilio_signed,
)

from bot.messages import render
from bot.settings import PROJECT_ROOT
from bot.training import model_path
from handoff.store import HandoffStore
from handoff.texts import mediator_text
from tests.databases import postgres_database

pytestmark = pytest.mark.e2e

GROUP = -1001234567890
SARA = 4242  # Telegram mediator
MARCO = "whatsapp:+393330000002"  # WhatsApp mediator
PERSON_WA = "whatsapp:+393331110001"
PERSON_TG = 555000222
TEMPLATE = "HX" + "a" * 32


class Platforms:
    """Webhook calls to the stack, and what the fakes received."""

    def __init__(self, http: aiohttp.ClientSession, twilio: FakeTwilio, telegram: FakeTelegram):
        self.http, self.twilio, self.telegram = http, twilio, telegram
        self.base_url = ""

    async def whatsapp(
        self, sender: str, body: str | None, sid: str | None = None, **extra: str
    ) -> None:
        url = self.base_url + "/webhooks/whatsapp/webhook"
        data, headers = twilio_signed(url, twilio_form(body, sender=sender, sid=sid, **extra))
        async with self.http.post(url, data=data, headers=headers) as resp:
            assert resp.status == 200

    async def whatsapp_file(self, sender: str, content: bytes, content_type: str) -> None:
        url = self.twilio.add_media(content, content_type)
        await self.whatsapp(sender, "", NumMedia="1", MediaUrl0=url, MediaContentType0=content_type)

    async def telegram_update(self, update: dict) -> None:
        async with self.http.post(
            self.base_url + "/webhooks/telegram/webhook",
            data=json.dumps(update),
            headers={
                "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                "Content-Type": "application/json",
            },
        ) as resp:
            assert resp.status == 200

    def messages_to_whatsapp(self, address: str) -> list[dict[str, str]]:
        return [m for m in self.twilio.messages if m["To"] == address]

    def to_whatsapp(self, address: str) -> list[str]:
        return [m.get("Body", "") for m in self.messages_to_whatsapp(address)]

    def to_chat(self, chat_id: int) -> list[dict]:
        return self.uploads("sendMessage", chat_id)

    def chat_texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.to_chat(chat_id)]

    def uploads(self, method: str, chat_id: int) -> list[dict]:
        """What the fake Telegram received by ``method`` (sendPhoto, sendVoice...) for a chat."""
        return [m for m in self.telegram.methods(method) if int(m["chat_id"]) == chat_id]


async def eventually(read, predicate, what: str, timeout: float = 30.0):
    """Wait until ``predicate(read())`` holds; fail showing what was there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if predicate(value):
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: never happened; last seen:\n{read()}")


def has(needle: str):
    return lambda texts: any(needle in t for t in texts)


def ticket_number(text: str) -> int:
    match = re.search(r"#(\d+)", text)
    assert match, text
    return int(match.group(1))


async def test_mediator_loop_both_ways_with_restart():
    assert model_path().exists(), "no trained model for the current inputs: run `make train`"
    twilio, telegram = await FakeTwilio().start(), await FakeTelegram().start()
    env = {
        "TELEGRAM_MEDIATOR_CHAT_ID": str(GROUP),
        "TWILIO_HANDOFF_TEMPLATE_SID": TEMPLATE,
        "HANDOFF_DEFAULT_WAIT_MINUTES": "15",
    }
    with postgres_database("handoff_e2e") as url:
        store = HandoffStore(url)
        store.mediators.add("Sara", ["ar", "en", "it", "uk"], telegram_user_id=str(SARA))
        store.mediators.add("Marco", ["ru"], whatsapp=MARCO, ui_language="en")
        # As if Telegram had refused to write to Sara before she pressed Start.
        store.mediators.set_unreachable(str(SARA), time.time() - 3600)
        stack = await start_stack(PROJECT_ROOT, twilio, telegram, url, extra_env=env)
        try:
            async with aiohttp.ClientSession() as http:
                io = Platforms(http, twilio, telegram)
                io.base_url = stack.base_url
                ticket = await whatsapp_person_telegram_mediator(io, store)
                await telegram_person_whatsapp_mediator(io)

                # --- restart in the middle of a claimed conversation -----------------------
                seen = len(io.to_whatsapp(PERSON_WA))
                await io.whatsapp(PERSON_WA, "I want to talk to a mediator")
                opened = await eventually(
                    lambda: io.to_whatsapp(PERSON_WA)[seen:], has("#"), "second ticket"
                )
                second = ticket_number(opened[-1])
                assert second != ticket
                await io.telegram_update(telegram_callback_update(f"claim:{second}", chat_id=SARA))
                await eventually(lambda: io.chat_texts(SARA), has(f"#{second}"), "claim")
                # The person's "Sara has joined" goes out in the same relay round; under load
                # it can still be on its way, and would then arrive after the restart.
                await eventually(
                    lambda: io.to_whatsapp(PERSON_WA)[seen:], has("Sara"), "claim notice"
                )
                before_person = len(io.to_whatsapp(PERSON_WA))
                before_sara = len(io.chat_texts(SARA))
                await stack.stop()
                # While everything is down: a reply the desk stored (queued, not yet sent) and
                # a Telegram update that Telegram will deliver again after the restart.
                from handoff.service import Handoff

                sara = store.mediators.by_name("Sara")
                Handoff(store).reply(second, sara, "stored while down", "desk:restart-1")
                redelivered = telegram_text_update(
                    "sent during the restart", chat_id=SARA, language="it"
                )
                stack = await start_stack(PROJECT_ROOT, twilio, telegram, url, extra_env=env)
                io.base_url = stack.base_url
                await io.telegram_update(redelivered)
                await io.telegram_update(redelivered)  # Telegram retrying
                texts = await eventually(
                    lambda: io.to_whatsapp(PERSON_WA)[before_person:],
                    lambda t: "sent during the restart" in t,
                    "replies after the restart",
                )
                await asyncio.sleep(2)  # room for a wrong repeat
                after = io.to_whatsapp(PERSON_WA)[before_person:]
                assert after == ["stored while down", "sent during the restart"], after
                assert len(io.chat_texts(SARA)) == before_sara  # nothing re-sent to Sara
                await io.whatsapp(PERSON_WA, "still there?")
                await eventually(
                    lambda: io.chat_texts(SARA), has("still there?"), "person after restart"
                )
                assert texts
        finally:
            await stack.stop()
            store.dispose()
            await twilio.stop()
            await telegram.stop()


async def whatsapp_person_telegram_mediator(io: Platforms, store: HandoffStore) -> int:
    await io.whatsapp(PERSON_WA, "I want to talk to a mediator")
    opened = await eventually(lambda: io.to_whatsapp(PERSON_WA), has("#"), "ticket opened")
    ticket = ticket_number(opened[-1])
    assert opened[-1].startswith(
        render("utter_handoff_opened", "en", ticket=f"#{ticket}", wait="15 minutes").split("(")[0]
    )
    cards = await eventually(lambda: io.to_chat(GROUP), lambda c: len(c) >= 1, "group card")
    keyboard = cards[-1]["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0]["callback_data"] == f"claim:{ticket}"
    assert "I want to talk to a mediator" in cards[-1]["text"]

    # The person writes before anyone claims: kept for the mediator, the bot stays quiet.
    await io.whatsapp(PERSON_WA, "is anyone there?")
    await eventually(
        lambda: [m.text for m in store.transcripts.messages(ticket)],
        has("is anyone there?"),
        "message kept in the ticket",
    )
    await io.telegram_update(telegram_callback_update(f"claim:{ticket}", chat_id=SARA))
    claimed = await eventually(lambda: io.chat_texts(SARA), has(f"#{ticket}"), "claim")
    assert "is anyone there?" in claimed[-1]  # the conversation so far
    # The card in the group now says who holds it, and its Claim button is gone.
    ((_, card_id),) = [k for k in io.telegram.shown if k[0] == GROUP]
    card = await eventually(
        lambda: io.telegram.shown[(GROUP, card_id)],
        lambda m: m["text"].startswith("🔒"),
        "card edited on claim",
    )
    assert "Sara" in card["text"].splitlines()[0] and "reply_markup" not in card
    await eventually(lambda: io.to_whatsapp(PERSON_WA), has("Sara"), "person told")
    # A second claim (another mediator, or the same button twice) does not take it over.
    await io.telegram_update(telegram_callback_update(f"claim:{ticket}", chat_id=SARA))
    await eventually(
        lambda: io.telegram.methods("answerCallbackQuery"),
        lambda a: len(a) >= 2,
        "second claim answered",
    )
    assert store.tickets.get(ticket).mediator_id == store.mediators.by_name("Sara").id
    # A Claim press in the group proves nothing about her private chat: still unreachable.
    assert store.mediators.by_name("Sara").unreachable_since is not None

    # Both ways, in order; a webhook Twilio delivers twice is relayed once.
    sid = "SM" + "d" * 32
    for n in range(1, 4):
        await io.whatsapp(PERSON_WA, f"message {n}", sid=sid if n == 2 else None)
        if n == 2:
            await io.whatsapp(PERSON_WA, "message 2", sid=sid)
    relayed = await eventually(lambda: io.chat_texts(SARA), has("message 3"), "relay to Sara")
    person_lines = [t for t in relayed if t.startswith(f"#{ticket} › message")]
    assert person_lines == [f"#{ticket} › message {n}" for n in (1, 2, 3)]
    before = len(io.to_whatsapp(PERSON_WA))
    for text in ("reply A", "reply B", "reply C"):
        await io.telegram_update(telegram_text_update(text, chat_id=SARA, language="it"))
    got = await eventually(
        lambda: io.to_whatsapp(PERSON_WA)[before:], lambda t: len(t) >= 3, "relay to the person"
    )
    assert got == ["reply A", "reply B", "reply C"]  # the bot said nothing in between
    # She wrote to the bot in private: Telegram lets it write to her, no longer unreachable.
    assert store.mediators.by_name("Sara").unreachable_since is None

    # 24 hours of silence: the reply goes as the template, and arrives when the person writes.
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE channel_contacts SET last_inbound_at = :t "
                "WHERE channel = 'whatsapp' AND address = :a"
            ),
            {"t": time.time() - 25 * 3600, "a": PERSON_WA},
        )
    await io.telegram_update(telegram_text_update("late reply", chat_id=SARA, language="it"))
    await eventually(
        lambda: [m for m in io.twilio.messages if m.get("ContentSid") == TEMPLATE],
        lambda m: len(m) == 1,
        "template sent",
    )
    await eventually(
        lambda: io.chat_texts(SARA),
        has(mediator_text("delivered_as_template", "it", ticket=f"#{ticket}")),
        "mediator told about the template",
    )
    assert "late reply" not in io.to_whatsapp(PERSON_WA)
    await io.whatsapp(PERSON_WA, "I am back")
    await eventually(lambda: io.to_whatsapp(PERSON_WA), has("late reply"), "held reply")

    # Close: the person is asked for a rating, rates, and the bot is back.
    await io.telegram_update(telegram_text_update("/close", chat_id=SARA, language="it"))
    rating_question = render("utter_handoff_closed", "en")
    await eventually(lambda: io.to_whatsapp(PERSON_WA), has(rating_question), "rating asked")
    await io.whatsapp(PERSON_WA, "5")
    await eventually(
        lambda: io.to_whatsapp(PERSON_WA),
        has(render("utter_handoff_rated", "en")),
        "thanks for the rating",
    )
    assert store.tickets.get(ticket).rating == 5
    closed_card = io.telegram.shown[(GROUP, card_id)]
    assert closed_card["text"].startswith("✔️") and "Sara" in closed_card["text"]
    assert "is anyone there?" not in closed_card["text"]
    assert len(io.to_chat(GROUP)) == 1  # one card, edited; no notices after it
    await io.whatsapp(PERSON_WA, "how do I renew my permesso di soggiorno? I live in Bari")
    await eventually(lambda: io.to_whatsapp(PERSON_WA), has("Questura di Bari"), "bot is back")
    return ticket


async def telegram_person_whatsapp_mediator(io: Platforms) -> None:
    # Marco speaks Russian only, and Sara speaks Ukrainian: he would get no Ukrainian card.
    await io.whatsapp(MARCO, "languages ru uk")
    await eventually(lambda: io.to_whatsapp(MARCO), has("languages ru uk ·"), "profile changed")
    await io.telegram_update(
        telegram_text_update("Мені потрібен медіатор", chat_id=PERSON_TG, language="uk")
    )
    opened = await eventually(lambda: io.chat_texts(PERSON_TG), has("#"), "ticket opened")
    ticket = ticket_number(opened[-1])
    card = await eventually(lambda: io.to_whatsapp(MARCO), has(f"claim {ticket}"), "card")
    assert "uk" in card[-1]
    await io.whatsapp(MARCO, f"claim {ticket}")
    await eventually(lambda: io.chat_texts(PERSON_TG), has("Marco"), "person told")
    await io.telegram_update(telegram_text_update("Доброго дня", chat_id=PERSON_TG, language="uk"))
    await eventually(lambda: io.to_whatsapp(MARCO), has(f"#{ticket} › Доброго дня"), "relay")
    await io.whatsapp(MARCO, f"#{ticket} Добрий день, я Марко")
    await eventually(lambda: io.chat_texts(PERSON_TG), has("Добрий день, я Марко"), "reply")
    await io.whatsapp(MARCO, f"close {ticket}")
    closed = await eventually(
        lambda: io.to_chat(PERSON_TG), lambda m: m and m[-1].get("reply_markup"), "rating asked"
    )
    buttons = closed[-1]["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in buttons] == ["1", "2", "3", "4", "5"]
