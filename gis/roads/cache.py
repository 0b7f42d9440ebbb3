"""The on-disk road network cache: ``.npz`` files keyed by what the network was built from.

* :func:`load_network_cached` returns the network cached under a key (the sha256 of the key
  material — e.g. :func:`file_fingerprint` of an OSM file, or a workspace's road layers' hash —,
  the :class:`~gis.roads.classes.RoadOptions` and :data:`LOADER_VERSION`), or builds and caches
  it; a damaged file is rebuilt, a cache folder that cannot be written is ignored.
* :func:`save_cache` / :func:`load_cache` are the file format: one uncompressed ``.npz`` holding
  a JSON ``meta`` (format ``reliefdesk-roads`` version 1, source, options, load report, content
  hash) and the edge-table arrays; geometries are packed as coordinates + offsets
  (:func:`gis.roads.network.pack_lines`). Loading re-derives arcs and travel times and checks
  the content hash, so a file from another loader version or a damaged file is refused.
* :func:`cache_dir` (:func:`gis.paths.cache_dir`) is where it lives: ``$RELIEFDESK_CACHE_DIR``
  or the platform's user cache folder (``~/.cache/reliefdesk`` on Linux)
  (``roads/`` below it; :func:`gis.roads.download.download_osm` keeps osmnx's HTTP cache in
  ``osmnx/``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gis import paths
from gis.errors import RoadNetworkError
from gis.roads.classes import RoadOptions
from gis.roads.network import LoadReport, RoadNetwork, pack_lines, unpack_lines

__all__ = [
    "LOADER_VERSION",
    "cache_dir",
    "file_fingerprint",
    "load_cache",
    "load_network_cached",
    "save_cache",
]

#: Bumped whenever loading changes its output, so that cached networks are rebuilt.
#: "Loading" is everything between the source and the arrays: :mod:`gis.roads.osm` and
#: :meth:`RoadNetwork.from_frames <gis.roads.network.RoadNetwork.from_frames>`.
LOADER_VERSION = 1


def cache_dir() -> Path:
    """:func:`gis.paths.cache_dir`: ``$RELIEFDESK_CACHE_DIR`` or the platform's user cache."""
    return paths.cache_dir()


def file_fingerprint(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes (key material for :func:`load_network_cached`)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_network_cached(
    key_material: bytes | str,
    build: Callable[[], RoadNetwork],
    *,
    options: RoadOptions = RoadOptions(),  # noqa: B008 - frozen, immutable
) -> RoadNetwork:
    """Return the cached network for ``key_material`` + ``options``, or ``build()`` and cache it.

    The key is the sha256 of the key material (e.g. :func:`file_fingerprint` of the OSM file, or
    the workspace's road layers' hash), ``options.fingerprint()`` and :data:`LOADER_VERSION`.
    A damaged cache file is rebuilt; a cache directory that cannot be written is ignored.
    """
    if isinstance(key_material, str):
        key_material = key_material.encode("utf-8")
    salt = f"loader-v{LOADER_VERSION}\0{options.fingerprint()}".encode()
    key = hashlib.sha256(key_material + b"\0" + salt).hexdigest()
    path = cache_dir() / "roads" / f"{key[:32]}.npz"
    if path.exists():
        try:
            return load_cache(path)
        except RoadNetworkError:
            pass
    net = build()
    with contextlib.suppress(OSError):
        save_cache(net, path)
    return net


def save_cache(network: RoadNetwork, path: str | os.PathLike[str]) -> None:
    """Write ``network`` (without closures) to a ``.npz`` file, atomically."""
    path = Path(path)
    coords, offsets = pack_lines(network.edge_geometry)
    meta = {
        "format": "reliefdesk-roads",
        "version": 1,
        "source": network.source,
        "content_hash": network.base_hash,
        "options": {
            "speeds_kmh": dict(network.options.speeds_kmh),
            "keep_largest_scc": network.options.keep_largest_scc,
            "snap_warn_m": network.options.snap_warn_m,
            "network_type": network.options.network_type,
        },
        "report": {
            "nodes": network.report.nodes,
            "edges": network.report.edges,
            "dropped_nodes": network.report.dropped_nodes,
            "dropped_edges": network.report.dropped_edges,
            "messages": list(network.report.messages),
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                meta=np.array(json.dumps(meta)),
                node_id=network.node_id,
                lon=network.lon,
                lat=network.lat,
                edge_u=network.edge_u,
                edge_v=network.edge_v,
                oneway=network.edge_oneway,
                highway=_unicode(network.edge_highway),
                name=_unicode(network.edge_name),
                ref=_unicode(network.edge_ref),
                maxspeed=network.edge_maxspeed_kmh,
                length_m=network.edge_length_m,
                bridge=network.edge_bridge,
                geom_coords=coords,
                geom_offsets=offsets,
            )
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_cache(path: str | os.PathLike[str]) -> RoadNetwork:
    """Read a network written by :func:`save_cache`.

    Raises
    ------
    RoadNetworkError
        The file is missing, not a ReliefDesk road cache, or damaged.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != "reliefdesk-roads" or meta.get("version") != 1:
                raise RoadNetworkError(f"{path}: not a ReliefDesk road cache (version 1)")
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except RoadNetworkError:
        raise
    except Exception as exc:  # zipfile/npz/json errors of a damaged file
        raise RoadNetworkError(f"{path}: cannot read road cache: {exc}") from exc
    opts = meta["options"]
    options = RoadOptions(
        speeds_kmh=opts["speeds_kmh"],
        keep_largest_scc=opts["keep_largest_scc"],
        snap_warn_m=opts["snap_warn_m"],
        network_type=opts["network_type"],
    )
    rep = meta["report"]
    report = LoadReport(
        nodes=rep["nodes"],
        edges=rep["edges"],
        dropped_nodes=rep["dropped_nodes"],
        dropped_edges=rep["dropped_edges"],
        messages=tuple(rep["messages"]),
    )
    geometry = unpack_lines(arrays["geom_coords"], arrays["geom_offsets"])
    net = RoadNetwork.from_arrays(
        node_id=arrays["node_id"],
        lon=arrays["lon"],
        lat=arrays["lat"],
        edge_u=arrays["edge_u"],
        edge_v=arrays["edge_v"],
        oneway=arrays["oneway"],
        highway=arrays["highway"].astype(object),
        name=arrays["name"].astype(object),
        ref=arrays["ref"].astype(object),
        maxspeed=arrays["maxspeed"],
        length_m=arrays["length_m"],
        bridge=arrays["bridge"],
        geometry=geometry,
        options=options,
        source=meta["source"],
        report=report,
    )
    if net.base_hash != meta["content_hash"]:
        raise RoadNetworkError(f"{path}: road cache content hash mismatch (damaged file)")
    return net


def _unicode(a: np.ndarray) -> np.ndarray:
    return np.array([str(s) for s in a], dtype=str) if len(a) else np.array([], dtype="<U1")
