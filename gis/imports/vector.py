"""Vector files → a :class:`~gis.imports.tables.RawTable` with geometries and the file's CRS.

pyogrio (GDAL) reads every format: ESRI Shapefile (``.shp``, or a ``.zip`` holding one),
GeoJSON, KML and KMZ (LIBKML), GeoPackage (any layer: ``--sheet`` names it). What GDAL does not
decide well is the text encoding of a Shapefile without ``.cpg``: the land and planning bureaus'
files are GBK, and GDAL would read them as ISO-8859-1 (mojibake). Then the ``.dbf`` records are
decoded strictly as UTF-8, else GB18030 (a superset of GBK), and pyogrio is told the encoding.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from gis.errors import DataImportError
from gis.imports.tables import MAX_BYTES, RawTable

#: File endings read as vector data.
VECTOR_SUFFIXES = (".shp", ".geojson", ".json", ".kml", ".kmz", ".gpkg", ".zip")


def dbf_encoding(shp: Path) -> str | None:
    """Encoding of a Shapefile's attributes: from ``.cpg``, else detected from the ``.dbf``
    bytes (``None``: pure ASCII or no ``.dbf``, GDAL's default is then right)."""
    for cpg in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")):
        if cpg.is_file():
            return None  # GDAL reads .cpg itself
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.is_file()), None)
    if dbf is None:
        return None
    data = dbf.read_bytes()[: 4 * 1024 * 1024]
    if len(data) < 32:
        return None
    header_len = struct.unpack("<H", data[8:10])[0]
    body = data[header_len:] if header_len < len(data) else b""
    names = data[32:header_len]
    sample = names + body
    if sample.isascii():
        return None
    try:
        sample.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(sample) - 4:  # cut inside a character at the sample's end
            return "UTF-8"
    return "GB18030"


def _open_target(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return f"/vsizip/{path}"
    return str(path)


def read_vector(path: Path, layer: str | None) -> RawTable:
    """The features of ``layer`` (default: the first layer with features)."""
    import pyogrio

    size = path.stat().st_size
    if size == 0:
        raise DataImportError(f"{path}: the file is empty")
    if size > MAX_BYTES:
        raise DataImportError(f"{path}: {size:,} bytes is more than a layer to import")
    target = _open_target(path)
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(target)]
    except Exception as exc:  # noqa: BLE001 - GDAL raises DataSourceError and others
        raise DataImportError(f"{path}: not a readable vector file ({_one_line(exc)})") from None
    if not layers:
        raise DataImportError(f"{path}: no layers")
    notes: list[str] = []
    if layer is not None:
        if layer not in layers:
            raise DataImportError(f"{path}: no layer {layer!r} (layers: {', '.join(layers)})")
        chosen = layer
    else:
        chosen = layers[0]
        if len(layers) > 1:
            notes.append(f"layer {chosen!r} of {', '.join(layers)} (choose with --sheet)")
    encoding = dbf_encoding(path) if path.suffix.lower() == ".shp" else None
    try:
        kwargs: dict[str, Any] = {"layer": chosen}
        if encoding is not None:
            kwargs["encoding"] = encoding
        gdf = pyogrio.read_dataframe(target, **kwargs)
    except Exception as exc:  # noqa: BLE001 - GDAL errors on a corrupt file
        raise DataImportError(
            f"{path}, layer {chosen!r}: cannot be read ({_one_line(exc)})"
        ) from None
    columns = (
        [c for c in gdf.columns if c != gdf.geometry.name]
        if "geometry" in gdf
        else list(gdf.columns)
    )
    geoms = (
        tuple(gdf.geometry.values) if "geometry" in gdf else tuple(None for _ in range(len(gdf)))
    )
    values = [gdf[c].tolist() for c in columns]
    rows = tuple((i + 1, tuple(v[i] for v in values)) for i in range(len(gdf)))
    crs = gdf.crs if "geometry" in gdf else None
    if crs is None and path.suffix.lower() in (".kml", ".kmz", ".geojson", ".json"):
        crs = "EPSG:4326"  # KML and RFC 7946 GeoJSON are WGS-84 by definition
    return RawTable(
        headers=tuple(str(c) for c in columns),
        rows=rows,
        sheet=chosen,
        geometries=geoms,
        crs=crs,
        encoding=encoding or "",
        notes=tuple(notes),
    )


def _one_line(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:160]


__all__ = ["VECTOR_SUFFIXES", "dbf_encoding", "read_vector"]
