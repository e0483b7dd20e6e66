"""Serving a hand-off file behind a short-lived link (``channels/media_files.py``), as Twilio
fetches it for a WhatsApp message."""

from __future__ import annotations

import asyncio
import dataclasses

import aiohttp
import pytest
from channel_fakes import ACCOUNT_SID, AUTH_TOKEN, WHATSAPP_NUMBER
from channel_harness import serve

from bot.settings import get_settings
from channels.media_files import MediaFilesInput
from handoff.media import MediaStore

PDF = b"%PDF-1.4\n" + b"1 0 obj\n" * 300
PERSON = "wa-3f0c2b1a9e8d7c6b5a4f3e2d"


@pytest.fixture
async def served(tmp_path, store):
    settings = dataclasses.replace(
        get_settings(),
        database_url=f"sqlite:///{tmp_path / 'media.db'}",
        media_dir=tmp_path / "media",
    )
    media = MediaStore(settings.database_url, settings)
    channel, stop = await serve(MediaFilesInput(media), store)
    # Links point at this server, as MEDIA_PUBLIC_URL points at the public one.
    media.settings = dataclasses.replace(settings, media_public_url=channel.url)
    channel.media = media
    yield channel
    await stop()
    media.dispose()


def keep(media: MediaStore, content: bytes = PDF, content_type: str = "application/pdf"):
    with media.spool(content_type) as spool:
        spool.write(content)
        spool.finish()
        return media.add(spool, person=PERSON, ticket_id=42, direction="out")


async def test_a_link_serves_the_file_with_safe_headers(served):
    kept = keep(served.media)
    url = served.media.link(kept.id)

    async with served.http.get(url) as resp:
        body = await resp.read()
        headers = resp.headers
    assert resp.status == 200 and body == PDF
    assert headers["Content-Type"].startswith("application/pdf")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert f'filename="ticket-42-{kept.id}.pdf"' in headers["Content-Disposition"]


async def test_head_answers_type_and_length_as_twilio_checks_them(served):
    kept = keep(served.media)
    async with served.http.head(served.media.link(kept.id)) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/pdf")
        assert int(resp.headers["Content-Length"]) == len(PDF)
        assert await resp.read() == b""


async def test_unknown_expired_and_erased_links_all_get_the_same_404(served, monkeypatch):
    import time
    from types import SimpleNamespace

    import handoff.media as module

    gone = served.media.link(keep(served.media).id)
    served.media.erase_person(PERSON)
    expired = served.media.link(keep(served.media).id, minutes=1)
    answers = []
    for url in (served.url + "A" * 43, gone):
        async with served.http.get(url) as resp:
            answers.append((resp.status, await resp.text()))
    later = time.time() + 120
    monkeypatch.setattr(module, "time", SimpleNamespace(time=lambda: later))
    async with served.http.get(expired) as resp:
        answers.append((resp.status, await resp.text()))
    assert answers == [(404, "not found")] * 3


async def test_twilio_fetches_a_mediators_file_from_its_link(served, twilio_api):
    kept = keep(served.media)
    link = served.media.link(kept.id)
    # What the WhatsApp adapter sends: a message whose media is the link.
    form = {"To": "whatsapp:+393331234567", "From": WHATSAPP_NUMBER, "MediaUrl": link}
    async with aiohttp.ClientSession(auth=aiohttp.BasicAuth(ACCOUNT_SID, AUTH_TOKEN)) as http:
        url = f"{twilio_api.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        async with http.post(url, data=form) as resp:
            assert resp.status == 201
    for _ in range(100):
        if twilio_api.fetched:
            break
        await asyncio.sleep(0.02)
    assert [(u, status, body) for u, status, _, body in twilio_api.fetched] == [(link, 200, PDF)]
