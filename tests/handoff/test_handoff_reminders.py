"""Unclaimed tickets are announced again once per interval, even with several processes."""

from __future__ import annotations

from collections.abc import Callable

from bot.messages import render
from handoff.service import Handoff
from handoff.store import HandoffStore
from tests.handoff.helpers import Clock, rows, settings_for, together

INTERVAL = 10 * 60  # settings_for's handoff_reminder_minutes


def _reminders(store: HandoffStore, person: str) -> list[str]:
    return [r.payload["text"] for r in rows(store, "person", person)]


def test_reminder_once_per_interval_from_two_processes(
    db_url: str, make_store: Callable[[str], HandoffStore], clock: Clock
) -> None:
    first, second = make_store(db_url), make_store(db_url)
    first.mediators.add("Amina", ["ar"], whatsapp="whatsapp:+393330000001", ui_language="en")
    a, b = Handoff(first, settings_for(db_url)), Handoff(second, settings_for(db_url))
    ticket = a.request("p1", "whatsapp", "ar").ticket
    claimed = a.request("p2", "whatsapp", "ar").ticket
    a.claim(claimed.id, first.mediators.by_name("Amina"))
    cards_at_open = [r for r in rows(first, "whatsapp") if r.payload["kind"] == "card"]
    assert len(cards_at_open) == 2

    assert a.remind_due() == [] and b.remind_due() == []  # too early
    clock.advance(INTERVAL + 1)
    results = together(a.remind_due, b.remind_due)

    assert all(kind == "ok" for kind, _ in results), results
    changes = [change for _, found in results for change in found]
    assert [c.ticket.id for c in changes] == [ticket.id]  # once; the claimed one never
    still = render("utter_handoff_still_waiting", "ar", ticket=f"#{ticket.id}")
    assert _reminders(first, "p1") == [still]
    assert still != render("utter_handoff_still_waiting", "en", ticket=f"#{ticket.id}")
    cards = [r for r in rows(first, "whatsapp") if r.payload["kind"] == "card"]
    assert len(cards) == 3
    assert cards[-1].payload["text"].startswith(f"⏰ Ticket #{ticket.id} is still waiting")
    assert first.tickets.get(ticket.id).announcements == 2
    assert [kind for kind, _, _ in first.tickets.events(ticket.id)].count("announced") == 1

    # Called again in the same interval, from either process: nothing.
    clock.advance(INTERVAL / 2)
    assert together(a.remind_due, b.remind_due) == [("ok", []), ("ok", [])]
    # The next interval: once more.
    clock.advance(INTERVAL / 2 + 1)
    results = together(a.remind_due, b.remind_due)
    assert sum(len(found) for _, found in results) == 1
    assert _reminders(first, "p1") == [still, still]
    assert _reminders(first, "p2") == [render("utter_handoff_claimed", "ar", name="Amina")]


def test_reminders_stop_after_the_maximum(lite: Handoff, clock: Clock) -> None:
    ticket = lite.request("p1", "telegram", "ar").ticket
    for _ in range(10):
        clock.advance(INTERVAL + 1)
        lite.remind_due()

    assert lite.store.tickets.get(ticket.id).announcements == 6
    assert len(_reminders(lite.store, "p1")) == 5
