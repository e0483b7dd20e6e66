"""Claiming: one mediator gets the ticket, the other is told who has it — also in a real race."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.messages import render
from handoff.records import HandoffError
from handoff.schema import CLAIMED
from handoff.service import Handoff
from handoff.store import HandoffStore
from tests.handoff.helpers import rows, settings_for, together

ROUNDS = 20


def test_claim_winner_and_loser(lite: Handoff) -> None:
    handoff = lite
    store = handoff.store
    amina = store.mediators.add("Amina", ["ar"], telegram_user_id="111", ui_language="en")
    karim = store.mediators.add("Karim", ["ar"], whatsapp="whatsapp:+393330000003")
    ticket = handoff.request(
        "p1", "telegram", "ar", transcript=[("person", "مرحبا، أحتاج مساعدة")]
    ).ticket

    change = handoff.claim(ticket.id, amina)

    assert change.ticket.status == CLAIMED and change.ticket.mediator_id == amina.id
    assert store.tickets.held_by(amina.id)[0].id == ticket.id
    # The person hears who joined, in Arabic; Amina gets the conversation so far.
    (person,) = rows(store, "person", "p1")
    assert person.payload["text"] == render("utter_handoff_claimed", "ar", name="Amina")
    (private,) = [r for r in rows(store, "telegram", "111") if r.payload["kind"] != "card"]
    assert f"#{ticket.id}" in private.payload["text"]
    assert "مرحبا، أحتاج مساعدة" in private.payload["text"]

    with pytest.raises(HandoffError) as lost:
        handoff.claim(ticket.id, karim)
    assert lost.value.code == "claimed_by_other"
    assert lost.value.values == {"ticket": f"#{ticket.id}", "name": "Amina"}
    assert store.tickets.get(ticket.id).mediator_id == amina.id
    with pytest.raises(HandoffError) as again:
        handoff.claim(ticket.id, amina)
    assert again.value.code == "already_yours"
    with pytest.raises(HandoffError) as missing:
        handoff.claim(ticket.id + 1000, karim)
    assert missing.value.code == "no_ticket"
    handoff.close(ticket.id, amina)
    with pytest.raises(HandoffError) as closed:
        handoff.claim(ticket.id, karim)
    assert closed.value.code == "closed"
    # The person was told about the claim once.
    assert [r.payload["text"] for r in rows(store, "person", "p1")].count(
        render("utter_handoff_claimed", "ar", name="Amina")
    ) == 1


def test_simultaneous_claims_have_exactly_one_winner(
    db_url: str, make_store: Callable[[str], HandoffStore]
) -> None:
    """Two processes (a store each) press Claim at the same instant, ROUNDS times."""
    first, second = make_store(db_url), make_store(db_url)
    amina = first.mediators.add("Amina", ["ar"], telegram_user_id="111")
    karim = first.mediators.add("Karim", ["ar"], telegram_user_id="222")
    settings = settings_for(db_url)
    service_a, service_b = Handoff(first, settings), Handoff(second, settings)
    tickets = [service_a.request(f"p{i}", "telegram", "ar").ticket for i in range(ROUNDS)]

    for ticket in tickets:
        results = together(
            lambda t=ticket: service_a.claim(t.id, amina),
            lambda t=ticket: service_b.claim(t.id, karim),
        )

        winners = [value for kind, value in results if kind == "ok"]
        losers = [value for kind, value in results if kind == "error"]
        assert len(winners) == 1 and len(losers) == 1, results
        assert isinstance(losers[0], HandoffError), losers[0]
        assert losers[0].code == "claimed_by_other"
        winner = winners[0].ticket.mediator_id
        assert losers[0].values["name"] == ("Amina" if winner == amina.id else "Karim")
        stored = second.tickets.get(ticket.id)
        assert stored.status == CLAIMED and stored.mediator_id == winner
        assert [kind for kind, _, _ in first.tickets.events(ticket.id)].count("claimed") == 1
        # Only the winner's claim told the person.
        claimed_notices = [
            r
            for r in rows(first, "person", ticket.person)
            if r.payload["text"].startswith(render("utter_handoff_claimed", "ar", name="")[:10])
        ]
        assert len(claimed_notices) == 1
