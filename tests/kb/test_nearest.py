"""The nearest CPIA site by distance between town centres; prison sites are never offered."""

from __future__ import annotations

import pytest

from bot.kb import geo
from bot.kb.queries import KnowledgeBase

MAGLIE, NARDO, FOGGIA = "075039", "075052", "071024"


def test_haversine_distance() -> None:
    # Bari to Lecce, town centre to town centre: about 139 km as the crow flies.
    assert geo.km((41.1253, 16.8667), (40.352, 18.1691)) == pytest.approx(139.3, abs=0.5)
    assert geo.km((40.352, 18.1691), (40.352, 18.1691)) == 0.0


def test_sites_come_nearest_first_with_their_distance(kb_ref: KnowledgeBase) -> None:
    found = kb_ref.nearest_offices("italian_course", MAGLIE, "cpia", limit=None)
    maglie = kb_ref.comune(MAGLIE)
    assert [o.id for o in found] == [
        "cpia-lect00003c",
        "cpia-lect00001a",
        "cpia-lemm00000x",
        "cpia-lect00005e",
    ]  # Galatina, Nardò, Lecce, Trepuzzi
    distances = [o.distance_km for o in found]
    assert distances == sorted(distances)
    for office in found:
        there = kb_ref.comune(office.comune_istat)
        assert office.distance_km == round(
            geo.km((maglie.lat, maglie.lng), (there.lat, there.lng)), 1
        )
        assert office.match == "distance"
    assert found[0].distance_km == pytest.approx(12.6, abs=0.1)
    assert len(kb_ref.nearest_offices("italian_course", MAGLIE, "cpia")) == 3  # default limit


def test_a_site_in_the_persons_comune_is_zero_km_away(kb_ref: KnowledgeBase) -> None:
    first = kb_ref.nearest_offices("italian_course", NARDO, "cpia", limit=1)[0]
    assert (first.id, first.distance_km, first.comune_name) == ("cpia-lect00001a", 0.0, "Nardò")


def test_prison_sites_are_never_offered(kb_ref: KnowledgeBase) -> None:
    every = kb_ref.nearest_offices("italian_course", MAGLIE, "cpia", limit=None)
    assert "cpia-leee00002b" not in {o.id for o in every}
    assert kb_ref.office("cpia-leee00002b") is None
    assert not any("CIRCONDARIALE" in o.name for o in every)


def test_no_distance_without_coordinates(kb_ref: KnowledgeBase) -> None:
    assert kb_ref.comune(FOGGIA).lat is None  # not in the small contacts register
    assert kb_ref.nearest_offices("italian_course", FOGGIA, "cpia") == ()
