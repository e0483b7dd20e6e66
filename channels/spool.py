"""Deliveries kept on the local disk while the database cannot take them.

Twilio posts an incoming WhatsApp message once: a webhook that answers 5xx loses it. So when
the inbox cannot claim a delivery in the database, the webhook writes it here, durably (written
to a temporary file, flushed to disk, then renamed, so a crash leaves the whole file or none),
and still answers 200; the inbox's recovery loop moves it into the database once the database
answers again, where the usual duplicate check applies. Only if this write fails too does the
webhook answer 503 (Telegram then redelivers; Twilio cannot).

The files hold what the inbox row would hold, the sender's address included, so the folder is
readable by its owner only, and a file lives only until the database is back.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Spooled:
    """One delivery waiting on disk."""

    path: Path
    channel: str
    delivery_id: str
    payload: dict[str, Any]


class Spool:
    """A folder of deliveries, oldest first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, channel: str, delivery_id: str, payload: dict[str, Any]) -> Path:
        """Write a delivery durably; raises OSError if the disk cannot take it."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Nanoseconds first: the listing order is the arrival order, so one person's messages
        # are answered in the order they were written.
        name = f"{time.time_ns():020d}-{channel}-{_UNSAFE.sub('_', delivery_id)[:64]}"
        final = self.directory / f"{name}.json"
        temporary = self.directory / f".{name}.tmp"
        data = json.dumps({"channel": channel, "delivery_id": delivery_id, "payload": payload})
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, final)
        _sync_directory(self.directory)
        return final

    def pending(self, channel: str) -> list[Spooled]:
        """The deliveries of ``channel`` waiting, oldest first (unreadable files skipped)."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob(f"*-{channel}-*.json")):
            try:
                data = json.loads(path.read_text("utf-8"))
                found.append(Spooled(path, data["channel"], data["delivery_id"], data["payload"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return found

    def remove(self, item: Spooled) -> None:
        """Forget a delivery the database now holds."""
        item.path.unlink(missing_ok=True)


def _sync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
