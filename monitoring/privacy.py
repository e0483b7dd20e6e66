"""What may leave the monitoring: small cells hidden, texts scrubbed.

k-anonymity: every figure shown on the dashboard, sent as JSON or written to the monthly export
is computed over a cell (a province, a language, a service, a week...) and is shown only when
at least ``K`` different people are in that cell; otherwise it is ``None`` ("fewer than 5"),
never 0 and never the real number. The rule is applied where figures are made
(``monitoring.queries``), so the page, the JSON and the CSV cannot disagree. Known limit: a
hidden cell can sometimes be worked out as a total minus the cells shown beside it; the totals
are themselves cells of at least ``K`` people, and the hidden remainder is always below ``K``.

Scrubbing: the editors' queue keeps what people asked, not who they are. Before a text is
stored, phone numbers, e-mail addresses, document-like codes (codice fiscale, passport, permit
and card numbers, IBANs: any word mixing letters and digits, any run of six or more digits) and
names are replaced by placeholders. Names are those the bot knows (mediators' names, and what
follows "my name is" and its translations); a name the bot has never seen, written on its own,
is not found; editors see only scrubbed texts, grouped, never who wrote them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

K = 5  # fewer people than this in a cell: the figure is hidden

EMAIL = "[email]"
PHONE = "[phone]"
DOCUMENT = "[document]"
NAME = "[name]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Six or more digits, possibly with +, spaces, dots, dashes, slashes or brackets between them.
_PHONE = re.compile(r"(?<![\w])\+?\(?\d(?:[\s().\-/]*\d){5,}(?![\w])")
# A word of five or more characters that mixes letters and digits: CF, passport, permit, IBAN.
_DOCUMENT = re.compile(r"\b(?=\w*\d)(?=\w*[^\W\d_])\w{5,}\b", re.UNICODE)
_INTRODUCTION = re.compile(
    r"(?i)\b(my name is|i am called|mi chiamo|il mio nome è|je m'appelle|je m’appelle|"
    r"me llamo|mă numesc|ma numesc|меня зовут|мене звати|quhem|unë quhem|اسمي|میرا نام)"
    r"\s+(\w+)(?:\s+(\w+))?",
)


def visible(count: int | None, people: int) -> int | None:
    """``count`` if its cell has at least ``K`` people, else None (hidden)."""
    return count if people >= K else None


def _introduced(match: re.Match[str]) -> str:
    """Keep "my name is", drop the name; a lower-case next word is not a surname."""
    surname = match.group(3)
    rest = f" {surname}" if surname and not surname[0].isupper() else ""
    return f"{match.group(1)} {NAME}{rest}"


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """The text with e-mails, phone numbers, document numbers and known names replaced."""
    text = _EMAIL.sub(EMAIL, text)
    text = _PHONE.sub(PHONE, text)
    text = _DOCUMENT.sub(DOCUMENT, text)
    text = _INTRODUCTION.sub(_introduced, text)
    for name in sorted(
        {n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True
    ):
        text = re.sub(rf"(?i)(?<!\w){re.escape(name)}(?!\w)", NAME, text)
    return " ".join(text.split())
