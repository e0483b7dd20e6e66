"""Fixtures: fake platform APIs, a fresh database, and a channel served by Sanic on 127.0.0.1.

The channel under test runs in a real Sanic server with a stand-in for Rasa's message handler
(``ScriptedBot``) that answers through the channel's output channel the way Rasa's processor
does; the end-to-end tests (``test_channels_e2e.py``) use the real Rasa server instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import aiohttp
import pytest
from channel_fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    BOT_TOKEN,
    WEBHOOK_SECRET,
    WHATSAPP_NUMBER,
    FakeTelegram,
    FakeTwilio,
    free_port,
)
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from bot.settings import get_settings
from channels.store import ChannelStore

# Several Sanic apps in one process (one per test) need Sanic's test mode.
Sanic.test_mode = True

LONG_ANSWER = " ".join(
    f"Sentence number {i} explains one step of the procedure." for i in range(80)
)
BUTTONS = [
    {"title": "Bari", "payload": '/inform{"city": "Bari"}'},
    {"title": "Lecce", "payload": '/inform{"city": "Lecce"}'},
    {"title": "Somewhere with a long name",
     "payload": '/inform{"city": "San Pietro Vernotico", "note": "over sixty-four bytes long"}'},
]


class ScriptedBot:
    """Stands in for Rasa's agent: records messages and answers through the output channel."""

    def __init__(self) -> None:
        self.received: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        out = message.output_channel
        if message.text == "options":
            await out.send_text_with_buttons(message.sender_id, "Where do you live?", BUTTONS)
        elif message.text == "long":
            await out.send_text_message(message.sender_id, LONG_ANSWER)
        elif message.text == "crash":
            raise RuntimeError("the dialogue failed")
        else:
            await out.send_text_message(message.sender_id, f"echo: {message.text}")

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[UserMessage]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.received) < count and loop.time() < deadline:
            await asyncio.sleep(0.02)
        return self.received


@dataclasses.dataclass
class ServedChannel:
    channel: InputChannel
    bot: ScriptedBot
    url: str
    http: aiohttp.ClientSession
    store: ChannelStore


@pytest.fixture
def store(tmp_path):
    store = ChannelStore(f"sqlite:///{tmp_path / 'channels.db'}")
    yield store
    store.dispose()


@pytest.fixture
async def twilio_api():
    fake = await FakeTwilio().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def telegram_api():
    fake = await FakeTelegram().start()
    yield fake
    await fake.stop()


@pytest.fixture
def channel_env(monkeypatch, tmp_path, twilio_api, telegram_api):
    """Environment of a deployment whose outgoing calls go to the fakes."""
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": WHATSAPP_NUMBER, "TWILIO_API_BASE_URL": twilio_api.base_url,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_API_BASE_URL": telegram_api.base_url,
        "PSEUDONYM_SECRET": "test-pseudonym-key",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TWILIO_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    from channels import common

    common._pseudonym_key.cache_clear()
    yield env
    get_settings.cache_clear()
    common._pseudonym_key.cache_clear()


async def serve(channel: InputChannel, store: ChannelStore, bot: ScriptedBot | None = None):
    """Serve ``channel`` the way Rasa registers it, at /webhooks/<name>/."""
    bot = bot or ScriptedBot()
    app = Sanic(f"t{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(bot), url_prefix=f"/webhooks/{channel.url_prefix()}")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    http = aiohttp.ClientSession()
    served = ServedChannel(channel, bot, f"http://127.0.0.1:{port}/webhooks/{channel.name()}/",
                           http, store)

    async def stop() -> None:
        await http.close()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()

    return served, stop


@pytest.fixture
async def whatsapp(channel_env, store):
    from channels.whatsapp import WhatsAppInput

    channel = WhatsAppInput(get_settings(), store=store)
    served, stop = await serve(channel, store)
    yield served
    await stop()


@pytest.fixture
async def telegram(channel_env, store):
    from channels.telegram import TelegramInput

    channel = TelegramInput(get_settings(), store=store)
    served, stop = await serve(channel, store)
    yield served
    await stop()



@pytest.fixture
def dead_store():
    """A store whose database does not answer (nothing listens on the port)."""
    store = ChannelStore(f"postgresql://root@127.0.0.1:{free_port()}/nothing")
    yield store
    store.dispose()
