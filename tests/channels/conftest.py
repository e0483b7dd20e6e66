"""Fixtures: fake platform APIs, a fresh database, and each channel served on 127.0.0.1."""

from __future__ import annotations

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
from channel_harness import serve

from bot.settings import get_settings
from channels.store import ChannelStore


@pytest.fixture
def store(tmp_path):
    store = ChannelStore(f"sqlite:///{tmp_path / 'channels.db'}", spool_dir=tmp_path / "spool")
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
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": WHATSAPP_NUMBER,
        "TWILIO_API_BASE_URL": twilio_api.base_url,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_API_BASE_URL": telegram_api.base_url,
        "PSEUDONYM_SECRET": "test-pseudonym-key",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TWILIO_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    from channels import common

    common.pseudonym_key.cache_clear()
    yield env
    get_settings.cache_clear()
    common.pseudonym_key.cache_clear()


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
def dead_store(tmp_path):
    """A store whose database does not answer (nothing listens on the port)."""
    store = ChannelStore(
        f"postgresql://root@127.0.0.1:{free_port()}/nothing", spool_dir=tmp_path / "dead-spool"
    )
    yield store
    store.dispose()


@pytest.fixture
def handoff_store(tmp_path):
    """Handoff tables in their own SQLite file."""
    from handoff.store import HandoffStore

    store = HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")
    yield store
    store.dispose()


@pytest.fixture
async def runtime(handoff_store, store):
    """A handoff service and relay on those tables, sending through the channels' port."""
    from channels.outbound import ChannelOutbound
    from handoff.gate import Runtime
    from handoff.relay import Relay
    from handoff.service import Handoff

    handoff = Handoff(handoff_store)
    outbound = ChannelOutbound(store=store)
    yield Runtime(handoff, Relay(handoff, outbound))
    await outbound.aclose()
