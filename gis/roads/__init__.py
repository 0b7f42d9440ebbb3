"""Drivable road networks: OpenStreetMap → an immutable graph of numpy arrays.

One job per module (callers import from here, ``from gis.roads import RoadNetwork``):

* :mod:`~gis.roads.network` — :class:`RoadNetwork`, the value type (node, edge and arc arrays,
  frames, content hash, snapping, closures), with :class:`SnapResult` and :class:`LoadReport`;
* :mod:`~gis.roads.classes` — road classes and speeds (:data:`DEFAULT_SPEEDS_KMH`,
  :data:`ROAD_CLASS_ZH`, :class:`RoadOptions`) and the OSM tag rules (drivable, one-way,
  ``maxspeed``);
* :mod:`~gis.roads.osm` — reading ``.osm``/``.osm.gz``/``.osm.bz2``/``.osm.pbf`` and osmnx
  ``.graphml`` files, boundary clipping, simplification (:func:`load_osm`);
* :mod:`~gis.roads.download` — downloading with osmnx (:func:`download_osm`), online only;
* :mod:`~gis.roads.cache` — the ``.npz`` cache and its keys (:func:`load_network_cached`).

Imports point one way (network uses classes; osm and cache use network; download uses osm and
cache) and no module imports this ``__init__``, so there is no cycle. networkx, osmnx, osmium
and geopandas are imported inside the functions that need them, which keeps ``import gis.roads``
as light as it was as one module (numpy, shapely, pyproj, scipy.sparse).
"""

from __future__ import annotations

from gis.roads.cache import (
    LOADER_VERSION,
    cache_dir,
    file_fingerprint,
    load_cache,
    load_network_cached,
    save_cache,
)
from gis.roads.classes import (
    DEFAULT_SPEEDS_KMH,
    ROAD_CLASS_ZH,
    RoadOptions,
    parse_maxspeed,
    road_class_zh,
)
from gis.roads.download import download_osm
from gis.roads.network import LoadReport, RoadNetwork, SnapResult
from gis.roads.osm import ProgressFn, load_osm

__all__ = [
    "DEFAULT_SPEEDS_KMH",
    "ROAD_CLASS_ZH",
    "RoadOptions",
    "LoadReport",
    "SnapResult",
    "RoadNetwork",
    "road_class_zh",
    "parse_maxspeed",
    "load_osm",
    "download_osm",
    "load_network_cached",
    "save_cache",
    "load_cache",
    "cache_dir",
    "file_fingerprint",
    "LOADER_VERSION",
    "ProgressFn",
]
