"""What the inbox keeps of a person: erased with them, and never longer than the retention."""

from __future__ import annotations

import time

import sqlalchemy as sa

from channels.store import DONE_RETENTION_SECONDS, MAX_ATTEMPTS, channel_inbox

NUMBER = "whatsapp:+393331234567"


def test_forget_erases_the_person_s_inbox_rows_and_only_theirs(store):
    store.record_inbound("wa-me", "whatsapp", NUMBER)
    store.record_inbound("tg-me", "telegram", "4242")
    store.claim("whatsapp", "SM1", {"from": NUMBER, "text": "my secret", "order_key": NUMBER})
    store.claim("whatsapp", "SM2", {"from": "whatsapp:+393339999999", "text": "someone else"})
    store.claim("telegram", "7", {"chat_id": 4242, "text": "telegram words", "order_key": 4242})
    store.claim("telegram", "8", {"chat_id": 5353, "text": "other chat"})
    store.claim("whatsapp", "SM3", {"from": NUMBER, "text": "answered"})
    store.finish("whatsapp", "SM3")  # done: no payload left, nothing of the person's

    assert store.forget("wa-me") is True
    assert store.forget("tg-me") is True

    with store.engine.connect() as conn:
        left = {
            (r.channel, r.delivery_id): r.payload for r in conn.execute(sa.select(channel_inbox))
        }
    assert set(left) == {("whatsapp", "SM2"), ("telegram", "8"), ("whatsapp", "SM3")}
    assert "my secret" not in str(left) and "telegram words" not in str(left)


def test_failed_rows_are_purged_like_the_others(store, monkeypatch):
    store.claim("whatsapp", "SMdone", {"from": NUMBER, "text": "a"})
    store.finish("whatsapp", "SMdone")
    store.claim("whatsapp", "SMfailed", {"from": NUMBER, "text": "never answered"})
    store.claim("whatsapp", "SMnew", {"from": NUMBER, "text": "in progress"})
    old = time.time() - DONE_RETENTION_SECONDS - 60
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(channel_inbox)
            .where(channel_inbox.c.delivery_id.in_(("SMdone", "SMfailed")))
            .values(claimed_at=old)
        )
        conn.execute(
            sa.update(channel_inbox)
            .where(channel_inbox.c.delivery_id == "SMfailed")
            .values(attempts=MAX_ATTEMPTS)
        )  # given up: never taken over again

    store.purge_done()  # the inbox's recovery loop runs it every round

    with store.engine.connect() as conn:
        left = [r.delivery_id for r in conn.execute(sa.select(channel_inbox))]
    assert left == ["SMnew"]
