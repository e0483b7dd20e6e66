"""``bot handoff``: register mediators, look at the queue, migrate the tables.

Mediators are people with phone numbers and chat ids, so they live in the database
(DATABASE_URL), never in the repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from bot.kb.vocabulary import LANGUAGES


def _store():  # noqa: ANN202 - imported lazily: the CLI must start fast
    from handoff.store import get_handoff_store

    return get_handoff_store()


def _cmd_migrate(_: argparse.Namespace) -> int:
    from handoff.db import current_revision

    store = _store()
    print(f"handoff tables at revision {current_revision(store.engine)}")
    return 0


def _languages(value: str) -> list[str]:
    codes = [c.strip() for c in value.split(",") if c.strip()]
    unknown = [c for c in codes if c not in LANGUAGES]
    if not codes or unknown:
        raise argparse.ArgumentTypeError(
            f"languages must be codes among {' '.join(LANGUAGES)}; got {value!r}"
        )
    return codes


def _hours(value: str) -> str:
    from handoff.hours import parse_hours

    try:
        parse_hours(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return value


def _whatsapp(value: str) -> str:
    number = value.removeprefix("whatsapp:")
    if not number.startswith("+") or not number[1:].isdigit() or len(number) < 8:
        raise argparse.ArgumentTypeError(f"{value!r} is not an E.164 number such as +393331234567")
    return f"whatsapp:{number}"


def _cmd_add(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import IntegrityError

    if not (args.telegram or args.whatsapp or args.desk_only):
        print("error: give --telegram USER_ID, --whatsapp NUMBER or --desk-only", file=sys.stderr)
        return 2
    try:
        mediator = _store().mediators.add(
            args.name,
            args.languages,
            telegram_user_id=args.telegram,
            whatsapp=args.whatsapp,
            provinces=args.provinces.split(",") if args.provinces else (),
            hours=args.hours,
            ui_language=args.ui_language,
        )
    except IntegrityError:
        print(
            "error: a mediator with that name, Telegram id or number exists already",
            file=sys.stderr,
        )
        return 1
    print(f"mediator {mediator.id} {mediator.name}: {','.join(mediator.languages)}")
    if mediator.telegram_user_id:
        print(
            "ask them to open a private chat with the bot and press Start once, so the bot "
            "may write to them"
        )
    if args.desk_only:
        print(
            f"set the password they sign in to the desk with: bot handoff mediator password "
            f"{mediator.name!r}"
        )
    return 0


def _cmd_list(_: argparse.Namespace) -> int:
    for m in _store().mediators.all():
        where = "telegram" if m.telegram_user_id else "whatsapp" if m.whatsapp else "desk"
        state = "off" if not m.active else "paused" if m.paused else "active"
        if m.unreachable_since is not None:
            since = dt.datetime.fromtimestamp(m.unreachable_since, dt.timezone.utc)
            state += f", UNREACHABLE on Telegram since {since:%Y-%m-%d %H:%M} UTC: must press Start"
        print(
            f"{m.id:>4} {m.name:<24} {','.join(m.languages):<20} {where:<9} "
            f"{','.join(m.provinces) or 'all':<12} {m.hours or 'always':<28} {state}"
        )
    return 0


def _cmd_switch(args: argparse.Namespace) -> int:
    if not _store().mediators.set_active(args.name, args.func_active):
        print(f"error: no mediator named {args.name!r}", file=sys.stderr)
        return 1
    return 0


def _read_password(from_stdin: bool) -> str | None:
    """The new password: one line of stdin, or typed twice without echo."""
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("new desk password: ")
    if getpass.getpass("again: ") != first:
        print("error: the two passwords differ", file=sys.stderr)
        return None
    return first


def _cmd_password(args: argparse.Namespace) -> int:
    from handoff.credentials import hash_password

    store = _store()
    if store.mediators.by_name(args.name) is None:
        print(f"error: no mediator named {args.name!r}", file=sys.stderr)
        return 1
    if args.remove:
        store.mediators.set_password(args.name, None)
        print(f"{args.name}: desk password removed")
        return 0
    password = _read_password(args.stdin)
    if password is None:
        return 1
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    store.mediators.set_password(args.name, hashed)
    print(f"{args.name}: desk password set; sessions signed in with the old one have ended")
    return 0


def _cmd_link(args: argparse.Namespace) -> int:
    from handoff.service import Handoff

    handoff = Handoff(_store())
    mediator = handoff.store.mediators.by_name(args.name)
    if mediator is None or not mediator.active:
        print(f"error: no active mediator named {args.name!r}", file=sys.stderr)
        return 1
    where = handoff.send_desk_link(mediator, args.minutes)
    if where is None:
        print(
            f"error: {args.name} has no Telegram or WhatsApp to receive a link; set a "
            f"password instead: bot handoff mediator password {args.name!r}",
            file=sys.stderr,
        )
        return 1
    print(
        f"a sign-in link for {args.name} is queued to their {where} chat (valid "
        f"{args.minutes} min, once); the running assistant sends it"
    )
    return 0


def _cmd_tickets(args: argparse.Namespace) -> int:
    statuses = ("waiting", "claimed", "closed") if args.all else ("waiting", "claimed")
    now = time.time()
    for ticket in _store().tickets.in_states(statuses):
        minutes = (now - ticket.opened_at) / 60
        print(
            f"{ticket.label:>6} {ticket.status:<8} p{ticket.priority} {ticket.language:<3} "
            f"{ticket.channel:<9} {ticket.topic or '-':<24} {ticket.comune or '-':<20} "
            f"{minutes:6.0f} min" + (f"  rated {ticket.rating}" if ticket.rating else "")
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bot handoff`` and its subcommands."""
    handoff = subparsers.add_parser("handoff", help="mediators and tickets of the handoff")
    sub = handoff.add_subparsers(dest="handoff_command", metavar="HANDOFF_COMMAND", required=True)

    p = sub.add_parser("migrate", help="create or upgrade the handoff tables of DATABASE_URL")
    p.set_defaults(func=_cmd_migrate)

    mediator = sub.add_parser("mediator", help="register and list mediators")
    msub = mediator.add_subparsers(
        dest="mediator_command", metavar="MEDIATOR_COMMAND", required=True
    )
    p = msub.add_parser("add", help="register a mediator")
    p.add_argument("name")
    p.add_argument(
        "--languages", type=_languages, required=True, help="languages they speak, e.g. ar,fr,it"
    )
    p.add_argument("--telegram", metavar="USER_ID", help="their Telegram user id")
    p.add_argument("--whatsapp", type=_whatsapp, metavar="NUMBER", help="e.g. +393331234567")
    p.add_argument("--desk-only", action="store_true", help="works only on the local desk")
    p.add_argument("--provinces", default="", help="e.g. BA,BT (default: all)")
    p.add_argument(
        "--hours",
        type=_hours,
        default="",
        help="e.g. 'mon-fri 09:00-17:00, sat 09:00-13:00' (default: always)",
    )
    p.add_argument(
        "--ui-language",
        default="it",
        choices=("it", "en"),
        help="language of the bot's texts to them",
    )
    p.set_defaults(func=_cmd_add)
    p = msub.add_parser("list", help="every registered mediator")
    p.set_defaults(func=_cmd_list)
    p = msub.add_parser("password", help="set the password a mediator signs in to the desk with")
    p.add_argument("name")
    p.add_argument("--stdin", action="store_true", help="read it from one line of stdin")
    p.add_argument("--remove", action="store_true", help="remove it (links only)")
    p.set_defaults(func=_cmd_password)
    p = msub.add_parser(
        "link",
        help="send a mediator a one-time sign-in link to the desk, on their Telegram or WhatsApp",
    )
    p.add_argument("name")
    p.add_argument("--minutes", type=int, default=15, help="how long it works (default 15)")
    p.set_defaults(func=_cmd_link)
    for name, active in (("enable", True), ("disable", False)):
        p = msub.add_parser(name, help=f"{name} a mediator")
        p.add_argument("name")
        p.set_defaults(func=_cmd_switch, func_active=active)

    p = sub.add_parser("tickets", help="the open tickets (--all: closed ones too)")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=_cmd_tickets)
