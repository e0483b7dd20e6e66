"""Reading the public registers in ``knowledge/reference/`` into checked entries.

The registers (listed with their source, date and licence in ``reference/registers.yml``) give
contacts that editors have not typed: every comune's town hall, the Prefetture, the ASL head
offices, the CPIA teaching sites. They are raw material: the ISTAT list is the truth about which
comuni exist, so every row is joined to it by ISTAT code or codice catastale, every field goes
through :mod:`bot.kb.normalize`, and whatever cannot be used is kept as a :class:`Skip` with its
``file:line`` and reason. :mod:`bot.kb.merge` then decides which values reach which office.

Only a broken manifest or a register without its columns is a :class:`Problem` (the load stops);
a bad row is a skip, reported, because editors fix registers by replacing the extract, not by
hand.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot import territory
from bot.kb import geo, normalize
from bot.kb.validate import Problem
from bot.kb.yamlsource import LineDict, LineList, YamlError, load_yaml

FOLDER = "reference"
MANIFEST = "registers.yml"

ROLES = ("comuni_contacts", "comuni_townhalls", "comuni_suppressed", "prefetture", "asl", "cpia")
_COLUMNS = {
    "comuni_contacts": (
        "istat",
        "nome",
        "sigla",
        "catastale",
        "cap",
        "prefisso",
        "email",
        "pec",
        "telefono",
        "lat",
        "lng",
    ),
    "comuni_townhalls": ("id", "name", "address", "url", "email", "source_url"),
    "comuni_suppressed": ("istat", "catastale", "nome", "sigla", "ceased", "merged_into_istat"),
    "prefetture": ("province", "address", "cap", "email", "pec", "phone"),
    "asl": ("id", "name", "address", "url", "email", "source_url"),
    "cpia": (
        "REGIONE",
        "CODICEISTITUTORIFERIMENTO",
        "DENOMINAZIONEISTITUTORIFERIMENTO",
        "CODICESCUOLA",
        "DENOMINAZIONESCUOLA",
        "INDIRIZZOSCUOLA",
        "CAPSCUOLA",
        "CODICECOMUNESCUOLA",
        "DESCRIZIONECOMUNE",
        "DESCRIZIONECARATTERISTICASCUOLA",
        "INDICAZIONESEDEDIRETTIVO",
        "INDIRIZZOEMAILSCUOLA",
        "INDIRIZZOPECSCUOLA",
        "SITOWEBSCUOLA",
    ),
}
_MANIFEST_KEYS = ("id", "role", "file", "title", "origin", "url", "date", "licence", "attribution")

# A town hall more than this far from its capoluogo has wrong coordinates (the farthest comune of
# Puglia from its capoluogo, in the Gargano or the Capo di Leuca, is about 75 km away).
MAX_KM_FROM_CAPOLUOGO = 110.0

# Words that mark a school site inside a prison (not open to the public), besides the
# registry's own "SPEC. PER CARCERARI" characteristic.
_PRISON_WORDS = (
    "CARCER",
    "CIRCONDARIALE",
    "PENITENZIAR",
    "RECLUSIONE",
    "I.P.M.",
    "RIEDUCAZIONE MINORILE",
)

# Skip reasons (the report groups by these codes).
MERGED = "merged"  # a comune merged into another: its row describes a body that is gone
OUTSIDE = "outside_puglia"
UNKNOWN = "unknown_comune"  # no comune of Puglia has that ISTAT code / codice catastale
DUPLICATE = "duplicate"
PRISON = "prison_site"
INVALID = "invalid"  # a field that fails its format (phone, web address, e-mail, PEC, CAP...)
NOISE = "noise"  # a field that has a valid form but not this body's value
LOCATION = "location_uncertain"  # a school whose comune code and CAP disagree, unresolved
REASONS = (MERGED, OUTSIDE, UNKNOWN, DUPLICATE, PRISON, INVALID, NOISE, LOCATION)


@dataclass(frozen=True)
class Register:
    """One register of the manifest: what it is, where it comes from, how old it is."""

    id: str
    role: str
    file: str  # relative to the knowledge folder, e.g. "reference/prefetture_2021.csv"
    title: str
    origin: str
    url: str
    date: dt.date | None  # a bare year counts as its 1 January
    date_label: str  # as the manifest gives it: "2022" or "2025-09-01"
    licence: str
    attribution: str


@dataclass(frozen=True)
class Skip:
    """A row (``field`` "") or one field of a row that was not imported, and why."""

    register: str
    file: str
    line: int
    reason: str  # one of REASONS
    detail: str
    field: str = ""

    def __str__(self) -> str:
        what = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}: {self.reason}: {what}{self.detail}"


@dataclass(frozen=True)
class Note:
    """A repair or a decision that kept a value (a website's doubled scheme, a relocated site)."""

    register: str
    file: str
    line: int
    detail: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.detail}"


@dataclass(frozen=True)
class Value:
    """A checked value and the register row it came from."""

    text: str
    register: str
    line: int
    link: str  # the row's own page when the register gives one, else the register's url


@dataclass
class Entry:
    """What one register row (or, for a comune, two registers' rows) says about one body.

    ``seat``: the contacts are those of the administration's main seat (town hall, Prefettura,
    ASL head office), which may not be the counter a person needs.
    """

    register: str
    file: str
    line: int
    link: str
    comune: str  # ISTAT code of where it is
    key: str  # ISTAT code (comuni), province code (prefetture, asl), school code (cpia)
    name: str = ""
    seat: bool = False
    head_office: bool = False  # cpia: the institute's own seat
    institute: str = ""  # cpia: code of the institute the site belongs to
    fields: dict[str, Value] = field(default_factory=dict)


@dataclass
class References:
    """Everything usable in the registers, plus what was skipped and repaired."""

    registers: dict[str, Register] = field(default_factory=dict)  # by id
    comuni: dict[str, Entry] = field(default_factory=dict)  # ISTAT code → town hall
    coordinates: dict[str, tuple[float, float, Value]] = field(default_factory=dict)
    prefetture: dict[str, Entry] = field(default_factory=dict)  # province → Prefettura
    asl: dict[str, Entry] = field(default_factory=dict)  # province → ASL head office
    cpia: list[Entry] = field(default_factory=list)  # public sites, registry order
    rows: Counter = field(default_factory=Counter)  # register id → data rows read
    skips: list[Skip] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def by_role(self, role: str) -> Register | None:
        """The register playing ``role``, if the manifest lists one."""
        return next((r for r in self.registers.values() if r.role == role), None)


# --------------------------------------------------------------------------- manifest


def _manifest(root: Path, refs: References) -> None:
    path = root / FOLDER / MANIFEST
    display = f"{FOLDER}/{MANIFEST}"
    try:
        data = load_yaml(path)
    except YamlError as exc:
        refs.problems.append(Problem(display, exc.line, exc.message))
        return
    entries = data.get("registers") if isinstance(data, LineDict) else None
    if not isinstance(entries, LineList):
        refs.problems.append(
            Problem(
                display,
                getattr(data, "line", 1),
                "the manifest must be a mapping with a 'registers' list",
            )
        )
        return
    roles: set[str] = set()
    for i, item in enumerate(entries):
        line = entries.line_of(i)
        if not isinstance(item, LineDict):
            refs.problems.append(Problem(display, line, "each register must be a mapping"))
            continue
        unknown = [k for k in item if k not in _MANIFEST_KEYS]
        missing = [
            k
            for k in ("id", "role", "file", "title", "url", "licence", "attribution")
            if not isinstance(item.get(k), str) or not item[k].strip()
        ]
        for key in unknown:
            refs.problems.append(Problem(display, item.line_of(key), f"unknown key {key!r}"))
        for key in missing:
            refs.problems.append(Problem(display, line, f"register is missing {key!r}"))
        if missing:
            continue
        role = item["role"]
        if role not in ROLES:
            refs.problems.append(
                Problem(
                    display,
                    item.line_of("role"),
                    f"unknown role {role!r} (expected one of {', '.join(ROLES)})",
                )
            )
            continue
        if role in roles:
            refs.problems.append(
                Problem(display, item.line_of("role"), f"role {role!r} given to two registers")
            )
            continue
        roles.add(role)
        when, label = _manifest_date(item.get("date"))
        if when is None and item.get("date") is not None:
            refs.problems.append(
                Problem(display, item.line_of("date"), "'date' must be YYYY-MM-DD or a year")
            )
            continue
        if not (root / FOLDER / item["file"]).is_file():
            refs.problems.append(
                Problem(display, item.line_of("file"), f"no file {FOLDER}/{item['file']}")
            )
            continue
        refs.registers[item["id"]] = Register(
            id=item["id"],
            role=role,
            file=f"{FOLDER}/{item['file']}",
            title=item["title"],
            origin=str(item.get("origin") or ""),
            url=item["url"],
            date=when,
            date_label=label,
            licence=item["licence"],
            attribution=item["attribution"],
        )


def _manifest_date(value: object) -> tuple[dt.date | None, str]:
    if isinstance(value, dt.date):
        return value, value.isoformat()
    if isinstance(value, int) and 1900 < value < 2200:
        return dt.date(value, 1, 1), str(value)
    return None, ""


def _rows(root: Path, register: Register, refs: References) -> list[tuple[int, dict[str, str]]]:
    """The data rows with their line numbers (line 1 is the header)."""
    path = root / register.file
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _COLUMNS[register.role] if c not in (reader.fieldnames or ())]
        if missing:
            refs.problems.append(
                Problem(register.file, 1, f"missing column(s) {', '.join(missing)}")
            )
            return []
        rows = [(reader.line_num, {k: (v or "") for k, v in row.items() if k}) for row in reader]
    refs.rows[register.id] = len(rows)
    return rows


# --------------------------------------------------------------------------- helpers


class _Reader:
    """Skips and notes for one register, and the checks every register shares."""

    def __init__(self, register: Register, refs: References) -> None:
        self.register = register
        self.refs = refs

    def skip(self, line: int, reason: str, detail: str, field_name: str = "") -> None:
        self.refs.skips.append(
            Skip(self.register.id, self.register.file, line, reason, detail, field_name)
        )

    def note(self, line: int, detail: str) -> None:
        self.refs.notes.append(Note(self.register.id, self.register.file, line, detail))

    def value(self, line: int, text: str, link: str | None = None) -> Value:
        return Value(text, self.register.id, line, link or self.register.url)

    def checked(
        self, line: int, name: str, result: normalize.Checked, link: str | None = None
    ) -> Value | None:
        """Keep a checked value, or record why it was refused; note a repair."""
        if result.refused:
            self.skip(line, INVALID, result.reason, name)
            return None
        if result.note:
            self.note(line, result.note)
        return self.value(line, result.value, link) if result.value else None

    def link(self, line: int, raw: str) -> str:
        checked = normalize.url(raw)
        return checked.value or self.register.url


def _province_code(text: str) -> str | None:
    """Car-plate code of "BA", "Bari", "BARLETTA-ANDRIA-TRANI"; None outside Puglia."""
    key = territory.fold(text)
    for code, name in territory.PROVINCES.items():
        if key in (territory.fold(code), territory.fold(name)):
            return code
    return None


def _comune_in(name: str, province: str) -> territory.Comune | None:
    found = territory.by_folded_name().get(territory.fold(name))
    return found if found and found.province == province else None


def cap_fits(cap: str, comune: territory.Comune, comune_cap: str | None) -> bool:
    """Whether a CAP can be the comune's: its own, or any of a capoluogo's ("70122" for Bari).

    Capoluoghi have one CAP per district; the contacts register lists only the first, so for
    them the first three digits must agree. The old CAPs of the BT comuni (70059 for Trani,
    before the province of Barletta-Andria-Trani) do not fit.
    """
    if not comune_cap:
        return True
    if cap == comune_cap:
        return True
    return comune.capoluogo and cap[:3] == comune_cap[:3]


# --------------------------------------------------------------------------- the registers


def _suppressed(root: Path, refs: References) -> dict[str, tuple[str, str, int]]:
    """Codice catastale of a suppressed comune → (its name, what became of it, line)."""
    register = refs.by_role("comuni_suppressed")
    if register is None:
        return {}
    read = _Reader(register, refs)
    istat = {c.istat: c for c in territory.comuni()}
    result = {}
    for line, row in _rows(root, register, refs):
        code = row["catastale"].strip().upper()
        successor = istat.get(row["merged_into_istat"].strip())
        if successor is None:
            read.skip(
                line, UNKNOWN, f"successor {row['merged_into_istat']!r} is not a comune of Puglia"
            )
            continue
        fate = f"merged into {successor.name} (ceased {row['ceased'].strip()})"
        result[code] = (row["nome"].strip(), fate, line)
    return result


def _comuni_contacts(root: Path, refs: References, suppressed: dict) -> dict[str, str]:
    """Phone, e-mail, PEC and coordinates of each comune; returns ISTAT code → CAP."""
    register = refs.by_role("comuni_contacts")
    if register is None:
        return {}
    read = _Reader(register, refs)
    istat = {c.istat: c for c in territory.comuni()}
    catastali = territory.by_catastale()
    caps: dict[str, str] = {}
    raw_coords: dict[str, tuple[str, str, int]] = {}
    for line, row in _rows(root, register, refs):
        code = row["istat"].strip()
        comune = istat.get(code)
        catastale = row["catastale"].strip().upper()
        if comune is None:
            _unjoined(read, line, row["nome"], row["sigla"], catastale, suppressed)
            continue
        if code in refs.comuni:
            read.skip(
                line,
                DUPLICATE,
                f"{comune.name} given again (first at line {refs.comuni[code].line})",
            )
            continue
        if catastali.get(catastale) is not comune:
            read.note(
                line,
                f"codice catastale {catastale!r} is not {comune.name}'s; joined on "
                f"the ISTAT code {code}",
            )
        entry = Entry(
            register.id, register.file, line, register.url, comune.istat, comune.istat, seat=True
        )
        prefix = row["prefisso"].strip() or None
        for name, result in (
            ("phone", normalize.phone(row["telefono"], prefix)),
            ("email", normalize.email(row["email"])),
            ("pec", normalize.pec(row["pec"])),
        ):
            if (
                name == "pec"
                and result.refused
                and "email" not in entry.fields
                and normalize.email(row["pec"]).value
            ):
                # A mailbox in the PEC column is still the comune's: the e-mail it lacks.
                read.note(line, f"{result.reason}: used as the e-mail")
                result = normalize.email(row["pec"])
                name = "email"
            value = read.checked(line, name, result)
            if value:
                entry.fields[name] = value
        refs.comuni[code] = entry
        caps[code] = normalize.cap(row["cap"])
        raw_coords[code] = (row["lat"], row["lng"], line)
    _coordinates(read, refs, raw_coords)
    return caps


def _unjoined(
    read: _Reader, line: int, name: str, province: str, catastale: str, suppressed: dict
) -> None:
    """Say why a row names no current comune of Puglia."""
    if catastale in suppressed:
        old, fate, _ = suppressed[catastale]
        read.skip(line, MERGED, f"{old}: {fate}")
    elif province and _province_code(province) is None:
        read.skip(line, OUTSIDE, f"{name.strip()} ({province.strip()}) is not in Puglia")
    else:
        read.skip(
            line, UNKNOWN, f"{name.strip()}: no comune of Puglia has codice {catastale or '?'}"
        )


def _coordinates(read: _Reader, refs: References, raw: dict[str, tuple[str, str, int]]) -> None:
    """Check town-centre coordinates: inside Puglia, near the capoluogo, not shared."""
    parsed: dict[str, tuple[float, float]] = {}
    for code, (lat, lng, line) in raw.items():
        result = normalize.coordinates(lat, lng)
        if isinstance(result, str):
            read.skip(line, INVALID, result, "coordinates")
            continue
        parsed[code] = result
        if max(normalize.decimals(lat), normalize.decimals(lng)) < 2:
            read.note(line, f"coordinates {lat}, {lng} are rough (one decimal: about ±5 km)")
    capoluoghi = {
        c.province: c.istat for c in territory.comuni() if c.capoluogo and c.istat in parsed
    }
    istat = {c.istat: c for c in territory.comuni()}
    shared: dict[tuple[float, float], list[str]] = defaultdict(list)
    for code, point in parsed.items():
        line = raw[code][2]
        centre = parsed.get(capoluoghi.get(istat[code].province, ""))
        if centre and geo.km(point, centre) > MAX_KM_FROM_CAPOLUOGO:
            read.skip(
                line,
                INVALID,
                f"coordinates {point[0]}, {point[1]} are "
                f"{geo.km(point, centre):.0f} km from the capoluogo",
                "coordinates",
            )
            continue
        shared[point].append(code)
        refs.coordinates[code] = (*point, read.value(line, f"{point[0]},{point[1]}"))
    for point, codes in shared.items():
        if len(codes) > 1:
            names = ", ".join(istat[c].name for c in codes)
            read.note(
                raw[codes[0]][2],
                f"{names} share the coordinates {point[0]}, "
                f"{point[1]}: distances from them are rough",
            )


def _townhalls(root: Path, refs: References, suppressed: dict, caps: dict[str, str]) -> None:
    """Town-hall address and website (and a mailbox the contacts register lacks)."""
    register = refs.by_role("comuni_townhalls")
    if register is None:
        return
    read = _Reader(register, refs)
    catastali = territory.by_catastale()
    seen: dict[str, int] = {}
    for line, row in _rows(root, register, refs):
        ident = row["id"].strip()
        catastale = ident.rsplit("/", 1)[-1].upper().removeprefix("C_")
        parsed = normalize.ipa_address(row["address"])
        province = parsed.province if parsed else ""
        comune = catastali.get(catastale)
        if comune is None and catastale not in suppressed:
            # IndicePA codes are not always the codice catastale (c_fu3v, c_l158 for San
            # Severo, whose code is I158): the exact official name in its province decides.
            name = row["name"].strip().removeprefix("Comune di ").strip()
            comune = _comune_in(name, province) if province else None
            if comune is not None:
                read.note(
                    line,
                    f"IndicePA code {ident!r} is not the codice catastale of "
                    f"{comune.name}: joined by its name in {province}",
                )
        if comune is None:
            _unjoined(read, line, row["name"], province, catastale, suppressed)
            refused = normalize.url(row["url"])
            if refused.refused:  # reported too, so the register's noise is all on record
                read.skip(line, INVALID, refused.reason, "website")
            continue
        if comune.istat in seen:
            read.skip(
                line, DUPLICATE, f"{comune.name} given again (first at line {seen[comune.istat]})"
            )
            continue
        seen[comune.istat] = line
        link = read.link(line, row["source_url"])
        entry = refs.comuni.setdefault(
            comune.istat,
            Entry(register.id, register.file, line, link, comune.istat, comune.istat, seat=True),
        )
        address = _address(read, line, parsed, comune, caps.get(comune.istat), row["address"])
        if address:
            entry.fields["address"] = read.value(line, address, link)
        website = read.checked(line, "website", normalize.url(row["url"]), link)
        if website:
            entry.fields["website"] = website
        mailbox = normalize.email(row["email"])
        kind = "pec" if mailbox.value and normalize.is_pec_domain(mailbox.value) else "email"
        value = read.checked(line, kind, mailbox, link)
        if value and kind not in entry.fields:
            entry.fields[kind] = value


def _address(
    read: _Reader,
    line: int,
    parsed: normalize.IpaAddress | None,
    comune: territory.Comune,
    comune_cap: str | None,
    raw: str,
) -> str:
    """The address "Street, CAP Comune" from IndicePA; a CAP that is not the comune's left out."""
    if parsed is None:
        if not normalize.is_empty(raw):
            read.skip(
                line,
                INVALID,
                f"address {raw.strip()!r} has not the form 'street - CAP comune (PV)'",
                "address",
            )
        return ""
    if territory.fold(parsed.comune) != territory.fold(comune.name):
        read.skip(
            line,
            NOISE,
            f"address {raw.strip()!r} is in {parsed.comune}, not {comune.name}",
            "address",
        )
        return ""
    if cap_fits(parsed.cap, comune, comune_cap):
        return f"{parsed.street}, {parsed.cap} {comune.name}"
    read.note(
        line, f"CAP {parsed.cap} is not {comune.name}'s ({comune_cap}): left out of the address"
    )
    return f"{parsed.street}, {comune.name}"


def _prefetture(root: Path, refs: References, caps: dict[str, str]) -> None:
    register = refs.by_role("prefetture")
    if register is None:
        return
    read = _Reader(register, refs)
    for line, row in _rows(root, register, refs):
        code = _province_code(row["province"])
        if code is None:
            read.skip(line, OUTSIDE, f"Prefettura of {row['province'].strip()} is not in Puglia")
            continue
        if code in refs.prefetture:
            read.skip(line, DUPLICATE, f"Prefettura of {code} given again")
            continue
        # "Piazza Liberta, 1, BARI, BA, Italia": street parts, comune, province, country.
        parts = [p.strip() for p in row["address"].split(",") if p.strip()]
        if parts and territory.fold(parts[-1]) in ("italia", "italy"):
            parts = parts[:-1]
        comune = _comune_in(parts[-2], code) if len(parts) >= 3 and parts[-1] == code else None
        if comune is None:
            read.skip(
                line,
                INVALID,
                f"address {row['address'].strip()!r} names no comune of {code}",
                "address",
            )
            comune = next(c for c in territory.comuni() if c.province == code and c.capoluogo)
            address = ""
        else:
            street = normalize.clean_text(" ".join(parts[:-2]))
            cap = normalize.cap(row["cap"])
            if cap and not cap_fits(cap, comune, caps.get(comune.istat)):
                read.note(line, f"CAP {cap} is not {comune.name}'s: left out of the address")
                cap = ""
            address = f"{street}, {cap} {comune.name}" if cap else f"{street}, {comune.name}"
        entry = Entry(
            register.id,
            register.file,
            line,
            register.url,
            comune.istat,
            code,
            name=f"Prefettura di {comune.name}",
            seat=True,
        )
        if address:
            entry.fields["address"] = read.value(line, address)
        for name, result in (
            ("phone", normalize.phone(row["phone"])),
            ("email", normalize.email(row["email"])),
            ("pec", normalize.pec(row["pec"])),
        ):
            value = read.checked(line, name, result)
            if value:
                entry.fields[name] = value
        refs.prefetture[code] = entry


def _asl(root: Path, refs: References, caps: dict[str, str]) -> None:
    register = refs.by_role("asl")
    if register is None:
        return
    read = _Reader(register, refs)
    for line, row in _rows(root, register, refs):
        parsed = normalize.ipa_address(row["address"])
        code = _province_code(parsed.province) if parsed else None
        if parsed is None:
            read.skip(
                line,
                INVALID,
                f"address {row['address'].strip()!r} has not the form 'street - CAP comune (PV)'",
            )
            continue
        if code is None:
            read.skip(line, OUTSIDE, f"{row['name'].strip()} ({parsed.province}) is not in Puglia")
            continue
        comune = _comune_in(parsed.comune, code)
        if comune is None:
            read.skip(line, UNKNOWN, f"{parsed.comune} is not a comune of {code}")
            continue
        if code in refs.asl:
            read.skip(line, DUPLICATE, f"ASL of {code} given again")
            continue
        link = read.link(line, row["source_url"])
        entry = Entry(
            register.id,
            register.file,
            line,
            link,
            comune.istat,
            code,
            name=normalize.clean_text(row["name"]),
            seat=True,
        )
        address = _address(read, line, parsed, comune, caps.get(comune.istat), row["address"])
        if address:
            entry.fields["address"] = read.value(line, address, link)
        website = read.checked(line, "website", normalize.url(row["url"]), link)
        if website:
            entry.fields["website"] = website
        mailbox = normalize.email(row["email"])
        kind = "pec" if mailbox.value and normalize.is_pec_domain(mailbox.value) else "email"
        value = read.checked(line, kind, mailbox, link)
        if value:
            entry.fields[kind] = value
        refs.asl[code] = entry


def _cpia(root: Path, refs: References, suppressed: dict, caps: dict[str, str]) -> None:
    """Public CPIA sites; prison sites and sites that cannot be placed are skipped.

    The registry's per-site e-mail and website are often another school's (the host school's
    mailbox, the website of another CPIA): every site gets its institute's, read from the
    institute's head office, and a site value that differs is reported as noise.
    """
    register = refs.by_role("cpia")
    if register is None:
        return
    read = _Reader(register, refs)
    rows = _rows(root, register, refs)
    catastali = territory.by_catastale()
    by_cap: dict[str, list[territory.Comune]] = defaultdict(list)
    istat = {c.istat: c for c in territory.comuni()}
    for code, cap in caps.items():
        by_cap[cap].append(istat[code])
    institutes = _institutes(read, rows)
    seen: dict[str, int] = {}
    for line, row in rows:
        school = row["CODICESCUOLA"].strip().upper()
        name = _school_name(row)
        if territory.fold(row["REGIONE"]) != "puglia":
            read.skip(line, OUTSIDE, f"{name} is in {row['REGIONE'].strip()}")
            continue
        if _is_prison(row):
            read.skip(line, PRISON, f"{name} is inside a prison (not open to the public)")
            continue
        if school in seen:
            read.skip(
                line, DUPLICATE, f"school {school} given again (first at line {seen[school]})"
            )
            continue
        seen[school] = line
        catastale = row["CODICECOMUNESCUOLA"].strip().upper()
        comune = catastali.get(catastale)
        if comune is None:
            _unjoined(read, line, name, "", catastale, suppressed)
            continue
        cap = normalize.cap(row["CAPSCUOLA"])
        comune = _place(read, line, name, row, comune, cap, caps, by_cap)
        if comune is None:
            continue
        institute = row["CODICEISTITUTORIFERIMENTO"].strip().upper()
        entry = Entry(
            register.id,
            register.file,
            line,
            register.url,
            comune.istat,
            school,
            name=name,
            head_office=row["INDICAZIONESEDEDIRETTIVO"].strip() == "SI",
            institute=institute,
        )
        street = normalize.clean_text(row["INDIRIZZOSCUOLA"])
        if street:
            fits = cap and cap_fits(cap, comune, caps.get(comune.istat))
            entry.fields["address"] = read.value(
                line, f"{street}, {cap} {comune.name}" if fits else f"{street}, {comune.name}"
            )
        contacts = institutes.get(institute, {})
        for key, column, check in (
            ("email", "INDIRIZZOEMAILSCUOLA", normalize.email),
            ("pec", "INDIRIZZOPECSCUOLA", normalize.pec),
            ("website", "SITOWEBSCUOLA", normalize.url),
        ):
            own = check(row[column])
            if own.refused:
                read.skip(line, INVALID, own.reason, key)
            elif own.value and key in contacts and own.value != contacts[key].text:
                read.skip(
                    line,
                    NOISE,
                    f"{own.value!r} is not the institute's ({contacts[key].text!r}), which is used",
                    key,
                )
            if key in contacts:
                entry.fields[key] = contacts[key]
        refs.cpia.append(entry)


def _institutes(
    read: _Reader, rows: list[tuple[int, dict[str, str]]]
) -> dict[str, dict[str, Value]]:
    """Each institute's e-mail, PEC and website: its head office's, else its sites' most common.

    A website counts only if it names a CPIA (host containing "cpia"): the registry lists
    host schools' and other CPIA's websites on some sites.
    """
    result: dict[str, dict[str, Value]] = {}
    candidates: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    lines: dict[tuple[str, str, str], int] = {}
    for line, row in rows:
        institute = row["CODICEISTITUTORIFERIMENTO"].strip().upper()
        head = row["INDICAZIONESEDEDIRETTIVO"].strip() == "SI"
        for key, column, check in (
            ("email", "INDIRIZZOEMAILSCUOLA", normalize.email),
            ("pec", "INDIRIZZOPECSCUOLA", normalize.pec),
            ("website", "SITOWEBSCUOLA", normalize.url),
        ):
            value = check(row[column]).value
            if not value:
                continue
            if key == "website" and "cpia" not in value.split("/")[2]:
                continue
            if key == "email" and not value.startswith(institute.lower() + "@"):
                continue  # a host school's mailbox, not the CPIA's
            weight = 1000 if head else 1
            candidates[institute][key][value] += weight
            lines.setdefault((institute, key, value), line)
    for institute, keys in candidates.items():
        result[institute] = {}
        for key, counter in keys.items():
            value = counter.most_common(1)[0][0]
            result[institute][key] = read.value(lines[(institute, key, value)], value)
    return result


def _school_name(row: dict[str, str]) -> str:
    institute = normalize.clean_text(row["DENOMINAZIONEISTITUTORIFERIMENTO"])
    site = normalize.clean_text(row["DENOMINAZIONESCUOLA"])
    return institute if site == institute else f"{institute} - {site}"


def _is_prison(row: dict[str, str]) -> bool:
    if "CARCERARI" in row["DESCRIZIONECARATTERISTICASCUOLA"].upper():
        return True
    name = row["DENOMINAZIONESCUOLA"].upper()
    return any(word in name for word in _PRISON_WORDS)


def _place(
    read: _Reader,
    line: int,
    name: str,
    row: dict[str, str],
    comune: territory.Comune,
    cap: str,
    caps: dict[str, str],
    by_cap: dict[str, list[territory.Comune]],
) -> territory.Comune | None:
    """The comune a site is in: the registry's, unless its CAP and its name say another.

    The registry gives some sites the comune of the school that administers them: "CPIA
    TREPUZZI" at CAP 73019 (Trepuzzi) is filed under Campi Salentina. When the CAP is not the
    comune's, the site moves to the comune that has that CAP and is named in the site's name or
    address; when none is, the site is skipped rather than placed wrongly.
    """
    if not cap or cap_fits(cap, comune, caps.get(comune.istat)):
        return comune
    text = territory.fold(f"{name} {row['INDIRIZZOSCUOLA']}")
    named = [c for c in by_cap.get(cap, ()) if territory.fold(c.name) in text]
    if len(named) == 1:
        read.note(
            line,
            f"{name}: CAP {cap} is not {comune.name}'s; placed in {named[0].name}, "
            "which has that CAP and is named in the site's name or address",
        )
        return named[0]
    read.skip(line, LOCATION, f"{name}: CAP {cap} is not {comune.name}'s and names no other comune")
    return None


# --------------------------------------------------------------------------- entry point


def read_references(root: Path) -> References:
    """Read every register the manifest lists; an absent manifest imports nothing."""
    refs = References()
    if not (root / FOLDER / MANIFEST).is_file():
        return refs
    _manifest(root, refs)
    if refs.problems:
        return refs
    suppressed = _suppressed(root, refs)
    caps = _comuni_contacts(root, refs, suppressed)
    _townhalls(root, refs, suppressed, caps)
    _prefetture(root, refs, caps)
    _asl(root, refs, caps)
    _cpia(root, refs, suppressed, caps)
    return refs
