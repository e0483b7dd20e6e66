"""Rasa's SQL tracker store, plus the power to forget a conversation.

"Delete my data" cannot be done by a custom action alone: Rasa saves the tracker *after* the
action runs, which would write the conversation straight back. So the action only marks the
request (it runs ``action_delete_my_data``), and this store, on seeing that mark while saving,
deletes every stored event of that sender instead of saving, then calls the erasure hooks of
``app.erasure`` (the person's channel address and mediator tickets), which the higher floors'
stores provide and the composition root registers. Configured in ``endpoints.yml``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from app.erasure import erase_identifiers, register_default_hooks
from bot.sqlite import use_write_ahead_log

ACTION_DELETE_MY_DATA = "action_delete_my_data"


def erasure_requested(tracker: DialogueStateTracker) -> bool:
    """Whether the latest turn (since the person's last message) ran the erasure action."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_DELETE_MY_DATA:
            return True
    return False


class ErasingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that deletes a sender's events when they ask for it.

    On the local SQLite default it also switches the file to WAL mode (``bot.sqlite``): with
    the rollback journal every saved turn waited ~14 ms for fsync. Its pooled connections are
    pinged before use: Rasa's engine does not, so after a database restart the first turn of
    every pooled connection failed on a connection the server had closed.
    """

    engine: sa.engine.Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        register_default_hooks()
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, pool_pre_ping=True, hide_parameters=True, **create_engine_kwargs(url)
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        use_write_ahead_log(self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        if erasure_requested(tracker):
            await self.delete(tracker.sender_id)
            await erase_identifiers(
                tracker.sender_id, self.engine.url.render_as_string(hide_password=False)
            )
            return
        await super().save(tracker)

    async def delete(self, sender_id: str) -> None:
        """Remove every stored event of ``sender_id``."""
        with self.session_scope() as session:
            session.execute(sa.delete(self.SQLEvent).where(self.SQLEvent.sender_id == sender_id))
            session.commit()
