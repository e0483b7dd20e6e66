"""Crashes and outages under traffic: nothing lost, nothing duplicated.

One assistant (``bot run``) on PostgreSQL and Redis, each reached through a proxy the test can
cut (``proxy.py``), answering through fake Twilio and Telegram servers; all on loopback. The
scenarios share that stack to keep the suite to a few minutes, so they run in this order and
the SIGKILL, which restarts it, comes last:

1. Redis cut for 20 s in the middle of some answers, while more people write;
2. the database cut for 20 s in the middle of some answers, while more people write;
3. the action server killed in the middle of traffic (``bot run`` restarts it);
4. the whole stack SIGKILLed while 20 WhatsApp answers are being sent, then started again.

Each scenario counts accepted, answered, lost and duplicated messages (``traffic.py``) and
must lose and duplicate none.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
import pytest_asyncio

from bot.settings import PROJECT_ROOT
from bot.training import model_path
from tests.channels.channel_fakes import FakeTelegram, FakeTwilio, RunningStack, start_stack
from tests.databases import postgres_database
from tests.faults.conftest import TALLIES
from tests.faults.proxy import TcpProxy
from tests.faults.traffic import Person, Tally, Traffic

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.asyncio(loop_scope="module"),
]

OUTAGE_SECONDS = 20.0
SETTLE_SECONDS = 90.0  # after a fault, how long every accepted message has to be answered
REDIS_PORT = 6379
POSTGRES_PORT = 5432


class World:
    """The stack under test, the proxies in front of its servers, and the traffic."""

    def __init__(
        self,
        tmp: Path,
        database_url: str,
        postgres: TcpProxy,
        redis: TcpProxy,
        twilio: FakeTwilio,
        telegram: FakeTelegram,
    ) -> None:
        self.tmp = tmp
        self.database_url = database_url
        self.postgres, self.redis = postgres, redis
        self.twilio, self.telegram = twilio, telegram
        self.stack: RunningStack | None = None
        self.traffic: Traffic | None = None

    async def start(self) -> None:
        self.stack = await start_stack(
            PROJECT_ROOT,
            self.twilio,
            self.telegram,
            self.database_url,
            extra_env={"REDIS_URL": f"redis://127.0.0.1:{self.redis.port}/3"},
            log_path=self.tmp / "bot-run.log",
        )
        if self.traffic is None:
            self.traffic = Traffic(self.stack.base_url, self.twilio, self.telegram)
        self.traffic.base_url = self.stack.base_url

    def log(self) -> str:
        return (self.tmp / "bot-run.log").read_text(errors="replace")

    def children(self) -> dict[int, str]:
        """Processes ``bot run`` started: pid → command line."""
        assert self.stack is not None
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.stack.process.pid:
                found[int(entry.name)] = cmdline
        return found


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory):
    if not model_path().exists():
        pytest.fail("no trained model for the current inputs: run `make train`")
    tmp = tmp_path_factory.mktemp("faults")
    twilio, telegram = await FakeTwilio().start(), await FakeTelegram().start()
    postgres = await TcpProxy(POSTGRES_PORT).start()
    redis = await TcpProxy(REDIS_PORT).start()
    with postgres_database("faults") as direct_url:
        url = direct_url.replace(f":{POSTGRES_PORT}/", f":{postgres.port}/")
        world = World(tmp, url, postgres, redis, twilio, telegram)
        await world.start()
        assert world.traffic is not None
        await world.traffic.learn_expected("whatsapp")
        await world.traffic.learn_expected("telegram")
        try:
            yield world
        finally:
            if world.stack is not None:
                await world.stack.stop()
            await postgres.stop()
            await redis.stop()
            await twilio.stop()
            await telegram.stop()


def record(tally: Tally) -> Tally:
    TALLIES.append(tally.line())
    print(tally.line(), *tally.details, sep="\n  ")
    return tally


def check(tally: Tally, world: World) -> None:
    assert tally.accepted == tally.sent, tally.details
    assert (tally.lost, tally.duplicated) == (0, 0), (tally.details, world.log()[-4000:])


async def outage(
    world: World, proxy: TcpProxy, in_flight: list[Person], people: list[Person]
) -> None:
    """Cut ``proxy`` once the answers to ``in_flight`` are going out, for OUTAGE_SECONDS;
    meanwhile ``people`` write, spread over the outage."""
    traffic = world.traffic
    assert traffic is not None
    writing = asyncio.ensure_future(traffic.write_all(in_flight))
    deadline = time.monotonic() + 60
    while traffic.received(in_flight) == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    await proxy.cut()
    await writing
    started = time.monotonic()
    try:
        waves = 4
        for wave in range(waves):
            await traffic.write_all(people[wave::waves])
            await asyncio.sleep(
                max(0.0, started + OUTAGE_SECONDS * (wave + 1) / waves - time.monotonic())
            )
    finally:
        await proxy.restore()


async def test_redis_cut_for_20_seconds(world: World) -> None:
    traffic = world.traffic
    assert traffic is not None
    in_flight = traffic.people("whatsapp", 4) + traffic.people("telegram", 2)
    people = traffic.people("whatsapp", 12) + traffic.people("telegram", 8)
    await outage(world, world.redis, in_flight, people)
    check(record(await traffic.tally("Redis cut 20 s", in_flight + people, SETTLE_SECONDS)), world)


async def test_database_cut_for_20_seconds(world: World) -> None:
    traffic = world.traffic
    assert traffic is not None
    in_flight = traffic.people("whatsapp", 4) + traffic.people("telegram", 2)
    people = traffic.people("whatsapp", 12) + traffic.people("telegram", 8)
    await outage(world, world.postgres, in_flight, people)
    check(
        record(await traffic.tally("PostgreSQL cut 20 s", in_flight + people, SETTLE_SECONDS)),
        world,
    )


async def test_action_server_killed_mid_traffic(world: World) -> None:
    traffic = world.traffic
    assert traffic is not None
    people = traffic.people("whatsapp", 20)
    actions = [pid for pid, cmd in world.children().items() if "rasa_sdk" in cmd]
    assert len(actions) == 1, world.children()
    sending = asyncio.ensure_future(traffic.write_all(people))
    await asyncio.sleep(0.5)
    os.kill(actions[0], signal.SIGKILL)
    await sending
    check(record(await traffic.tally("action server killed", people, SETTLE_SECONDS)), world)
    assert world.stack is not None and world.stack.process.returncode is None


async def test_sigkill_with_20_whatsapp_messages_in_flight(world: World) -> None:
    traffic, stack = world.traffic, world.stack
    assert traffic is not None and stack is not None
    people = traffic.people("whatsapp", 20)
    expected = len(traffic.expected["whatsapp"]) * len(people)
    await traffic.write_all(people)
    # Kill while the answers are going out: some people have all, some part, some nothing.
    deadline = time.monotonic() + 60
    while traffic.received(people) < expected // 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    os.killpg(stack.process.pid, signal.SIGKILL)
    await stack.process.wait()
    at_kill = traffic.received(people)
    world.stack = None
    await world.start()
    tally = record(
        await traffic.tally(
            f"SIGKILL with {at_kill} of {expected} reply parts sent", people, SETTLE_SECONDS
        )
    )
    check(tally, world)
