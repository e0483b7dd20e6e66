"""Files in a hand-off (``handoff/media.py``): what is accepted, kept, linked, erased and purged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from handoff import schema
from handoff.media import (
    MediaStore,
    Refused,
    format_size,
    mediator_refusal_text,
    person_refusal_text,
)
from tests.handoff.helpers import Clock, settings_for

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 500
OGG = b"OggS\x00\x02" + b"\x01" * 300
PDF = b"%PDF-1.4\n" + b"%" * 200
PERSON = "wa-3f0c2b1a9e8d7c6b5a4f3e2d"
OTHER = "tg-aaaaaaaaaaaaaaaaaaaaaaaa"


@pytest.fixture
def media(db_url, tmp_path):
    store = MediaStore(
        db_url,
        settings_for(
            db_url,
            media_dir=tmp_path / "media",
            media_max_image_bytes=1000,
            media_max_voice_bytes=2000,
            media_retention_days=30,
        ),
    )
    yield store
    store.dispose()


def keep(
    store: MediaStore,
    content: bytes,
    content_type: str,
    person: str = PERSON,
    ticket_id: int = 7,
    source_key: str | None = None,
):
    with store.spool(content_type, len(content)) as spool:
        spool.write(content)
        spool.finish()
        return store.add(spool, person=person, ticket_id=ticket_id, source_key=source_key)


def files_on_disk(store: MediaStore) -> list[str]:
    return sorted(p.name for p in store.directory.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "content_type, kind",
    [
        ("image/jpeg", "image"),
        ("image/png", "image"),
        ("application/pdf", "document"),
        ("audio/ogg", "voice"),
        ("audio/ogg; codecs=opus", "voice"),
        ("audio/mpeg", "voice"),
        ("audio/mp4", "voice"),
        ("Audio/X-M4A", "voice"),
    ],
)
def test_images_documents_and_voice_notes_are_accepted(media, content_type, kind):
    assert media.policy.kind_of(content_type) == kind


@pytest.mark.parametrize(
    "content_type", ["video/mp4", "application/x-msdownload", "text/html", "", None]
)
def test_other_types_are_refused_by_type(media, content_type):
    with pytest.raises(Refused) as refused:
        media.spool(content_type)
    assert refused.value.reason == "type"


def test_a_declared_size_over_the_limit_is_refused_before_reading(media):
    with pytest.raises(Refused) as refused:
        media.spool("image/jpeg", declared_size=1001)
    assert (refused.value.reason, refused.value.limit) == ("size", 1000)
    assert files_on_disk(media) == []


def test_the_limit_holds_while_the_file_arrives(media):
    spool = media.spool("image/jpeg")  # nothing declared
    spool.write(JPEG + b"\x00" * 490)  # 1000 bytes: the limit
    assert spool.size == 1000
    with pytest.raises(Refused) as refused:
        spool.write(b"\x00")  # byte 1001
    assert refused.value.reason == "size"
    assert files_on_disk(media) == []  # the partial file is gone at once


def test_a_file_that_is_not_what_it_claims_is_refused(media):
    with pytest.raises(Refused) as refused, media.spool("image/jpeg") as spool:
        spool.write(b"MZ\x90\x00 this is a program")
        spool.finish()
    assert refused.value.reason == "type"
    assert files_on_disk(media) == []


def test_an_empty_download_is_a_failure_not_a_file(media):
    with pytest.raises(Refused) as refused, media.spool("audio/ogg") as spool:
        spool.finish()
    assert refused.value.reason == "failed"


def test_a_kept_file_is_on_disk_with_its_ticket(media):
    kept = keep(media, OGG, "audio/ogg; codecs=opus")
    assert (kept.kind, kept.content_type, kept.size, kept.ticket_id) == (
        "voice",
        "audio/ogg",
        len(OGG),
        7,
    )
    assert media.path(kept).read_bytes() == OGG
    assert PERSON not in kept.stored_name and kept.stored_name.endswith(".ogg")
    assert [m.id for m in media.for_ticket(7)] == [kept.id]


def test_a_redelivered_file_is_kept_once(media):
    first = keep(media, JPEG, "image/jpeg", source_key="whatsapp:SM1:0")
    again = keep(media, JPEG, "image/jpeg", source_key="whatsapp:SM1:0")
    assert again.id == first.id
    assert len(files_on_disk(media)) == 1


def test_a_link_opens_the_file_until_it_expires(media, monkeypatch):
    import handoff.media as module

    clock = Clock()
    monkeypatch.setattr(module, "time", clock)
    kept = keep(media, PDF, "application/pdf")
    url = media.link(kept.id, minutes=30)
    token = url.rsplit("/", 1)[1]
    assert url.startswith(media.settings.media_public_url.rstrip("/") + "/")
    assert len(token) >= 43  # 256 bits
    assert media.resolve(token) == kept
    assert media.resolve(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    # Only the token's hash is stored: the database alone opens nothing.
    with media.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(sa.select(schema.media_links))]
    assert token not in repr(stored)
    clock.advance(31 * 60)
    assert media.resolve(token) is None


def test_delete_my_data_removes_the_persons_files_and_links(media):
    mine = [keep(media, JPEG, "image/jpeg"), keep(media, OGG, "audio/ogg")]
    theirs = keep(media, PDF, "application/pdf", person=OTHER, ticket_id=8)
    token = media.link(mine[0].id).rsplit("/", 1)[1]

    assert media.erase_person(PERSON) == 2

    assert files_on_disk(media) == [theirs.stored_name]
    assert media.get(mine[0].id) is None and media.get(theirs.id) is not None
    assert media.resolve(token) is None
    assert media.erase_person(PERSON) == 0


def test_files_are_deleted_after_the_retention_period(media, tmp_path):
    import os
    import time

    old = keep(media, JPEG, "image/jpeg")
    later = time.time() + 31 * 86400
    (media.directory / "incoming").mkdir(exist_ok=True)
    stray = media.directory / "incoming" / "dead-download.part"
    stray.write_bytes(b"half a file")
    os.utime(stray, (time.time() - 7200, time.time() - 7200))
    fresh_stray = media.directory / "incoming" / "arriving-now.part"
    fresh_stray.write_bytes(b"arriving")

    assert media.purge_expired(now=time.time()) == 1  # only the stray download: old enough
    assert media.path(old).exists() and not stray.exists() and fresh_stray.exists()
    assert media.purge_expired(now=later) >= 1
    assert not media.path(old).exists() and media.get(old.id) is None


def test_refusals_read_in_the_senders_language():
    size = Refused("size", kind="image", limit=5_000_000)
    english = person_refusal_text(size, None)
    italian = person_refusal_text(size, "it")
    arabic = person_refusal_text(size, "ar")
    assert "5 MB" in english and "5 MB" in italian and "5 MB" in arabic
    assert len({english, italian, arabic}) == 3
    for reason in ("type", "failed"):
        assert person_refusal_text(Refused(reason), "uk") != person_refusal_text(
            Refused(reason), None
        )
    assert "#42" in mediator_refusal_text(size, "it", "#42")
    assert mediator_refusal_text(size, "it", "#42") != mediator_refusal_text(size, "en", "#42")


def test_sizes_read_as_people_read_them():
    assert [format_size(n) for n in (5_000_000, 16_000_000, 2_500_000, 300_000)] == [
        "5 MB",
        "16 MB",
        "2.5 MB",
        "300 kB",
    ]


def test_the_erasure_call_for_delete_my_data_finds_the_store_by_url(
    sqlite_url, tmp_path, monkeypatch
):
    from handoff import media as module

    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "erase-media"))
    module.get_settings.cache_clear()
    module.get_media_store.cache_clear()
    try:
        store = module.get_media_store(sqlite_url)
        kept = keep(store, JPEG, "image/jpeg")
        assert store.path(kept).exists()
        assert module.erase_person(PERSON, sqlite_url) == 1
        assert not store.path(kept).exists()
    finally:
        module.get_media_store.cache_clear()
        module.get_settings.cache_clear()


def test_media_settings_come_from_the_environment(monkeypatch):
    from bot.settings import get_settings

    monkeypatch.setenv("MEDIA_IMAGE_TYPES", "image/jpeg, IMAGE/PNG")
    monkeypatch.setenv("MEDIA_MAX_VOICE_BYTES", "123")
    monkeypatch.setenv("TWILIO_CARD_TEMPLATE_SID", "it:HX1,HX2")
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert settings.media_image_types == ("image/jpeg", "image/png")
        assert settings.media_max_voice_bytes == 123
        assert settings.media_document_types[0] == "application/pdf"  # the default
        assert settings.twilio_card_template_sid == "it:HX1,HX2"
        monkeypatch.setenv("MEDIA_RETENTION_DAYS", "0")
        get_settings.cache_clear()
        with pytest.raises(SystemExit):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_a_row_whose_file_is_gone_opens_nothing_and_is_erased_again(media):
    # What a crash between unlinking the files and deleting their rows leaves behind.
    kept = keep(media, JPEG, "image/jpeg")
    token = media.link(kept.id).rsplit("/", 1)[1]
    media.path(kept).unlink()
    assert media.resolve(token) is None
    assert media.erase_person(PERSON) == 1 and media.get(kept.id) is None
