"""What a mediator types, read the same way on every channel: commands, or a reply to a person.

``/claim 42`` (``claim 42`` without the slash on WhatsApp), ``#42 hello`` (to ticket 42),
``/close``, ``/release``, ``/transfer uk``, ``/note …``, ``/reopen 42``, ``/tickets``, ``/help``;
and a mediator's own profile: ``/me`` shows it, ``/languages ar fr``, ``/provinces BA LE`` (or
``all``), ``/hours mon-fri 09:00-17:00`` (or ``always``) change it, ``/pause`` and ``/resume``;
plain text goes to the person of the one ticket the mediator holds. Without a slash a command
word counts only when what follows fits it: "close" is a command, "close to the station" is a
reply. :meth:`MediatorCommands.run` carries the command out through the service
(``handoff.service.Handoff``, which does not know this module) and returns what to answer the
mediator.
"""

from __future__ import annotations

import re

from bot.kb.vocabulary import LANGUAGES
from bot.territory import PROVINCES
from handoff.records import HandoffError, Mediator
from handoff.schema import WAITING
from handoff.service import Handoff
from handoff.texts import mediator_text

_COMMAND = re.compile(r"^\s*/?(?P<verb>[a-z]+)(?:@\w+)?\b\s*(?P<rest>.*)$", re.S | re.I)
_TICKET_PREFIX = re.compile(r"^\s*#(?P<id>\d{1,9})\b\s*(?P<rest>.*)$", re.S)
_NUMBER = re.compile(r"^#?(\d{1,9})$")
_HOURS = re.compile(r"^\s*[a-z]{3}(\s*-\s*[a-z]{3})?\s+\d{1,2}:\d{2}", re.I)
VERBS = (
    "claim",
    "close",
    "release",
    "transfer",
    "note",
    "reopen",
    "tickets",
    "help",
    "start",
    *("me", "languages", "provinces", "hours", "pause", "resume"),
)
PROFILE_VERBS = ("me", "languages", "provinces", "hours", "pause", "resume")


class MediatorCommands:
    """Reads a mediator's message and carries it out through the service."""

    def __init__(self, handoff: Handoff):
        self.handoff = handoff
        self.store = handoff.store

    def run(
        self, mediator: Mediator | None, text: str, source_key: str | None = None
    ) -> str | None:
        """Carry out what a mediator typed; return what to answer them (None: relayed)."""
        if mediator is None:
            return mediator_text("not_registered", self.handoff.settings.mediator_group_language)
        try:
            return self._command(mediator, text.strip(), source_key)
        except HandoffError as exc:
            if exc.code == "unknown_command":
                return self.help_text(mediator, unknown=True)
            return mediator_text(exc.code, mediator.ui_language, **exc.values)

    def _command(self, mediator: Mediator, text: str, source_key: str | None) -> str | None:
        lang = mediator.ui_language
        prefixed = _TICKET_PREFIX.match(text)
        if prefixed:  # "#42 hello": a message for ticket 42
            ticket_id, body = int(prefixed["id"]), prefixed["rest"].strip()
            if not body:
                raise HandoffError("unknown_command")
            verb_match = _COMMAND.match(body)
            # "#42 /close", and "#42 close" with nothing after the command word.
            if (
                verb_match
                and verb_match["verb"].lower() in VERBS
                and (
                    body.startswith("/")
                    or _looks_like_command(verb_match["verb"].lower(), verb_match["rest"])
                )
            ):
                return self._verb(
                    mediator,
                    verb_match["verb"].lower(),
                    f"{ticket_id} {verb_match['rest']}",
                    source_key,
                )
            self.handoff.reply(ticket_id, mediator, body, source_key)
            return None
        match = _COMMAND.match(text)
        verb = match["verb"].lower() if match else ""
        rest = match["rest"] if match else ""
        if verb in VERBS and (text.startswith("/") or _looks_like_command(verb, rest)):
            return self._verb(mediator, verb, rest, source_key)
        if match and text.startswith("/"):  # "/clsoe": a mistyped command, not for the person
            raise HandoffError("unknown_command")
        held = self.store.tickets.held_by(mediator.id)
        if len(held) == 1:
            self.handoff.reply(held[0].id, mediator, text, source_key)
            return None
        if not held:
            return mediator_text("nothing_held", lang)
        return mediator_text(
            "which_ticket", lang, tickets=", ".join(x.label for x in held), example=held[0].id
        )

    def _verb(self, mediator: Mediator, verb: str, rest: str, source_key: str | None) -> str | None:
        handoff = self.handoff
        lang = mediator.ui_language
        words = rest.split()
        if verb in ("help", "start"):
            return self.help_text(mediator)
        if verb == "tickets":
            return self.tickets_text(mediator)
        if verb in PROFILE_VERBS:
            return self._profile(mediator, verb, rest)
        number = _NUMBER.match(words[0]) if words else None
        if verb in ("claim", "reopen"):
            if not number:
                raise HandoffError("unknown_command")
            ticket_id = int(number.group(1))
            (handoff.claim if verb == "claim" else handoff.reopen)(ticket_id, mediator)
            return None  # the confirmation is queued to the mediator
        ticket_id = int(number.group(1)) if number else self._only_held(mediator)
        args = words[1:] if number else words
        if verb == "close":
            handoff.close(ticket_id, mediator)
        elif verb == "release":
            handoff.release(ticket_id, mediator)
        elif verb == "transfer":
            if not args:
                raise HandoffError("unknown_command")
            handoff.transfer(ticket_id, mediator, args[0].lower())
        elif verb == "note":
            body = rest.strip()
            if number:
                body = body.split(None, 1)[1] if len(words) > 1 else ""
            if not body.strip():
                raise HandoffError("unknown_command")
            handoff.note(ticket_id, mediator, body.strip(), source_key)
            return mediator_text("note_saved", lang, ticket=f"#{ticket_id}")
        return None

    def _profile(self, mediator: Mediator, verb: str, rest: str) -> str:
        """Show or change the mediator's own languages, provinces, hours, pause."""
        mediators = self.store.mediators
        words = rest.replace(",", " ").split()
        if verb in ("pause", "resume"):
            mediators.set_paused(mediator.id, verb == "pause")
            return mediator_text("paused" if verb == "pause" else "resumed", mediator.ui_language)
        if verb == "languages" and words:
            mediator = mediators.set_profile(mediator.id, languages=words)
        elif verb == "provinces" and words:
            mediator = mediators.set_profile(mediator.id, provinces=words)
        elif verb == "hours" and rest.strip():
            mediator = mediators.set_profile(mediator.id, hours=rest)
        return self.profile_text(mediator)

    def profile_text(self, mediator: Mediator) -> str:
        """What cards reach the mediator: languages, provinces, hours, paused or not."""
        lang = mediator.ui_language
        return mediator_text(
            "profile",
            lang,
            languages=" ".join(mediator.languages),
            provinces=" ".join(mediator.provinces) or mediator_text("profile_all", lang),
            hours=mediator.hours or mediator_text("profile_always", lang),
            state=mediator_text("profile_paused" if mediator.paused else "profile_on_call", lang),
        )

    def _only_held(self, mediator: Mediator) -> int:
        held = self.store.tickets.held_by(mediator.id)
        if len(held) == 1:
            return held[0].id
        if not held:
            raise HandoffError("nothing_held")
        raise HandoffError(
            "which_ticket", tickets=", ".join(x.label for x in held), example=held[0].id
        )

    def help_text(self, mediator: Mediator, unknown: bool = False) -> str:
        """The list of commands, in the mediator's language (after "unknown command")."""
        help_line = mediator_text("help", mediator.ui_language)
        if unknown:
            return mediator_text("unknown_command", mediator.ui_language, help=help_line)
        return help_line

    def tickets_text(self, mediator: Mediator) -> str:
        """The waiting tickets the mediator could take, and those they hold."""
        lang = mediator.ui_language
        speakers = self.handoff.cards.speakers
        waiting = [
            x
            for x in self.store.tickets.in_states((WAITING,))
            if mediator.speaks(x.mediator_language) or not speakers(x.mediator_language)
        ]
        yours = self.store.tickets.held_by(mediator.id)
        none = mediator_text("none", lang)
        return mediator_text(
            "tickets_list",
            lang,
            waiting=", ".join(f"{x.label} ({x.mediator_language})" for x in waiting) or none,
            yours=", ".join(f"{x.label} ({x.language})" for x in yours) or none,
        )


def _looks_like_command(verb: str, rest: str) -> bool:
    """Without a slash, "close" or "claim 42" is a command; "close to the station" is not."""
    words = rest.split()
    if verb in ("tickets", "help", "close", "release"):
        return not words or (len(words) == 1 and bool(_NUMBER.match(words[0])))
    if verb in ("me", "pause", "resume"):
        return not words
    if verb == "languages":  # "languages ar fr": every word a language code
        return all(w.lower() in LANGUAGES for w in words)
    if verb == "provinces":
        return all(w.upper() in PROVINCES or w.lower() in ("all", "tutte") for w in words)
    if verb == "hours":  # "hours mon-fri 09:00-17:00", "hours always"
        return not words or rest.strip().lower() in ("always", "sempre") or bool(_HOURS.match(rest))
    if verb in ("claim", "reopen"):
        return len(words) == 1 and bool(_NUMBER.match(words[0]))
    if verb == "transfer":
        return 1 <= len(words) <= 2 and words[-1].lower() in LANGUAGES
    if verb == "note":  # "note 42 text"; a bare "note …" may well be meant for the person
        return len(words) >= 2 and bool(_NUMBER.match(words[0]))
    return False
