r"""Checking one field of a public register and writing it the way the knowledge base does.

Registers are typed by many hands: "+39 080/3065111", "http://http:\\www.comune.veglie.le.it",
a website "http://password5", a PEC column holding a plain mailbox. Each function returns a
:class:`Checked`: the value in the knowledge base's form, or ``""`` with the reason it was
refused, plus a note when a mechanical repair was made (a doubled scheme, a missing "://", a
second phone number dropped). Nothing is guessed beyond such repairs, and the importer reports
every refusal and every repair, so an editor can see what the register really said.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

# What registers write for "no value".
_EMPTY = {"", "non disponibile", "n.d.", "nd", "-", "null", "none", "n/a"}

_EMAIL = re.compile(r"^[a-z0-9._%+'-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
# Italian numbers: landlines start with 0 (6-11 digits), mobiles with 3, toll-free with 80.
_LANDLINE = re.compile(r"^0\d{5,10}$")
_MOBILE = re.compile(r"^3\d{8,9}$")
_FREE = re.compile(r"^80\d{4,8}$")
_CAP = re.compile(r"^\d{5}$")

# Puglia with a margin (the Tremiti islands reach 42.13 N; Leuca 39.8 N).
PUGLIA_BOX = (39.7, 42.3, 14.8, 18.6)  # lat min, lat max, lng min, lng max


@dataclass(frozen=True)
class Checked:
    """A register value after checking: ``value`` ("" when refused), why, and any repair."""

    value: str
    reason: str = ""  # set only when the register had a value and it was refused
    note: str = ""  # a repair that kept the value

    @property
    def refused(self) -> bool:
        """Whether the register had a value that could not be used."""
        return bool(self.reason)


def is_empty(raw: str | None) -> bool:
    """A register's way of saying "no value" ("", "Non Disponibile", "N.D." ...)."""
    return raw is None or raw.strip().casefold() in _EMPTY


def clean_text(raw: str | None) -> str:
    """Whitespace collapsed, doubled CSV quotes undone; "" for an empty marker."""
    if raw is None or is_empty(raw):
        return ""
    return " ".join(raw.replace('""', '"').split())


def phone(raw: str | None, prefix: str | None = None) -> Checked:
    """A phone number as "PREFIX REST" (e.g. "080 3065111"), the first when several are given.

    ``prefix`` is the comune's telephone prefix when known: a landline outside it is refused
    (a town hall's number is in its own district), and it splits a number written without a
    separator. Forms met in the registers: "+39 0881.981012", "+39 080/3065111",
    "+39 0804094179/181" (a second ending), "080/3902346 - 080/3902328" (two numbers).
    """
    if raw is None or is_empty(raw):
        return Checked("")
    text = re.sub(r"^\s*(?:\+|00)\s*39\s*", "", raw.strip())
    # Alternatives are separated by "/" or "-" unless the part before is only a prefix.
    parts = [p.strip() for p in re.split(r"[/\-;,]", text) if p.strip()]
    if not parts or not all(re.fullmatch(r"[\d .()]+", p) for p in parts):
        return Checked("", reason=f"phone {raw.strip()!r} is not a phone number")
    first = parts[0]
    used = 1
    head = re.sub(r"\D", "", first)
    shown_prefix = ""
    if head.startswith("0") and len(head) <= 4 and len(parts) > 1:
        shown_prefix, rest = head, re.sub(r"\D", "", parts[1])
        used = 2
    else:
        groups = re.findall(r"\d+", first)
        if len(groups) > 1 and groups[0].startswith("0") and len(groups[0]) <= 4:
            shown_prefix, rest = groups[0], "".join(groups[1:])
        else:
            rest = head
    digits = shown_prefix + rest
    if not (_LANDLINE.match(digits) or _MOBILE.match(digits) or _FREE.match(digits)):
        return Checked("", reason=f"phone {raw.strip()!r} is not an Italian phone number")
    if digits.startswith("0") and prefix and not digits.startswith(prefix):
        return Checked("", reason=f"phone {raw.strip()!r} is outside the comune's prefix {prefix}")
    if not shown_prefix:
        if digits.startswith("0") and prefix and digits.startswith(prefix):
            shown_prefix, rest = prefix, digits[len(prefix) :]
        else:
            shown_prefix, rest = "", digits
    value = f"{shown_prefix} {rest}" if shown_prefix else rest
    note = (
        f"phone {raw.strip()!r} gives several numbers: the first kept" if len(parts) > used else ""
    )
    return Checked(value, note=note)


def url(raw: str | None) -> Checked:
    r"""A web address "https://host/path", with mechanical repairs reported.

    Repaired: a doubled scheme ("http://http:\\www..."), "https//", backslashes, a missing
    scheme ("www.cpiabrindisi.edu.it" becomes https://...), upper-case host, trailing dot.
    Refused: an e-mail address in the website column, a host that is not a domain name
    ("http://password5").
    """
    if raw is None or is_empty(raw):
        return Checked("")
    original = raw.strip()
    text = original.replace("\\", "/")
    if "@" in text and not re.match(r"^https?:", text, re.I):
        return Checked("", reason=f"website {original!r} is an e-mail address, not a web address")
    text = re.sub(r"^(https?):?/+(?:https?:?/+)+", r"\1://", text, flags=re.I)
    text = re.sub(r"^(https?):?/+", r"\1://", text, flags=re.I)
    if not re.match(r"^https?://", text, re.I):
        text = "https://" + text
    parts = urllib.parse.urlsplit(text)
    host = parts.hostname.rstrip(".") if parts.hostname else ""
    if not _HOST.match(host) or " " in text:
        return Checked("", reason=f"website {original!r} is not a web address")
    path = parts.path if parts.path not in ("", "/") else ""
    value = f"{parts.scheme.lower()}://{host}{path}" + (f"?{parts.query}" if parts.query else "")
    note = f"website {original!r} repaired to {value!r}" if value != original.rstrip("/") else ""
    return Checked(value, note=note)


def email(raw: str | None) -> Checked:
    """An e-mail address, lower-cased (registers mix "BRMM07900G@PEC.ISTRUZIONE.IT" and lower)."""
    if raw is None or is_empty(raw):
        return Checked("")
    value = raw.strip().lower()
    if not _EMAIL.match(value):
        return Checked("", reason=f"e-mail {raw.strip()!r} is not an e-mail address")
    return Checked(value)


def is_pec_domain(address: str) -> bool:
    """Whether an address is at a certified-mail (PEC) provider.

    PEC domains name themselves: pec.rupar.puglia.it, pec.interno.it, mailcert.aslbat.it,
    cert.comune.*, postecert.it, legalmail.it, pa.postacertificata.gov.it, pecnardo.it. A
    mailbox at comune.*.it is not one, whatever column it was written in.
    """
    domain = address.rsplit("@", 1)[-1]
    return any(
        "pec" in label or "cert" in label or label == "legalmail" for label in domain.split(".")
    )


def pec(raw: str | None) -> Checked:
    """A PEC address: an e-mail address at a certified-mail domain (see :func:`is_pec_domain`)."""
    checked = email(raw)
    if checked.value and not is_pec_domain(checked.value):
        return Checked("", reason=f"PEC {checked.value!r} is not at a certified-mail domain")
    return checked


def cap(raw: str | None) -> str:
    """A five-digit CAP, or "" (empty or malformed)."""
    text = "" if raw is None or is_empty(raw) else raw.strip()
    return text if _CAP.match(text) else ""


def coordinates(lat: str | None, lng: str | None) -> tuple[float, float] | str:
    """``(lat, lng)`` inside Puglia, or the reason they cannot be used."""
    if lat is None or lng is None or is_empty(lat) or is_empty(lng):
        return "no coordinates"
    try:
        value = float(lat), float(lng)
    except ValueError:
        return f"coordinates {lat!r}, {lng!r} are not numbers"
    south, north, west, east = PUGLIA_BOX
    if not (south <= value[0] <= north and west <= value[1] <= east):
        return f"coordinates {lat}, {lng} are outside Puglia"
    return value


def decimals(number: str) -> int:
    """Decimal places written, to tell town-centre coordinates from rough ones (41.2 is ±5 km)."""
    text = number.strip()
    return len(text.split(".", 1)[1]) if "." in text else 0


@dataclass(frozen=True)
class IpaAddress:
    """An IndicePA address "Via Roma 1 - 71021 Accadia (FG) Italy", taken apart."""

    street: str
    cap: str
    comune: str
    province: str


_IPA_ADDRESS = re.compile(
    r"^(?P<street>.*?)\s*-\s*(?:-\s*)?(?P<cap>\d{5})\s+(?P<comune>.+?)\s*\((?P<pv>[A-Za-z]{2})\)"
    r"\s*(?:Italy|Italia)?\s*$"
)


def ipa_address(raw: str | None) -> IpaAddress | None:
    """Split an IndicePA address; ``None`` when it has not that shape."""
    if raw is None or is_empty(raw):
        return None
    match = _IPA_ADDRESS.match(raw.strip())
    if not match or not match["street"].strip(" -"):
        return None
    return IpaAddress(
        clean_text(match["street"].strip(" -")),
        match["cap"],
        clean_text(match["comune"]),
        match["pv"].upper(),
    )
