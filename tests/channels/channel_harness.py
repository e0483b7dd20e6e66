"""What the channel tests share: a stand-in for Rasa and a way to serve a channel on 127.0.0.1.

The channel under test runs in a real Sanic server with ``ScriptedBot`` in place of Rasa's
message handler; it answers through the channel's output channel the way Rasa's processor does.
The end-to-end tests (``test_channels_e2e.py``) use the real Rasa server instead. (A module of
its own rather than conftest.py: several test folders have a conftest, only one can be imported
by that name.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import aiohttp
from channel_fakes import free_port
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from channels.store import ChannelStore

# Several Sanic apps in one process (one per test) need Sanic's test mode.
Sanic.test_mode = True

LONG_ANSWER = " ".join(
    f"Sentence number {i} explains one step of the procedure." for i in range(80)
)
BUTTONS = [
    {"title": "Bari", "payload": '/inform{"city": "Bari"}'},
    {"title": "Lecce", "payload": '/inform{"city": "Lecce"}'},
    {
        "title": "Somewhere with a long name",
        "payload": '/inform{"city": "San Pietro Vernotico", "note": "over sixty-four bytes long"}',
    },
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
    served = ServedChannel(
        channel, bot, f"http://127.0.0.1:{port}/webhooks/{channel.name()}/", http, store
    )

    async def stop() -> None:
        await http.close()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()

    return served, stop
