"""Registered mediators: who may claim tickets, how to reach them, how they sign in to the desk.

Registered with ``bot handoff mediator add`` and never in the repository. A mediator is found by
the identity a channel sees (a Telegram user id, a WhatsApp address) or by name (the desk).

After that, mediators keep their own profile (issue #17): the languages they speak, the
provinces they cover and their hours (:meth:`MediatorStore.set_profile`), and a pause of their
own (:meth:`MediatorStore.set_paused`), from the desk or with a command on Telegram or WhatsApp.
Cards go to whoever is on call at the moment a ticket is announced, so a change routes the next
ticket. ``unreachable_since`` records that Telegram refused to write to them (they never pressed
Start), for the desk and ``bot handoff mediator list`` to show.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.kb.vocabulary import LANGUAGES
from bot.territory import PROVINCES
from handoff import schema as t
from handoff.db import Database
from handoff.hours import parse_hours
from handoff.records import HandoffError, Mediator, mediator_of


def clean_languages(languages: Sequence[str]) -> str:
    """The stored form ("ar,fr,it") of languages a mediator gave; HandoffError if one is unknown."""
    wanted = {lang.strip().lower() for lang in languages if lang.strip()}
    unknown = sorted(wanted - set(LANGUAGES))
    if unknown or not wanted:
        raise HandoffError(
            "profile_bad_languages", given=", ".join(unknown) or "—", known=" ".join(LANGUAGES)
        )
    return ",".join(sorted(wanted))


def clean_provinces(provinces: Sequence[str]) -> str:
    """The stored form ("BA,LE"; "" for all) of provinces given as car-plate codes."""
    wanted = {p.strip().upper() for p in provinces if p.strip()}
    if wanted in ({"ALL"}, {"TUTTE"}):
        return ""
    unknown = sorted(wanted - set(PROVINCES))
    if unknown:
        raise HandoffError(
            "profile_bad_provinces", given=", ".join(unknown), known=" ".join(sorted(PROVINCES))
        )
    return ",".join(sorted(wanted))


def clean_hours(hours: str) -> str:
    """Hours as stored ("" for always); HandoffError naming the part that cannot be read."""
    text = hours.strip()
    if text.lower() in ("always", "sempre", "-"):
        return ""
    try:
        parse_hours(text)
    except ValueError as exc:
        raise HandoffError("profile_bad_hours", error=str(exc)) from exc
    return text


class MediatorStore:
    """The ``handoff_mediators`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        name: str,
        languages: Sequence[str],
        *,
        telegram_user_id: str | None = None,
        whatsapp: str | None = None,
        provinces: Sequence[str] = (),
        hours: str = "",
        ui_language: str = "it",
    ) -> Mediator:
        """Register a mediator (names are unique); returns it."""
        values = dict(
            name=name,
            telegram_user_id=telegram_user_id,
            whatsapp=whatsapp,
            languages=",".join(sorted({lang.strip() for lang in languages if lang.strip()})),
            provinces=",".join(sorted({p.strip().upper() for p in provinces if p.strip()})),
            hours=hours,
            ui_language=ui_language,
            active=True,
            created_at=time.time(),
        )
        with self.db.engine.begin() as conn:
            new_id = conn.execute(sa.insert(t.mediators).values(**values)).inserted_primary_key[0]
        mediator = self.get(int(new_id))
        assert mediator is not None
        return mediator

    def set_active(self, name: str, active: bool) -> bool:
        """Switch a mediator on or off; False if there is no such mediator."""
        with self.db.engine.begin() as conn:
            result = conn.execute(
                sa.update(t.mediators).where(t.mediators.c.name == name).values(active=active)
            )
        return result.rowcount == 1

    def set_profile(
        self,
        mediator_id: int,
        *,
        languages: Sequence[str] | None = None,
        provinces: Sequence[str] | None = None,
        hours: str | None = None,
    ) -> Mediator:
        """Change what the mediator gave (the rest stays); HandoffError if a value is wrong."""
        values: dict[str, str] = {}
        if languages is not None:
            values["languages"] = clean_languages(languages)
        if provinces is not None:
            values["provinces"] = clean_provinces(provinces)
        if hours is not None:
            values["hours"] = clean_hours(hours)
        if values:
            with self.db.engine.begin() as conn:
                conn.execute(
                    sa.update(t.mediators).where(t.mediators.c.id == mediator_id).values(**values)
                )
        mediator = self.get(mediator_id)
        assert mediator is not None
        return mediator

    def set_paused(self, mediator_id: int, paused: bool) -> None:
        """The mediator's own pause: no new cards and no reminders reach them meanwhile."""
        with self.db.engine.begin() as conn:
            conn.execute(
                sa.update(t.mediators).where(t.mediators.c.id == mediator_id).values(paused=paused)
            )

    def set_unreachable(self, telegram_user_id: str, at: float | None) -> None:
        """Telegram refused to write to this user (403) at ``at``; None: they reached us.

        The first refusal's time is kept: "unreachable since" is when it started.
        """
        where = [t.mediators.c.telegram_user_id == str(telegram_user_id)]
        if at is not None:
            where.append(t.mediators.c.unreachable_since.is_(None))
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(t.mediators).where(*where).values(unreachable_since=at))

    def set_password(self, name: str, password_hash: str | None) -> bool:
        """Set (None: remove) a mediator's desk password hash; False if no such mediator."""
        with self.db.engine.begin() as conn:
            result = conn.execute(
                sa.update(t.mediators)
                .where(t.mediators.c.name == name)
                .values(password_hash=password_hash)
            )
        return result.rowcount == 1

    def set_login_code(self, mediator_id: int, code_hash: str, expires_at: float) -> None:
        """Remember the hash of a one-time sign-in code (replacing an unused one)."""
        with self.db.engine.begin() as conn:
            conn.execute(
                sa.update(t.mediators)
                .where(t.mediators.c.id == mediator_id)
                .values(login_code_hash=code_hash, login_code_expires=expires_at)
            )

    def use_login_code(self, code_hash: str) -> Mediator | None:
        """The mediator of an unexpired one-time code, which is used up; None otherwise.

        Of two requests with the same code, one gets the mediator (compare-and-set).
        """
        now = time.time()
        with self.db.engine.begin() as conn:
            row = conn.execute(
                sa.select(t.mediators.c.id).where(t.mediators.c.login_code_hash == code_hash)
            ).first()
            if row is None:
                return None
            used = (
                conn.execute(
                    sa.update(t.mediators)
                    .where(
                        t.mediators.c.id == row.id,
                        t.mediators.c.login_code_hash == code_hash,
                        t.mediators.c.login_code_expires >= now,
                    )
                    .values(login_code_hash=None, login_code_expires=None)
                ).rowcount
                == 1
            )
            if not used:  # expired: clear it anyway
                conn.execute(
                    sa.update(t.mediators)
                    .where(t.mediators.c.id == row.id)
                    .values(login_code_hash=None, login_code_expires=None)
                )
                return None
        return self.get(row.id)

    def get(self, mediator_id: int, conn: Connection | None = None) -> Mediator | None:
        return self._one(t.mediators.c.id == mediator_id, conn)

    def by_telegram(self, user_id: int | str) -> Mediator | None:
        return self._one(t.mediators.c.telegram_user_id == str(user_id))

    def by_whatsapp(self, address: str) -> Mediator | None:
        return self._one(t.mediators.c.whatsapp == address)

    def by_name(self, name: str) -> Mediator | None:
        return self._one(t.mediators.c.name == name)

    def _one(self, where: Any, conn: Connection | None = None) -> Mediator | None:
        found = self.db.rows(sa.select(t.mediators).where(where), conn)
        return mediator_of(found[0]) if found else None

    def all(self, conn: Connection | None = None) -> list[Mediator]:
        """Every registered mediator, active or not."""
        return [
            mediator_of(r)
            for r in self.db.rows(sa.select(t.mediators).order_by(t.mediators.c.id), conn)
        ]
