"""Several Rasa instances share conversation locks through Redis when REDIS_URL is set."""

from __future__ import annotations

import asyncio
import secrets

import pytest
import yaml
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore

from bot.lock_store import SettingsLockStore
from bot.settings import PROJECT_ROOT, get_settings


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch):
    def use(redis_url: str | None) -> None:
        if redis_url:
            monkeypatch.setenv("REDIS_URL", redis_url)
        else:
            monkeypatch.delenv("REDIS_URL", raising=False)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_without_redis_url_locks_stay_in_memory(settings_env) -> None:
    settings_env(None)
    assert isinstance(SettingsLockStore().inner, InMemoryLockStore)


@pytest.mark.redis
async def test_two_instances_share_one_conversation_lock(settings_env) -> None:
    settings_env("redis://127.0.0.1:6379/1")
    first, second = SettingsLockStore(), SettingsLockStore()
    assert isinstance(first.inner, RedisLockStore)
    conversation = f"test-{secrets.token_hex(6)}"
    order: list[str] = []

    async def turn(store: LockStore, name: str) -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            order.append(f"{name} in")
            await asyncio.sleep(0.2)
            order.append(f"{name} out")

    await asyncio.gather(turn(first, "a"), turn(second, "b"))
    # The second instance waited for the first: the turns never interleave.
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert first.get_lock(conversation) is None  # cleaned up after both turns


def test_bad_redis_url_is_refused(settings_env) -> None:
    settings_env("http://127.0.0.1:6379")
    with pytest.raises(ValueError, match="redis://"):
        SettingsLockStore()


def test_endpoints_use_the_settings_lock_store() -> None:
    from rasa.shared.utils.common import class_from_module_path

    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    assert class_from_module_path(endpoints["lock_store"]["type"]) is SettingsLockStore
