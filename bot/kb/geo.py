"""Distances between places, for "where is the nearest CPIA" (haversine on town centres).

The registers give coordinates per comune (town centre), not per building, so every distance is
between two town centres: "about 12 km". Good enough to choose a site in the next town, and
honest about it; same-comune sites are 0 km apart.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres between two (lat, lng) points in degrees."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
