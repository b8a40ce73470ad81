"""Distances on the Earth's surface, for "nearest library" and "nearest copy on the shelf"."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

__all__ = ["distance_meters"]

_EARTH_RADIUS_METERS = 6_371_008.8


def distance_meters(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle (haversine) distance between two WGS84 points, in metres."""
    phi1, phi2 = radians(lat1), radians(lat2)
    half_chord = (
        sin((phi2 - phi1) / 2) ** 2 + cos(phi1) * cos(phi2) * sin(radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_METERS * asin(sqrt(half_chord))
