"""Reading and checking the knowledge files (format: ``knowledge/README.md``).

:func:`read_knowledge` turns a ``knowledge/`` folder into :class:`Content` plus a list of
:class:`Problem` s, each pointing at ``file:line``. It never stops at the first problem: an editor
fixing a pull request wants them all at once. Loading refuses to write anything while there is
any problem, so what reaches the database has been through every check here.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import glossary, territory
from bot.kb.vocabulary import (
    DANGER_CLASSES,
    DANGER_GENERAL,
    LANGUAGES,
    OFFICE_KINDS,
    SERVICES,
    WEEKDAYS,
)
from bot.kb.yamlsource import LineDict, LineList, YamlError, load_yaml

Text = dict[str, str]  # ISO 639-1 code → text; "it" always present

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ./()-]*$")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one file; ``str()`` gives the ``file:line: what`` line editors see."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Record:
    """What every knowledge record carries: where it is and where its facts come from."""

    id: str
    file: str  # relative to the knowledge folder, e.g. "offices/ba.yml"
    line: int
    position: int  # 1-based order inside its file
    source: str | None = None
    source_date: dt.date | None = None  # the source's own date, when it shows one
    checked: dt.date | None = None
    verified: bool = False


@dataclass
class Service(Record):
    """A service (one of :data:`SERVICES`) and its name in each language."""

    name: Text = field(default_factory=dict)


@dataclass(frozen=True)
class Slot:
    """One weekly opening on one weekday (a ``days`` list becomes one slot per day)."""

    weekday: int  # 0 = Monday
    opens: dt.time
    closes: dt.time
    appointment_only: bool
    line: int = 0


@dataclass
class Closure:
    """A dated closure besides public holidays, with an optional note."""

    day: dt.date
    note: Text
    line: int = 0


@dataclass
class Office(Record):
    """An office record; comuni are ISTAT codes, provinces car-plate codes."""

    kind: str = ""
    services: list[str] = field(default_factory=list)
    name: str = ""
    comune: str = ""  # ISTAT code
    address: str = ""
    map_url: str = ""
    phone: str = ""
    email: str = ""
    pec: str = ""
    website: str = ""
    booking_url: str = ""
    serves_provinces: list[str] = field(default_factory=list)
    serves_comuni: list[str] = field(default_factory=list)  # ISTAT codes
    serves_region: bool = False
    hours: list[Slot] = field(default_factory=list)
    closures: list[Closure] = field(default_factory=list)
    notes: Text = field(default_factory=dict)
    # Created by the importer from a public register (bot/kb/merge.py), not written by an editor.
    imported: bool = False


@dataclass
class Procedure(Record):
    """A procedure with ordered steps and documents, each a map language → text."""

    service: str = ""
    title: Text = field(default_factory=dict)
    summary: Text = field(default_factory=dict)
    office_kinds: list[str] = field(default_factory=list)
    steps: list[Text] = field(default_factory=list)
    documents: list[Text] = field(default_factory=list)


@dataclass
class EmergencyNumber(Record):
    """A national emergency or help number."""

    number: str = ""
    label: Text = field(default_factory=dict)
    when: Text = field(default_factory=dict)


@dataclass
class FaqEntry(Record):
    """A specific question people ask, with a short sourced answer (``faq/<service>.yml``).

    ``variants`` are other ways people ask it, per language (``xx``: romanized and other
    written forms): training examples for retrieval, not texts anyone reads, so they are
    neither exported for translators nor loaded into the database.
    """

    service: str = ""
    question: Text = field(default_factory=dict)
    variants: dict[str, list[str]] = field(default_factory=dict)
    answer: Text = field(default_factory=dict)
    office_kinds: list[str] = field(default_factory=list)
    procedure: str | None = None
    sources: list[tuple[str, dt.date | None]] = field(default_factory=list)


@dataclass
class SafetyHelp(Record):
    """What a person in one kind of danger is told after the numbers (``safety.yml``)."""

    danger: str = ""
    numbers: list[str] = field(default_factory=list)  # emergency-number ids, in order
    text: Text = field(default_factory=dict)
    undocumented: Text = field(default_factory=dict)  # added when they say they have no papers
    procedure: str | None = None
    office_kinds: list[str] = field(default_factory=list)


@dataclass
class Alias:
    """Another way people write a comune's name (other script, old spelling)."""

    istat: str
    name: str
    file: str
    line: int
    source: str | None = None
    checked: dt.date | None = None


@dataclass
class Content:
    """Everything the knowledge folder says, checked and normalised."""

    services: list[Service] = field(default_factory=list)
    offices: list[Office] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)
    numbers: list[EmergencyNumber] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    faq: list[FaqEntry] = field(default_factory=list)
    help: list[SafetyHelp] = field(default_factory=list)


@dataclass(frozen=True)
class TextRef:
    """One translatable text: its key in exports (``record.field[.n]``) and its languages."""

    record_kind: str
    record_id: str
    field: str
    position: int  # 0 for a single text, 1.. inside a list
    texts: Text
    file: str
    line: int

    @property
    def key(self) -> str:
        """The key translators see, e.g. ``residence-permit-renewal.steps.2``."""
        suffix = f".{self.position}" if self.position else ""
        return f"{self.record_id}.{self.field}{suffix}"


def iter_texts(content: Content) -> Iterator[TextRef]:
    """Every translatable text in a stable order (files' order); office names are proper names."""
    for s in content.services:
        yield TextRef("service", s.id, "name", 0, s.name, s.file, s.line)
    for o in content.offices:
        if o.notes:
            yield TextRef("office", o.id, "notes", 0, o.notes, o.file, o.line)
        for n, closure in enumerate(o.closures, 1):
            if closure.note:
                yield TextRef("office", o.id, "closures", n, closure.note, o.file, closure.line)
    for p in content.procedures:
        yield TextRef("procedure", p.id, "title", 0, p.title, p.file, p.line)
        yield TextRef("procedure", p.id, "summary", 0, p.summary, p.file, p.line)
        for n, text in enumerate(p.steps, 1):
            yield TextRef("procedure", p.id, "steps", n, text, p.file, p.line)
        for n, text in enumerate(p.documents, 1):
            yield TextRef("procedure", p.id, "documents", n, text, p.file, p.line)
    for e in content.numbers:
        yield TextRef("emergency", e.id, "label", 0, e.label, e.file, e.line)
        if e.when:
            yield TextRef("emergency", e.id, "when", 0, e.when, e.file, e.line)
    for h in content.help:
        yield TextRef("safety", h.id, "text", 0, h.text, h.file, h.line)
        if h.undocumented:
            yield TextRef("safety", h.id, "undocumented", 0, h.undocumented, h.file, h.line)
    for f in content.faq:
        yield TextRef("faq", f.id, "question", 0, f.question, f.file, f.line)
        yield TextRef("faq", f.id, "answer", 0, f.answer, f.file, f.line)


# --------------------------------------------------------------------------- field checking


class _Checker:
    """Collects problems for one file; its helpers return ``None`` for a value that is wrong."""

    def __init__(self, display: str, problems: list[Problem]) -> None:
        self.display = display
        self.problems = problems

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.display, line, message))

    def keys(self, rec: LineDict, allowed: tuple[str, ...], what: str) -> None:
        for key in rec:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                also = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.error(rec.line_of(key), f"unknown key {key!r} in {what}{also}")

    def value(
        self, rec: LineDict, key: str, kind: type | tuple[type, ...], what: str, required: bool
    ) -> Any:
        if key not in rec or rec[key] is None:
            if required:
                self.error(rec.line, f"{what} is missing {key!r}")
            return None
        value = rec[key]
        # bool is an int in Python; a "yes" where a number is wanted is still wrong.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
            names = " or ".join(_type_name(k) for k in _tuple(kind))
            self.error(rec.line_of(key), f"{key!r} must be {names}, not {_type_name(type(value))}")
            return None
        return value

    def string(self, rec: LineDict, key: str, what: str, required: bool = False) -> str | None:
        value = self.value(rec, key, str, what, required)
        return value.strip() if isinstance(value, str) else None

    def url(self, rec: LineDict, key: str, what: str) -> str:
        value = self.string(rec, key, what) or ""
        if value and not value.startswith(("http://", "https://")):
            self.error(rec.line_of(key), f"{key!r} must be a web address starting with https://")
            return ""
        return value

    def date(self, rec: LineDict, key: str, what: str, required: bool) -> dt.date | None:
        value = self.value(rec, key, (dt.date, str), what, required)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                self.error(rec.line_of(key), f"{key!r} must be a date YYYY-MM-DD, not {value!r}")
                return None
        return value

    def time(self, rec: LineDict, key: str, what: str) -> dt.time | None:
        value = self.value(rec, key, str, what, True)
        if value is None:
            return None
        match = _TIME.match(value.strip())
        if match:
            hour, minute = int(match[1]), int(match[2])
            if hour < 24 and minute < 60:
                return dt.time(hour, minute)
        self.error(rec.line_of(key), f"{key!r} must be a time HH:MM (00:00-23:59), not {value!r}")
        return None

    def text(self, rec: LineDict, key: str, what: str, required: bool) -> Text | None:
        value = self.value(rec, key, dict, what, required)
        if value is None:
            return None
        return self.text_value(value, f"{key!r} of {what}")

    def text_value(self, value: Any, what: str, line: int | None = None) -> Text | None:
        if not isinstance(value, LineDict):
            self.error(line or 0, f"{what} must be a map of language → text")
            return None
        result: Text = {}
        for lang, text in value.items():
            if lang not in LANGUAGES:
                hint = difflib.get_close_matches(str(lang), LANGUAGES, n=1)
                also = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.error(value.line_of(lang), f"unknown language {lang!r} in {what}{also}")
            elif not isinstance(text, str):
                self.error(value.line_of(lang), f"{what} in {lang!r} must be text")
            elif text.strip():
                result[lang] = text.strip()
        if "it" not in result:
            self.error(value.line, f"missing Italian text (it) in {what}")
            return None
        return result

    def provenance(
        self, rec: LineDict, record: Record, what: str, required: bool, source_key: bool = True
    ) -> None:
        """``source_key=False``: the record lists ``sources`` and has set ``source`` itself."""
        if source_key:
            record.source = self.string(rec, "source", what, required)
            record.source_date = self.date(rec, "source_date", what, required=False)
        record.checked = self.date(rec, "checked", what, required)
        if record.source_date and record.checked and record.source_date > record.checked:
            self.error(rec.line_of("source_date"), "source_date is later than checked")
        verified = self.value(rec, "verified", bool, what, required)
        record.verified = bool(verified)
        if record.verified and not record.source:
            self.error(rec.line_of("verified"), "verified: true needs a source")


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _type_name(kind: type) -> str:
    return {
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        dict: "a mapping",
        LineDict: "a mapping",
        list: "a list",
        LineList: "a list",
        dt.date: "a date",
        type(None): "empty",
    }.get(kind, kind.__name__)


def _suggest(name: str, choices: list[str]) -> str:
    hint = difflib.get_close_matches(name, choices, n=1, cutoff=0.75)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


@dataclass
class _Territory:
    by_fold: dict[str, territory.Comune]

    @classmethod
    def build(cls) -> _Territory:
        return cls(territory.by_folded_name())

    def comune(self, check: _Checker, name: Any, line: int) -> str | None:
        if not isinstance(name, str):
            check.error(line, f"a comune must be given by its name as text, not {name!r}")
            return None
        folded = territory.fold(name)
        found = self.by_fold.get(folded)
        if found is None:
            hint = difflib.get_close_matches(folded, list(self.by_fold), n=1, cutoff=0.75)
            also = f" (did you mean {self.by_fold[hint[0]].name!r}?)" if hint else ""
            check.error(line, f"unknown comune {name!r}{also}")
            return None
        return found.istat


# --------------------------------------------------------------------------- records

_PROVENANCE = ("source", "source_date", "checked", "verified")
_OFFICE_KEYS = (
    "id",
    "kind",
    "services",
    "name",
    "comune",
    "address",
    "map_url",
    "phone",
    "email",
    "pec",
    "website",
    "booking_url",
    "serves",
    "hours",
    "closures",
    "notes",
    *_PROVENANCE,
)
_PROCEDURE_KEYS = (
    "id",
    "service",
    "title",
    "summary",
    "office_kinds",
    "steps",
    "documents",
    *_PROVENANCE,
)
_SERVICE_KEYS = ("id", "name", *_PROVENANCE)
_NUMBER_KEYS = ("id", "number", "label", "when", *_PROVENANCE)
_ALIAS_KEYS = ("comune", "names", "source", "checked")
_FAQ_KEYS = (
    "id",
    "service",
    "question",
    "variants",
    "answer",
    "office_kinds",
    "procedure",
    "sources",
    "checked",
    "verified",
)
_HELP_KEYS = (
    "id",
    "danger",
    "numbers",
    "text",
    "undocumented",
    "procedure",
    "office_kinds",
    *_PROVENANCE,
)
# Variants may also be written in forms without an ISO code (romanized Urdu, Pidgin, Wolof).
_VARIANT_LANGUAGES = (*LANGUAGES, "xx")


def _record_id(check: _Checker, rec: LineDict, what: str) -> str | None:
    rid = check.string(rec, "id", what, required=True)
    if rid is not None and not _ID.match(rid):
        check.error(rec.line_of("id"), f"id {rid!r} must be lower-case a-z, 0-9 and '-'")
        return None
    return rid


def _list_of(
    check: _Checker, rec: LineDict, key: str, what: str, required: bool = False
) -> LineList:
    value = check.value(rec, key, list, what, required)
    if value is None:
        empty = LineList()
        empty.line, empty.item_lines = rec.line, []
        return empty
    if required and not value:
        check.error(rec.line_of(key), f"{what} {key!r} must not be empty")
    return value


def _office(check: _Checker, terr: _Territory, rec: LineDict, file: str, pos: int) -> Office:
    check.keys(rec, _OFFICE_KEYS, "office")
    office = Office(
        id=_record_id(check, rec, "office") or "", file=file, line=rec.line, position=pos
    )
    what = f"office {office.id!r}" if office.id else "office"
    kind = check.string(rec, "kind", what, required=True)
    if kind is not None and kind not in OFFICE_KINDS:
        check.error(
            rec.line_of("kind"),
            f"unknown office kind {kind!r} (expected one of {', '.join(OFFICE_KINDS)})",
        )
    office.kind = kind or ""
    services = _list_of(check, rec, "services", what, required=True)
    for i, service in enumerate(services):
        if service not in SERVICES:
            check.error(
                services.line_of(i),
                f"unknown service {service!r}{_suggest(str(service), list(SERVICES))}",
            )
        elif service in office.services:
            check.error(services.line_of(i), f"service {service!r} listed twice")
        else:
            office.services.append(service)
    office.name = check.string(rec, "name", what, required=True) or ""
    if "name" in rec and isinstance(rec["name"], str) and not office.name:
        check.error(rec.line_of("name"), f"missing Italian text (the name) of {what}")
    where = check.value(rec, "comune", str, what, required=True)
    if where is not None:
        office.comune = terr.comune(check, where, rec.line_of("comune")) or ""
    office.address = check.string(rec, "address", what) or ""
    office.map_url = check.url(rec, "map_url", what)
    office.phone = check.string(rec, "phone", what) or ""
    if office.phone and not _PHONE.match(office.phone):
        check.error(rec.line_of("phone"), f"phone {office.phone!r} is not a phone number")
    for key in ("email", "pec"):
        value = check.string(rec, key, what) or ""
        if value and ("@" not in value or " " in value):
            check.error(rec.line_of(key), f"{key} {value!r} is not an e-mail address")
            value = ""
        setattr(office, key, value)
    office.website = check.url(rec, "website", what)
    office.booking_url = check.url(rec, "booking_url", what)
    _serves(check, terr, rec, office, what)
    office.hours = _hours(check, rec, what)
    office.closures = _closures(check, rec, what)
    office.notes = check.text(rec, "notes", f"{what}", required=False) or {}
    check.provenance(rec, office, what, required=True)
    return office


def _serves(check: _Checker, terr: _Territory, rec: LineDict, office: Office, what: str) -> None:
    serves = check.value(rec, "serves", dict, what, required=True)
    if serves is None:
        return
    check.keys(serves, ("provinces", "comuni", "region"), f"'serves' of {what}")
    given = [key for key in ("provinces", "comuni", "region") if key in serves]
    if len(given) != 1:
        check.error(serves.line, "'serves' needs exactly one of provinces, comuni or region")
    if "provinces" in serves:
        codes = _list_of(check, serves, "provinces", what, required=True)
        for i, code in enumerate(codes):
            code_up = code.upper() if isinstance(code, str) else code
            if code_up not in territory.PROVINCES:
                check.error(
                    codes.line_of(i),
                    f"unknown province {code!r} (expected one of {', '.join(territory.PROVINCES)})",
                )
            elif code_up not in office.serves_provinces:
                office.serves_provinces.append(code_up)
    if "comuni" in serves:
        names = _list_of(check, serves, "comuni", what, required=True)
        for i, name in enumerate(names):
            istat = terr.comune(check, name, names.line_of(i))
            if istat and istat not in office.serves_comuni:
                office.serves_comuni.append(istat)
    if "region" in serves:
        if serves["region"] is not True:
            check.error(serves.line_of("region"), "'region' can only be true")
        office.serves_region = serves["region"] is True


def _hours(check: _Checker, rec: LineDict, what: str) -> list[Slot]:
    slots: list[Slot] = []
    entries = _list_of(check, rec, "hours", what)
    for i, entry in enumerate(entries):
        line = entries.line_of(i)
        if not isinstance(entry, LineDict):
            check.error(line, "each entry of 'hours' must be a mapping with days, open, close")
            continue
        check.keys(entry, ("days", "open", "close", "appointment_only"), "hours")
        days = _list_of(check, entry, "days", "hours entry", required=True)
        opens = check.time(entry, "open", "hours entry")
        closes = check.time(entry, "close", "hours entry")
        appointment = check.value(entry, "appointment_only", bool, "hours entry", False)
        if opens is not None and closes is not None and closes <= opens:
            check.error(line, f"closes ({closes:%H:%M}) before it opens ({opens:%H:%M})")
            continue
        for j, day in enumerate(days):
            if day not in WEEKDAYS:
                check.error(
                    days.line_of(j), f"unknown day {day!r} (expected one of {', '.join(WEEKDAYS)})"
                )
            elif opens is not None and closes is not None:
                slots.append(Slot(WEEKDAYS.index(day), opens, closes, bool(appointment), line))
    by_day = sorted(slots, key=lambda s: (s.weekday, s.opens))
    for before, after in zip(by_day, by_day[1:], strict=False):
        if before.weekday == after.weekday and after.opens < before.closes:
            check.error(
                after.line,
                f"hours overlap on {WEEKDAYS[after.weekday]}: "
                f"{before.opens:%H:%M}-{before.closes:%H:%M} (line {before.line}) and "
                f"{after.opens:%H:%M}-{after.closes:%H:%M}",
            )
    return by_day


def _closures(check: _Checker, rec: LineDict, what: str) -> list[Closure]:
    closures: list[Closure] = []
    entries = _list_of(check, rec, "closures", what)
    seen: dict[dt.date, int] = {}
    for i, entry in enumerate(entries):
        line = entries.line_of(i)
        if not isinstance(entry, LineDict):
            check.error(line, "each entry of 'closures' must be a mapping with date and note")
            continue
        check.keys(entry, ("date", "note"), "closure")
        day = check.date(entry, "date", "closure", required=True)
        note = check.text(entry, "note", "closure", required=False) or {}
        if day is None:
            continue
        if day in seen:
            check.error(line, f"closure on {day} given twice (first at line {seen[day]})")
            continue
        seen[day] = line
        closures.append(Closure(day, note, line))
    return closures


def _procedure(check: _Checker, rec: LineDict, file: str, pos: int) -> Procedure:
    check.keys(rec, _PROCEDURE_KEYS, "procedure")
    proc = Procedure(
        id=_record_id(check, rec, "procedure") or "", file=file, line=rec.line, position=pos
    )
    what = f"procedure {proc.id!r}" if proc.id else "procedure"
    service = check.string(rec, "service", what, required=True)
    if service is not None and service not in SERVICES:
        check.error(
            rec.line_of("service"),
            f"unknown service {service!r}{_suggest(service, list(SERVICES))}",
        )
    proc.service = service or ""
    proc.title = check.text(rec, "title", what, required=True) or {}
    proc.summary = check.text(rec, "summary", what, required=True) or {}
    proc.office_kinds = _office_kinds(check, rec, what)
    for key in ("steps", "documents"):
        items = _list_of(check, rec, key, what, required=key == "steps")
        texts = [
            check.text_value(item, f"{what} {key} #{i + 1}", items.line_of(i))
            for i, item in enumerate(items)
        ]
        setattr(proc, key, [t for t in texts if t is not None])
    check.provenance(rec, proc, what, required=True)
    return proc


def _office_kinds(check: _Checker, rec: LineDict, what: str) -> list[str]:
    result: list[str] = []
    kinds = _list_of(check, rec, "office_kinds", what)
    for i, kind in enumerate(kinds):
        if kind not in OFFICE_KINDS:
            check.error(
                kinds.line_of(i),
                f"unknown office kind {kind!r}{_suggest(str(kind), list(OFFICE_KINDS))}",
            )
        elif kind not in result:
            result.append(kind)
    return result


def _faq(check: _Checker, rec: LineDict, file: str, pos: int, service: str) -> FaqEntry:
    check.keys(rec, _FAQ_KEYS, "FAQ entry")
    entry = FaqEntry(
        id=_record_id(check, rec, "FAQ entry") or "", file=file, line=rec.line, position=pos
    )
    what = f"FAQ entry {entry.id!r}" if entry.id else "FAQ entry"
    given = check.string(rec, "service", what, required=True)
    if given is not None and given != service:
        check.error(
            rec.line_of("service"),
            f"service {given!r} in the file of {service!r}: "
            f"move the entry to faq/{given}.yml or correct the service",
        )
    entry.service = service
    entry.question = check.text(rec, "question", what, required=True) or {}
    entry.answer = check.text(rec, "answer", what, required=True) or {}
    variants = check.value(rec, "variants", dict, what, required=True)
    for lang, texts in (variants or {}).items():
        line = variants.line_of(lang)
        if lang not in _VARIANT_LANGUAGES:
            check.error(
                line,
                f"unknown language {lang!r} in the variants of {what}"
                f"{_suggest(str(lang), list(_VARIANT_LANGUAGES))}",
            )
        elif not isinstance(texts, list) or not all(
            isinstance(t, str) and t.strip() for t in texts
        ):
            check.error(line, f"variants of {what} in {lang!r} must be a list of texts")
        else:
            entry.variants[lang] = [t.strip() for t in texts]
    if variants is not None and not entry.variants.get("it"):
        check.error(rec.line_of("variants"), f"{what} needs at least one Italian variant")
    entry.office_kinds = _office_kinds(check, rec, what)
    entry.procedure = check.string(rec, "procedure", what) or None
    for i, item in enumerate(_list_of(check, rec, "sources", what)):
        if not isinstance(item, LineDict):
            check.error(
                rec.line_of("sources"),
                f"source #{i + 1} of {what} must be a mapping with url and (optional) date",
            )
            continue
        check.keys(item, ("url", "date"), f"source #{i + 1} of {what}")
        url = check.url(item, "url", f"source #{i + 1} of {what}")
        if not url and "url" not in item:
            check.error(item.line, f"source #{i + 1} of {what} is missing 'url'")
        when = check.date(item, "date", f"source #{i + 1} of {what}", required=False)
        if url:
            entry.sources.append((url, when))
    if entry.sources:
        entry.source, entry.source_date = entry.sources[0]
    check.provenance(rec, entry, what, required=True, source_key=False)
    return entry


def _help(check: _Checker, rec: LineDict, file: str, pos: int) -> SafetyHelp:
    check.keys(rec, _HELP_KEYS, "safety help")
    item = SafetyHelp(
        id=_record_id(check, rec, "safety help") or "", file=file, line=rec.line, position=pos
    )
    what = f"safety help {item.id!r}" if item.id else "safety help"
    danger = check.string(rec, "danger", what, required=True)
    known = (*DANGER_CLASSES, DANGER_GENERAL)
    if danger is not None and danger not in known:
        check.error(
            rec.line_of("danger"), f"unknown danger {danger!r} (expected one of {', '.join(known)})"
        )
    item.danger = danger or ""
    numbers = _list_of(check, rec, "numbers", what, required=True)
    item.numbers = [str(n) for n in numbers]
    item.text = check.text(rec, "text", what, required=True) or {}
    item.undocumented = check.text(rec, "undocumented", what, required=False) or {}
    item.procedure = check.string(rec, "procedure", what) or None
    item.office_kinds = _office_kinds(check, rec, what)
    check.provenance(rec, item, what, required=True)
    return item


def _service(check: _Checker, rec: LineDict, file: str, pos: int) -> Service:
    check.keys(rec, _SERVICE_KEYS, "service")
    sid = check.string(rec, "id", "service", required=True) or ""
    if sid and sid not in SERVICES:
        check.error(rec.line_of("id"), f"unknown service {sid!r}{_suggest(sid, list(SERVICES))}")
    service = Service(id=sid, file=file, line=rec.line, position=pos)
    service.name = check.text(rec, "name", f"service {sid!r}", required=True) or {}
    check.provenance(rec, service, f"service {sid!r}", required=False)
    return service


def _number(check: _Checker, rec: LineDict, file: str, pos: int) -> EmergencyNumber:
    check.keys(rec, _NUMBER_KEYS, "emergency number")
    number = EmergencyNumber(
        id=_record_id(check, rec, "emergency number") or "", file=file, line=rec.line, position=pos
    )
    what = f"emergency number {number.id!r}"
    value = check.value(rec, "number", (str, int), what, required=True)
    number.number = str(value).strip() if value is not None else ""
    if value is not None and not _PHONE.match(number.number):
        check.error(rec.line_of("number"), f"{number.number!r} is not a phone number")
    number.label = check.text(rec, "label", what, required=True) or {}
    number.when = check.text(rec, "when", what, required=False) or {}
    check.provenance(rec, number, what, required=True)
    return number


def _aliases(check: _Checker, terr: _Territory, rec: LineDict, file: str) -> list[Alias]:
    check.keys(rec, _ALIAS_KEYS, "alias entry")
    where = check.value(rec, "comune", str, "alias entry", required=True)
    istat = terr.comune(check, where, rec.line_of("comune")) if where is not None else None
    source = check.string(rec, "source", "alias entry")
    checked = check.date(rec, "checked", "alias entry", required=False)
    names = _list_of(check, rec, "names", "alias entry", required=True)
    result = []
    for i, name in enumerate(names):
        if not isinstance(name, str) or not territory.fold(name):
            check.error(names.line_of(i), f"an alias must be non-empty text, not {name!r}")
        elif istat:
            result.append(Alias(istat, name.strip(), file, names.line_of(i), source, checked))
    return result


# --------------------------------------------------------------------------- files

# Where each kind of file lives, and its one top-level key.
_TOP_KEY = {
    "territory": "aliases",
    "services": "services",
    "emergency": "numbers",
    "safety": "help",
    "offices": "offices",
    "procedures": "procedures",
    "faq": "faq",
}


def _file_kind(rel: Path) -> str | None:
    parts = rel.parts
    if (
        len(parts) == 1
        and rel.suffix == ".yml"
        and rel.stem in ("territory", "services", "emergency", "safety")
    ):
        return rel.stem
    if len(parts) == 2 and rel.suffix == ".yml" and parts[0] in ("offices", "procedures"):
        return parts[0]
    if len(parts) == 2 and rel.suffix == ".yml" and parts[0] == "faq" and rel.stem in SERVICES:
        return "faq"
    return None


def knowledge_files(root: Path) -> list[Path]:
    """Every YAML file under ``root``, sorted so reports and loads are stable."""
    return sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_knowledge(root: Path) -> tuple[Content, list[Problem]]:
    """Read and check every knowledge file under ``root``."""
    content = Content()
    problems: list[Problem] = []
    terr = _Territory.build()
    if not root.is_dir():
        return content, [Problem(str(root), 0, "not a folder")]
    for path in knowledge_files(root):
        rel = path.relative_to(root)
        if rel.as_posix() == "reference/registers.yml":
            continue  # the registers' manifest: bot/kb/reference.py reads and checks it
        check = _Checker(_display(path), problems)
        kind = _file_kind(rel)
        if kind is None:
            check.error(
                1,
                "not a knowledge file: expected territory.yml, services.yml, "
                "emergency.yml, safety.yml, offices/<name>.yml, procedures/<name>.yml, "
                "faq/<service>.yml or reference/registers.yml",
            )
            continue
        try:
            data = load_yaml(path)
        except YamlError as exc:
            check.error(exc.line, exc.message)
            continue
        if data is None:
            continue  # an empty file says nothing
        top = _TOP_KEY[kind]
        if kind != "territory":  # comune names are names, not translations
            for line, message in glossary.check_tree(data):
                check.error(line, message)
        if not isinstance(data, LineDict):
            check.error(getattr(data, "line", 1), f"the file must be a mapping with {top!r}")
            continue
        check.keys(data, (top,), f"{rel}")
        entries = data.get(top)
        if entries is None:
            continue
        if not isinstance(entries, LineList):
            check.error(data.line_of(top), f"{top!r} must be a list")
            continue
        for pos, rec in enumerate(entries, 1):
            if not isinstance(rec, LineDict):
                check.error(entries.line_of(pos - 1), f"each entry of {top!r} must be a mapping")
                continue
            file = rel.as_posix()
            if kind == "offices":
                content.offices.append(_office(check, terr, rec, file, pos))
            elif kind == "procedures":
                content.procedures.append(_procedure(check, rec, file, pos))
            elif kind == "services":
                content.services.append(_service(check, rec, file, pos))
            elif kind == "emergency":
                content.numbers.append(_number(check, rec, file, pos))
            elif kind == "safety":
                content.help.append(_help(check, rec, file, pos))
            elif kind == "faq":
                content.faq.append(_faq(check, rec, file, pos, rel.stem))
            else:
                content.aliases.extend(_aliases(check, terr, rec, file))
    _cross_checks(root, content, problems, terr)
    # The glossary's own problems (locales/glossary.yml) stop a load as any file's would.
    problems.extend(Problem(*found) for found in glossary.default()[1])
    return content, sorted(set(problems), key=lambda p: (p.file, p.line, p.message))


def _cross_checks(root: Path, content: Content, problems: list[Problem], terr: _Territory) -> None:
    def where(rec: Record | Alias) -> str:
        return _display(root / rec.file)

    seen: dict[str, Record] = {}
    records: list[Record] = [
        *content.services,
        *content.offices,
        *content.procedures,
        *content.numbers,
        *content.help,
        *content.faq,
    ]
    for rec in records:
        if not rec.id:
            continue
        first = seen.get(rec.id)
        if first is not None:
            problems.append(
                Problem(
                    where(rec),
                    rec.line,
                    f"duplicate id {rec.id!r} (first at {where(first)}:{first.line})",
                )
            )
        else:
            seen[rec.id] = rec
    procedures = {p.id for p in content.procedures}
    numbers = {n.id for n in content.numbers}
    with_procedure: list[FaqEntry | SafetyHelp] = [*content.faq, *content.help]
    for rec in with_procedure:
        if rec.procedure and rec.procedure not in procedures:
            problems.append(
                Problem(
                    where(rec),
                    rec.line,
                    f"unknown procedure {rec.procedure!r}"
                    f"{_suggest(rec.procedure, sorted(procedures))}",
                )
            )
    dangers: dict[str, SafetyHelp] = {}
    for item in content.help:
        for number in item.numbers:
            if number not in numbers:
                problems.append(
                    Problem(
                        where(item),
                        item.line,
                        f"unknown emergency number {number!r}{_suggest(number, sorted(numbers))}",
                    )
                )
        first_help = dangers.setdefault(item.danger, item)
        if first_help is not item:
            problems.append(
                Problem(
                    where(item),
                    item.line,
                    f"danger {item.danger!r} has help "
                    f"already (at {where(first_help)}:{first_help.line})",
                )
            )
    # An alias must point at one comune only, and not at a name that is another comune's.
    claimed: dict[str, Alias] = {}
    for alias in content.aliases:
        key = territory.fold(alias.name)
        official = terr.by_fold.get(key)
        if official is not None and official.istat != alias.istat:
            problems.append(
                Problem(
                    where(alias),
                    alias.line,
                    f"alias {alias.name!r} is the "
                    f"official name of another comune ({official.name})",
                )
            )
        other = claimed.get(key)
        if other is not None and other.istat != alias.istat:
            problems.append(
                Problem(
                    where(alias),
                    alias.line,
                    f"alias {alias.name!r} also names "
                    f"another comune (at {where(other)}:{other.line})",
                )
            )
        claimed.setdefault(key, alias)
