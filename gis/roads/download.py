"""Downloading roads from OpenStreetMap (Overpass, via osmnx) — the one part that needs the
internet.

:func:`download_osm` first checks that the servers can be reached at all, so that offline it
fails in a few seconds with :class:`~gis.errors.NetworkUnavailableError` and a message pointing
to the offline path (importing an OSM file with :func:`gis.roads.osm.load_osm`). The downloaded
graph goes through the same simplification and network building as a file import; osmnx's
HTTP cache is kept under :func:`gis.roads.cache.cache_dir`.
"""

from __future__ import annotations

import socket
import time
import urllib.parse
from typing import TYPE_CHECKING

from gis.errors import NetworkUnavailableError, RoadNetworkError
from gis.roads.cache import cache_dir
from gis.roads.classes import RoadOptions
from gis.roads.osm import network_from_graph, simplify_graph

if TYPE_CHECKING:  # pragma: no cover
    from shapely.geometry.base import BaseGeometry

    from gis.roads.network import RoadNetwork

__all__ = ["download_osm"]


def _check_online(url: str, timeout: float = 3.0) -> None:
    host = urllib.parse.urlparse(url).hostname or url
    port = 443 if url.startswith("https") else 80
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise NetworkUnavailableError(
            f"cannot download roads: {host} is not reachable ({exc}). Work offline by importing "
            "an OSM file (.osm.pbf / .osm) of the county instead."
        ) from None


def download_osm(
    *,
    polygon: BaseGeometry | None = None,
    place: str | None = None,
    options: RoadOptions = RoadOptions(),  # noqa: B008 - frozen, immutable
) -> RoadNetwork:
    """Download the drivable roads inside ``polygon`` (lon/lat) or ``place`` with osmnx.

    Raises
    ------
    NetworkUnavailableError
        The Overpass/Nominatim servers cannot be reached (offline).
    RoadNetworkError
        Neither or both of ``polygon``/``place`` given, or the area has no roads.
    """
    import osmnx as ox

    if (polygon is None) == (place is None):
        raise RoadNetworkError("download_osm: give exactly one of polygon= or place=")
    _check_online(ox.settings.overpass_url)
    if place is not None:
        _check_online(ox.settings.nominatim_url)
    hw = "|".join(sorted(options.speeds_kmh))
    custom = (
        f'["highway"~"^({hw})$"]["area"!~"yes"]["access"!~"private|no"]'
        '["motor_vehicle"!~"no"]["motorcar"!~"no"]'
        '["service"!~"parking_aisle|driveway|parking|drive-through"]'
    )
    old_cache = ox.settings.cache_folder
    ox.settings.cache_folder = str(cache_dir() / "osmnx")
    t0 = time.perf_counter()
    try:
        if place is not None:
            polygon = ox.geocode_to_gdf(place).geometry.union_all()
        g = ox.graph_from_polygon(
            polygon, custom_filter=custom, simplify=False, retain_all=True, truncate_by_edge=True
        )
    except NetworkUnavailableError:
        raise
    except Exception as exc:
        import requests

        if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
            raise NetworkUnavailableError(f"cannot download roads: {exc}") from exc
        raise RoadNetworkError(f"cannot download roads: {exc}") from exc
    finally:
        ox.settings.cache_folder = old_cache
    g = simplify_graph(g)
    source = f"osmnx download: {place}" if place else "osmnx download: polygon"
    return network_from_graph(g, [], options, source, None, t0)
