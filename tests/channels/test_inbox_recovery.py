"""At least once, never twice: failed turns retried, dead instances' deliveries taken over,
replies already sent skipped, the database's absence bridged by the local spool.

The channel runs in the test harness (a scripted bot instead of Rasa) with the inbox's timings
shortened; the whole assistant under real faults is tests/faults/.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from channel_fakes import twilio_form, twilio_signed
from channel_harness import ScriptedBot, serve
from sqlalchemy.exc import OperationalError

from bot.settings import get_settings
from channels import inbox as inbox_module
from channels import store as store_module
from channels.replies import digest
from channels.spool import Spool
from channels.store import DONE, channel_inbox

PERSON = "whatsapp:+393331234567"


@pytest.fixture
def quick(monkeypatch):
    """Retries, recovery rounds and leases in fractions of a second."""
    monkeypatch.setattr(inbox_module, "RETRY_DELAYS", (0.05,))
    monkeypatch.setattr(inbox_module, "RECOVERY_SECONDS", 0.05)
    monkeypatch.setattr(store_module, "LEASE_SECONDS", 0.3)


async def post(served, form):
    body, headers = twilio_signed(served.url + "webhook", form)
    async with served.http.post(served.url + "webhook", data=body, headers=headers) as resp:
        return resp.status


def state_of(store, sid: str) -> str | None:
    with store.engine.connect() as conn:
        return (
            conn.execute(channel_inbox.select().where(channel_inbox.c.delivery_id == sid))
            .first()
            .state
        )


async def until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


class Flaky(ScriptedBot):
    """Sends two parts, then fails, ``failures`` times; then answers in three parts."""

    def __init__(self, failures: int, error: BaseException | None = None):
        super().__init__()
        self.failures = failures
        self.error = error or OperationalError("SELECT", {}, Exception("server closed"))

    async def __call__(self, message):
        self.received.append(message)
        out = message.output_channel
        await out.send_text_message(message.sender_id, "one")
        await out.send_text_message(message.sender_id, "two")
        if self.failures:
            self.failures -= 1
            raise self.error
        await out.send_text_message(message.sender_id, "three")


async def whatsapp_with(bot, store, start: bool = True):
    from channels.whatsapp import WhatsAppInput

    return await serve(WhatsAppInput(get_settings(), store=store), store, bot)


@pytest.mark.parametrize("error", ["database", "action server"])
async def test_a_failed_turn_is_retried_and_sends_nothing_twice(
    channel_env, store, twilio_api, quick, error
):
    from bot.rasa_outages import TurnInterrupted

    bot = Flaky(2, TurnInterrupted("action server unreachable") if error != "database" else None)
    served, stop = await whatsapp_with(bot, store)
    try:
        assert await post(served, twilio_form("ciao", sender=PERSON, sid="SM" + "1" * 32)) == 200
        await twilio_api.wait_for(3)
        await until(lambda: state_of(store, "SM" + "1" * 32) == DONE)
        assert [m["Body"] for m in twilio_api.messages] == ["one", "two", "three"]
        assert len(bot.received) == 3
        assert [m.sender_id for m in bot.received] == [bot.received[0].sender_id] * 3
    finally:
        await stop()


def leave_as_dead_instance(
    store, sid: str, payload: dict, sent: list[str], unsure: str | None = None, age: float = 60.0
) -> None:
    """The rows a process killed in the middle of this delivery's turn leaves behind."""
    claimed = store.claim("whatsapp", sid, payload)
    assert claimed is not None
    for part, text in enumerate(sent):
        store.begin_reply("whatsapp", sid, part, 1, digest(text))
        store.reply_sent("whatsapp", sid, part)
    if unsure is not None:
        store.begin_reply("whatsapp", sid, len(sent), 1, digest(unsure))
    with store.engine.begin() as conn:
        conn.execute(
            channel_inbox.update()
            .where(channel_inbox.c.delivery_id == sid)
            .values(claimed_at=time.time() - age)
        )


def job(text: str, sid: str) -> dict:
    return {
        "sid": sid,
        "from": PERSON,
        "order_key": PERSON,
        "text": text,
        "media_types": [],
        "location": False,
    }


async def test_a_running_instance_takes_over_what_a_dead_one_left_half_sent(
    channel_env, store, twilio_api, quick
):
    sid = "SM" + "2" * 32
    leave_as_dead_instance(store, sid, job("ciao", sid), sent=["one"])
    served, stop = await whatsapp_with(Flaky(0), store)
    try:
        await twilio_api.wait_for(2)
        await until(lambda: state_of(store, sid) == DONE)
        await asyncio.sleep(0.2)
        assert [m["Body"] for m in twilio_api.messages] == ["two", "three"]
    finally:
        await stop()


@pytest.mark.parametrize("twilio_has_it", [True, False])
async def test_the_part_a_crash_left_in_doubt_is_sent_only_if_twilio_lacks_it(
    channel_env, store, twilio_api, quick, twilio_has_it
):
    from channel_fakes import WHATSAPP_NUMBER

    sid = "SM" + "3" * 32
    leave_as_dead_instance(store, sid, job("ciao", sid), sent=["one"], unsure="two")
    if twilio_has_it:  # the call went through; the process died before recording it
        twilio_api.record({"To": PERSON, "From": WHATSAPP_NUMBER, "Body": "two"})
    served, stop = await whatsapp_with(Flaky(0), store)
    try:
        await until(lambda: state_of(store, sid) == DONE)
        await asyncio.sleep(0.2)
        assert [m["Body"] for m in twilio_api.messages] == ["two", "three"]
    finally:
        await stop()


async def test_with_the_database_down_messages_wait_on_disk_and_are_answered_in_order(
    channel_env, store, twilio_api, quick, monkeypatch
):
    real_claim, down = store.claim, [True]

    def claim(*args):
        if down[0]:
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        return real_claim(*args)

    monkeypatch.setattr(store, "claim", claim)
    served, stop = await whatsapp_with(ScriptedBot(), store)
    try:
        for word in ("uno", "due", "tre"):
            assert await post(served, twilio_form(word, sender=PERSON)) == 200
        assert len(Spool(store.spool_dir).pending("whatsapp")) == 3
        await asyncio.sleep(0.3)
        assert twilio_api.messages == []
        down[0] = False  # the database is back
        await twilio_api.wait_for(3)
        await asyncio.sleep(0.2)
        assert [m["Body"] for m in twilio_api.messages] == ["echo: uno", "echo: due", "echo: tre"]
        assert Spool(store.spool_dir).pending("whatsapp") == []
    finally:
        await stop()


async def test_a_retry_keeps_the_option_the_first_try_chose(channel_env, store, twilio_api, quick):
    from channel_harness import BUTTONS

    class ChoosesThenFails(ScriptedBot):
        """Answers "options" with buttons; the next message fails once after new buttons."""

        async def __call__(self, message):
            self.received.append(message)
            out = message.output_channel
            await out.send_text_with_buttons(message.sender_id, "Where do you live?", BUTTONS)
            if len(self.received) == 2:
                raise OperationalError("UPDATE", {}, Exception("server closed"))

    bot = ChoosesThenFails()
    served, stop = await whatsapp_with(bot, store)
    try:
        await post(served, twilio_form("options", sender=PERSON))
        await twilio_api.wait_for(1)
        await post(served, twilio_form("2", sender=PERSON))
        await bot.wait_for(3)
        # The retry hands Rasa what the first try did, although the failed try had already
        # stored new options ("2" would now mean something else).
        assert [m.text for m in bot.received[1:]] == [BUTTONS[1]["payload"]] * 2
    finally:
        await stop()


async def test_the_spool_keeps_whole_files_only(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.put("telegram", "5", {"text": "a"})
    spool.put("whatsapp", "SM../../x", {"text": "b"})
    (tmp_path / "spool" / ".half-written.tmp").write_text("{")
    (tmp_path / "spool" / "0-whatsapp-broken.json").write_text("{")
    assert [(k.delivery_id, k.payload) for k in spool.pending("whatsapp")] == [
        ("SM../../x", {"text": "b"})
    ]
    assert all(p.parent == tmp_path / "spool" for p in (tmp_path / "spool").iterdir())
    for item in spool.pending("telegram"):
        spool.remove(item)
    assert spool.pending("telegram") == []
    assert json.loads(next((tmp_path / "spool").glob("*SM*.json")).read_text())["channel"] == (
        "whatsapp"
    )


async def test_a_part_sent_just_before_the_database_failed_is_not_sent_again(
    channel_env, store, telegram_api, quick, monkeypatch
):
    # Telegram cannot be asked what it has: the process itself must remember.
    from channel_fakes import WEBHOOK_SECRET, telegram_text_update

    from channels.telegram import TelegramInput

    real, failures = store.reply_sent, [1]

    def reply_sent(*key):
        if key[2] == 1 and failures[0]:  # "two" went out, then the database went away
            failures[0] -= 1
            raise OperationalError("UPDATE", {}, Exception("server closed the connection"))
        return real(*key)

    monkeypatch.setattr(store, "reply_sent", reply_sent)
    served, stop = await serve(TelegramInput(get_settings(), store=store), store, Flaky(0))
    try:
        async with served.http.post(
            served.url + "webhook",
            data=json.dumps(telegram_text_update("ciao")),
            headers={
                "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                "Content-Type": "application/json",
            },
        ) as resp:
            assert resp.status == 200
        await telegram_api.wait_for("sendMessage", 3)
        await asyncio.sleep(0.3)
        assert [m["text"] for m in telegram_api.methods("sendMessage")] == ["one", "two", "three"]
        assert len(served.bot.received) == 2  # the turn was retried
    finally:
        await stop()


async def test_a_message_written_just_after_the_outage_waits_for_those_written_during_it(
    channel_env, store, twilio_api, quick, monkeypatch
):
    real_claim, down = store.claim, [True]

    def claim(*args):
        if down[0]:
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        return real_claim(*args)

    monkeypatch.setattr(store, "claim", claim)
    monkeypatch.setattr(inbox_module, "RECOVERY_SECONDS", 1.0)
    served, stop = await whatsapp_with(ScriptedBot(), store)
    try:
        assert await post(served, twilio_form("during", sender=PERSON)) == 200
        down[0] = False
        assert await post(served, twilio_form("after", sender=PERSON)) == 200
        await twilio_api.wait_for(2, timeout=5)
        assert [m["Body"] for m in twilio_api.messages] == ["echo: during", "echo: after"]
        # Once the spool is empty, messages go straight to the database again.
        assert await post(served, twilio_form("later", sender=PERSON)) == 200
        assert Spool(store.spool_dir).pending("whatsapp") == []
        await twilio_api.wait_for(3, timeout=2)
    finally:
        await stop()


async def test_a_turn_that_keeps_failing_is_given_up_and_the_person_told_once(
    channel_env, store, twilio_api, quick, monkeypatch
):
    from channels.common import channel_message
    from channels.store import FAILED

    monkeypatch.setattr(inbox_module, "RETRY_SECONDS", 1.5)
    bot = Flaky(10_000)
    served, stop = await whatsapp_with(bot, store)
    try:
        sid = "SM" + "4" * 32
        assert await post(served, twilio_form("ciao", sender=PERSON, sid=sid)) == 200
        await until(lambda: state_of(store, sid) == FAILED)
        await asyncio.sleep(0.2)
        assert len(bot.received) > 2  # tried again and again
        assert [m["Body"] for m in twilio_api.messages] == [
            "one",
            "two",
            channel_message("turn_failed", [None]),
        ]
    finally:
        await stop()


async def test_a_message_that_killed_its_process_each_time_is_not_tried_again(
    channel_env, store, telegram_api, quick
):
    from channels.common import channel_message
    from channels.store import FAILED, MAX_ATTEMPTS
    from channels.telegram import TelegramInput

    update = {
        "update_id": 31,
        "chat_id": 555,
        "order_key": 555,
        "text": "boom",
        "notice": None,
        "language": "fr",
    }
    assert store.claim("telegram", "31", update).attempt == 1
    with store.engine.begin() as conn:  # it was taken over until its attempts ran out
        conn.execute(
            channel_inbox.update()
            .where(channel_inbox.c.delivery_id == "31")
            .values(attempts=MAX_ATTEMPTS, claimed_at=time.time() - 60)
        )
    bot = ScriptedBot()
    served, stop = await serve(TelegramInput(get_settings(), store=store), store, bot)
    try:
        await until(lambda: state_of(store, "31") == FAILED)
        await asyncio.sleep(0.2)
        assert bot.received == []
        assert [m["text"] for m in telegram_api.methods("sendMessage")] == [
            channel_message("turn_failed", ["fr"])
        ]
    finally:
        await stop()
