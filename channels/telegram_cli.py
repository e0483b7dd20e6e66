"""``bot telegram set-webhook|delete-webhook|webhook-info``: the only calls to Telegram's setup API.

The server never registers its webhook itself (a restart must not touch Telegram); an operator
runs ``bot telegram set-webhook`` once per public URL or secret change. The secret registered is
TELEGRAM_WEBHOOK_SECRET, which the channel then requires on every update.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys

SECRET_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``telegram`` command group."""
    parser = subparsers.add_parser("telegram", help="register or remove the Telegram webhook")
    sub = parser.add_subparsers(dest="telegram_command", metavar="ACTION", required=True)

    set_parser = sub.add_parser("set-webhook", help="point Telegram at this assistant's webhook")
    set_parser.add_argument(
        "--url",
        help="public HTTPS URL of /webhooks/telegram/webhook (default: TELEGRAM_WEBHOOK_URL)",
    )
    set_parser.add_argument(
        "--drop-pending", action="store_true", help="discard updates Telegram has queued"
    )
    set_parser.set_defaults(func=_cmd_set)

    delete_parser = sub.add_parser("delete-webhook", help="stop Telegram sending updates here")
    delete_parser.add_argument(
        "--drop-pending", action="store_true", help="discard updates Telegram has queued"
    )
    delete_parser.set_defaults(func=_cmd_delete)

    info_parser = sub.add_parser("webhook-info", help="show what Telegram has registered")
    info_parser.set_defaults(func=_cmd_info)


def _configured_bot():  # type: ignore[no-untyped-def]
    from bot.settings import get_settings
    from channels.telegram import is_configured, make_bot

    settings = get_settings()
    if not is_configured(settings):
        print("error: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first", file=sys.stderr)
        return None, settings
    if not SECRET_FORMAT.match(settings.telegram_webhook_secret or ""):
        print(
            "error: TELEGRAM_WEBHOOK_SECRET may only contain A-Z, a-z, 0-9, _ and - "
            "(1 to 256 characters)",
            file=sys.stderr,
        )
        return None, settings
    return make_bot(settings), settings


def _run(coro) -> int:  # type: ignore[no-untyped-def]
    from telegram.error import TelegramError

    try:
        return asyncio.run(coro)
    except TelegramError as exc:
        print(f"error: Telegram refused: {exc}", file=sys.stderr)
        return 1


def _cmd_set(args: argparse.Namespace) -> int:
    from channels.telegram import ALLOWED_UPDATES

    bot, settings = _configured_bot()
    if bot is None:
        return 2
    url = args.url or settings.telegram_webhook_url
    if not url:
        print("error: give --url or set TELEGRAM_WEBHOOK_URL", file=sys.stderr)
        return 2

    async def call() -> int:
        async with bot:
            await bot.set_webhook(
                url,
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=args.drop_pending,
            )
        print(f"webhook set to {url}")
        return 0

    return _run(call())


def _cmd_delete(args: argparse.Namespace) -> int:
    bot, _ = _configured_bot()
    if bot is None:
        return 2

    async def call() -> int:
        async with bot:
            await bot.delete_webhook(drop_pending_updates=args.drop_pending)
        print("webhook deleted")
        return 0

    return _run(call())


def _cmd_info(_: argparse.Namespace) -> int:
    bot, _settings = _configured_bot()
    if bot is None:
        return 2

    async def call() -> int:
        async with bot:
            info = await bot.get_webhook_info()
        print(f"url: {info.url or '(none)'}")
        print(f"pending updates: {info.pending_update_count}")
        if info.last_error_message:
            print(f"last error: {info.last_error_message}")
        return 0

    return _run(call())
