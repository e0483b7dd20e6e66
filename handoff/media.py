"""Files in a hand-off: which are passed on, where they are kept, for how long, who may fetch them.

A photo of a permit, a PDF from the Questura or a voice note is often the whole question, so
the hand-off passes files between a person and their mediator. This module is that policy and
that storage; it knows no platform (fetching from Twilio and Telegram is
``channels.media_fetch``, serving a link is ``channels.media_files``).

- **What is accepted**: images, documents and voice notes whose MIME type is in the settings'
  lists (``MEDIA_IMAGE_TYPES``, ``MEDIA_DOCUMENT_TYPES``, ``MEDIA_VOICE_TYPES``), each kind
  within its byte limit (``MEDIA_MAX_*_BYTES``). The first bytes must look like the type
  claimed (a ``.exe`` called ``image/jpeg`` is refused), so what a mediator downloads is what
  the sender said it was.
- **Refusals** are :class:`Refused` with a reason code, ``type``, ``size`` or ``failed``;
  :func:`person_refusal_text` and :func:`mediator_refusal_text` turn it into a message in the
  reader's language (``domain.yml`` with ``locales/``, ``locales/mediators/``).
- **Limits hold while a file arrives**: a :class:`Spool` counts bytes as they are written to a
  temporary file under ``MEDIA_DIR`` and gives up at the first byte over the limit; a declared
  size over it is refused before anything is read.
- **Storage**: a complete file is moved to a random name under ``MEDIA_DIR`` and recorded in
  ``handoff_media`` with its ticket and the person's pseudonym (never a phone number). A
  redelivered webhook (same ``source_key``) stores it once.
- **Links**: :meth:`MediaStore.link` gives a URL with a ``secrets.token_urlsafe(32)`` token
  (256 bits) that works for ``MEDIA_LINK_MINUTES``; only its SHA-256 is stored.
- **Deletion**: :meth:`MediaStore.purge_expired` deletes files older than
  ``MEDIA_RETENTION_DAYS`` (and stray files left by a crash); :func:`erase_person` deletes every
  file of a person, for "delete my data". Files are unlinked before their rows are deleted, so
  a crash in between leaves a row without a file (served as 404, erased on the next try), never
  a file nobody knows about.

Synchronous (SQLAlchemy and the file system); callers on an event loop use ``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.settings import Settings, get_settings
from handoff import schema as t
from handoff.db import Database

logger = logging.getLogger(__name__)

KINDS = ("image", "document", "voice")
REASONS = ("type", "size", "failed")
DIRECTIONS = ("in", "out")  # in: from the person to a mediator; out: from a mediator to them
INCOMING_DIR = "incoming"  # files still arriving, under MEDIA_DIR
STRAY_SECONDS = 3600.0  # an incoming file this old belonged to a download that died
HEAD_BYTES = 1024  # what the content check looks at

# Person-side messages (domain.yml, under media), mediator-side ones (locales/mediators).
PERSON_RESPONSES = {reason: f"utter_media_refused_{reason}" for reason in REASONS}
MEDIATOR_KEYS = {reason: f"media_refused_{reason}" for reason in REASONS}


class Refused(Exception):
    """A file that is not passed on; ``reason`` is one of :data:`REASONS`.

    ``limit`` (bytes) is set for ``size``, so the message can say what would have fitted.
    """

    def __init__(self, reason: str, *, kind: str | None = None, limit: int | None = None):
        assert reason in REASONS, reason
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.limit = limit


def normalise_type(content_type: str | None) -> str:
    """``"Audio/OGG; codecs=opus"`` → ``"audio/ogg"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_mp3(head: bytes) -> bool:
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _is_adts(head: bytes) -> bool:
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0)


def _is_mp4(head: bytes) -> bool:
    return head[4:8] == b"ftyp"


# What the first bytes of each known type look like. A type an operator adds to the lists that
# is not here is accepted on its declared type alone.
SIGNATURES: dict[str, Any] = {
    "image/jpeg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "image/png": lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP",
    "application/pdf": lambda h: b"%PDF-" in h[:HEAD_BYTES],
    "application/msword": lambda h: h.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": lambda h: (
        h.startswith(b"PK\x03\x04")
    ),
    "audio/ogg": lambda h: h.startswith(b"OggS"),
    "audio/opus": lambda h: h.startswith(b"OggS"),
    "audio/mpeg": _is_mp3,
    "audio/mp4": _is_mp4,
    "audio/x-m4a": _is_mp4,
    "audio/aac": _is_adts,
    "audio/amr": lambda h: h.startswith(b"#!AMR"),
}


def looks_like(content_type: str, head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) can be a file of ``content_type``."""
    check = SIGNATURES.get(normalise_type(content_type))
    return True if check is None else bool(check(head))


def format_size(size: int) -> str:
    """Bytes as people read them: ``5000000`` → ``"5 MB"``, ``2500000`` → ``"2.5 MB"``."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f}".rstrip("0").rstrip(".") + " MB"
    return f"{max(1, round(size / 1000))} kB"


@dataclass(frozen=True)
class MediaPolicy:
    """Accepted MIME types (type → kind) and the byte limit of each kind."""

    kinds: Mapping[str, str]
    limits: Mapping[str, int]

    @classmethod
    def from_settings(cls, settings: Settings) -> MediaPolicy:
        kinds: dict[str, str] = {}
        for kind, types in (
            ("image", settings.media_image_types),
            ("document", settings.media_document_types),
            ("voice", settings.media_voice_types),
        ):
            kinds.update({normalise_type(x): kind for x in types})
        limits = {
            "image": settings.media_max_image_bytes,
            "document": settings.media_max_document_bytes,
            "voice": settings.media_max_voice_bytes,
        }
        return cls(kinds, limits)

    def kind_of(self, content_type: str | None) -> str:
        """The kind of an accepted type; :class:`Refused` ``type`` otherwise."""
        kind = self.kinds.get(normalise_type(content_type))
        if kind is None:
            raise Refused("type")
        return kind

    def check(self, content_type: str | None, declared_size: int | None = None) -> str:
        """Refuse by type, then by a size the platform declared, before anything is read."""
        kind = self.kind_of(content_type)
        limit = self.limits[kind]
        if declared_size is not None and declared_size > limit:
            raise Refused("size", kind=kind, limit=limit)
        return kind


class Spool:
    """A file being received: written to a temporary file, counted, checked, then kept or not.

    Use it as a context manager: leaving it with an exception (a refusal, a broken download)
    deletes the temporary file.
    """

    def __init__(self, directory: Path, content_type: str, kind: str, limit: int):
        directory.mkdir(parents=True, exist_ok=True)
        self.content_type = normalise_type(content_type)
        self.kind = kind
        self.limit = limit
        self.size = 0
        self.path = directory / f"{secrets.token_hex(16)}.part"
        self._hash = hashlib.sha256()
        self._head = b""
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file: Any = os.fdopen(fd, "wb")
        self.finished = False

    def write(self, chunk: bytes) -> None:
        """Add bytes; :class:`Refused` ``size`` (and the file is gone) past the limit."""
        self.size += len(chunk)
        if self.size > self.limit:
            self.discard()
            raise Refused("size", kind=self.kind, limit=self.limit)
        if len(self._head) < HEAD_BYTES:
            self._head += chunk[: HEAD_BYTES - len(self._head)]
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> Spool:
        """Close the file; :class:`Refused` if it is not what it claimed (or empty)."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        if self.size == 0:
            self.discard()
            raise Refused("failed", kind=self.kind)
        if not looks_like(self.content_type, self._head):
            self.discard()
            raise Refused("type", kind=self.kind)
        self.finished = True
        return self

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def discard(self) -> None:
        """Forget the file (idempotent)."""
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is not None or not self.finished:
            self.discard()


@dataclass(frozen=True)
class MediaFile:
    """A stored file, as recorded in ``handoff_media``."""

    id: int
    ticket_id: int | None
    person: str
    direction: str
    kind: str
    content_type: str
    size: int
    sha256: str
    stored_name: str
    created_at: float
    expires_at: float


class MediaStore:
    """The files of one database and one directory; one instance per process."""

    def __init__(
        self,
        database_url: str | Engine,
        settings: Settings | None = None,
        directory: Path | None = None,
    ):
        self.settings = settings or get_settings()
        self.directory = Path(directory or self.settings.media_dir)
        self.policy = MediaPolicy.from_settings(self.settings)
        self.db = Database(database_url)

    @property
    def engine(self) -> Engine:
        """The engine, with the handoff tables migrated on first use (``handoff.db``)."""
        return self.db.engine

    def dispose(self) -> None:
        """Close pooled connections."""
        self.db.dispose()

    # --- receiving --------------------------------------------------------------------------

    def spool(self, content_type: str | None, declared_size: int | None = None) -> Spool:
        """A :class:`Spool` for a file of this type; refused at once by type or declared size."""
        kind = self.policy.check(content_type, declared_size)
        return Spool(
            self.directory / INCOMING_DIR, content_type or "", kind, self.policy.limits[kind]
        )

    def add(
        self,
        spool: Spool,
        *,
        person: str,
        ticket_id: int | None,
        direction: str = "in",
        source_key: str | None = None,
    ) -> MediaFile:
        """Keep a finished spool with its ticket and return the stored file.

        A ``source_key`` seen before returns the file stored then (the spool is dropped).
        """
        assert direction in DIRECTIONS and spool.finished
        if source_key:
            known = self._one(t.media.c.source_key == source_key)
            if known is not None:
                spool.discard()
                return known
        stored_name = f"{secrets.token_hex(16)}{_extension(spool.content_type)}"
        now = time.time()
        os.replace(spool.path, self.directory / stored_name)
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(
                    sa.insert(t.media).values(
                        ticket_id=ticket_id,
                        person=person,
                        direction=direction,
                        kind=spool.kind,
                        content_type=spool.content_type,
                        size=spool.size,
                        sha256=spool.sha256,
                        stored_name=stored_name,
                        source_key=source_key,
                        created_at=now,
                        expires_at=now + self.settings.media_retention_days * 86400,
                    )
                ).inserted_primary_key[0]
        except IntegrityError:  # the same delivery, stored by another process meanwhile
            (self.directory / stored_name).unlink(missing_ok=True)
            known = self._one(t.media.c.source_key == source_key)
            if known is None:
                raise
            return known
        except Exception:
            (self.directory / stored_name).unlink(missing_ok=True)
            raise
        media = self.get(int(new_id))
        assert media is not None
        return media

    # --- reading ----------------------------------------------------------------------------

    def get(self, media_id: int) -> MediaFile | None:
        return self._one(t.media.c.id == media_id)

    def for_ticket(self, ticket_id: int) -> list[MediaFile]:
        """A ticket's files, oldest first (the desk lists them as downloads)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.media).where(t.media.c.ticket_id == ticket_id).order_by(t.media.c.id)
            ).all()
        return [_media(r) for r in rows]

    def path(self, media: MediaFile) -> Path:
        return self.directory / media.stored_name

    def _one(self, where: Any) -> MediaFile | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.media).where(where)).first()
        return _media(row) if row else None

    # --- links ------------------------------------------------------------------------------

    def link(self, media_id: int, minutes: int | None = None) -> str:
        """A URL under ``MEDIA_PUBLIC_URL`` that serves the file for ``minutes``."""
        token = secrets.token_urlsafe(32)
        expires = time.time() + 60 * (minutes or self.settings.media_link_minutes)
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(t.media_links).values(
                    token_hash=_token_hash(token), media_id=media_id, expires_at=expires
                )
            )
        return self.settings.media_public_url.rstrip("/") + "/" + token

    def resolve(self, token: str) -> MediaFile | None:
        """The file a token opens now; None when unknown, expired, or the file is gone."""
        if not token or len(token) > 128:
            return None
        now = time.time()
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.media)
                .join(t.media_links, t.media_links.c.media_id == t.media.c.id)
                .where(
                    t.media_links.c.token_hash == _token_hash(token),
                    t.media_links.c.expires_at > now,
                    t.media.c.expires_at > now,
                )
            ).first()
        if row is None:
            return None
        media = _media(row)
        return media if self.path(media).is_file() else None

    # --- deletion ---------------------------------------------------------------------------

    def erase_person(self, person: str) -> int:
        """Delete every file of a person ("delete my data"); returns how many."""
        return self._delete(t.media.c.person == person)

    def purge_expired(self, now: float | None = None) -> int:
        """Delete files past retention, expired links, and strays; returns files deleted."""
        now = time.time() if now is None else now
        deleted = self._delete(t.media.c.expires_at <= now)
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.media_links).where(t.media_links.c.expires_at <= now))
        deleted += self._sweep(now)
        return deleted

    def _delete(self, where: Any) -> int:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.media.c.id, t.media.c.stored_name).where(where)).all()
        if not rows:
            return 0
        for _, stored_name in rows:
            (self.directory / stored_name).unlink(missing_ok=True)
        ids = [r.id for r in rows]
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.media_links).where(t.media_links.c.media_id.in_(ids)))
            conn.execute(sa.delete(t.media).where(t.media.c.id.in_(ids)))
        return len(ids)

    def _sweep(self, now: float) -> int:
        """Delete old files on disk that no row names.

        They come from a crash between the move and the insert, or an abandoned download.
        Only old ones: a file may be between its move and its insert right now.
        """
        if not self.directory.is_dir():
            return 0
        with self.engine.connect() as conn:
            known = set(conn.execute(sa.select(t.media.c.stored_name)).scalars())
        swept = 0
        candidates = [*self.directory.iterdir(), *(self.directory / INCOMING_DIR).glob("*.part")]
        for path in candidates:
            if not path.is_file() or path.name in known:
                continue
            if now - path.stat().st_mtime > STRAY_SECONDS:
                path.unlink(missing_ok=True)
                swept += 1
        return swept


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
}


def _extension(content_type: str) -> str:
    return _EXTENSIONS.get(content_type, ".bin")


def download_name(media: MediaFile) -> str:
    """A file name for a download that says nothing about the person: ``ticket-42-7.jpg``."""
    return f"ticket-{media.ticket_id or 0}-{media.id}{_extension(media.content_type)}"


def _media(row: Any) -> MediaFile:
    return MediaFile(
        id=row.id,
        ticket_id=row.ticket_id,
        person=row.person,
        direction=row.direction,
        kind=row.kind,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        stored_name=row.stored_name,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


# --- messages -----------------------------------------------------------------------------


def person_refusal_text(refused: Refused, language: str | None) -> str:
    """What the person who sent a refused file reads, in their language (English if none)."""
    from bot.messages import render

    return render(PERSON_RESPONSES[refused.reason], language, limit=format_size(refused.limit or 0))


def mediator_refusal_text(refused: Refused, language: str | None, ticket: str) -> str:
    """What a mediator whose file was refused reads, in their registered language."""
    from handoff.texts import mediator_text

    return mediator_text(
        MEDIATOR_KEYS[refused.reason],
        language,
        ticket=ticket,
        limit=format_size(refused.limit or 0),
    )


# --- the process's store, and erasure -----------------------------------------------------


@lru_cache(maxsize=4)
def get_media_store(database_url: str | None = None) -> MediaStore:
    """The process's store for DATABASE_URL (or another URL, in tests)."""
    settings = get_settings()
    return MediaStore(database_url or settings.database_url, settings)


def erase_person(person: str, database_url: str | None = None) -> int:
    """Delete every file of a person: the call "delete my data" makes (bot.tracker_store)."""
    erased = get_media_store(database_url).erase_person(person)
    if erased:
        logger.info("handoff media: %d file(s) of %s erased", erased, person)
    return erased
