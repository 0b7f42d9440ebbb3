"""Editing a GeoPackage behind GDAL's back, as another tool (or a person with ``sqlite3``) would.

GDAL's R-tree triggers call ``ST_IsEmpty``/``ST_MinX``... which plain SQLite lacks; :func:`connect`
registers them (from the GeoPackage geometry blob, with shapely), so tests can write any value —
text in an INTEGER column, 1e308, control characters — into a copy of the demo workspace.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import struct
from pathlib import Path

import shapely

from tests.conftest import DEMO_WORKSPACE

_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}


def _wkb(blob: bytes | None) -> bytes | None:
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    n = _ENVELOPE_DOUBLES.get((flags >> 1) & 0x07, 0)
    return bytes(blob[8 + 8 * n :])


def _geom(blob: bytes | None) -> shapely.Geometry | None:
    wkb = _wkb(blob)
    if wkb is None:
        return None
    try:
        return shapely.from_wkb(wkb)
    except Exception:  # noqa: BLE001 - a tampered blob: the reader must cope, not the helper
        return None


def _is_empty(blob: bytes | None) -> int:
    if blob is None or len(blob) < 4:
        return 1
    if blob[3] & 0x10:
        return 1
    g = _geom(blob)
    return 1 if g is None or g.is_empty else 0


def _bound(i: int):  # type: ignore[no-untyped-def]
    def f(blob: bytes | None) -> float | None:
        g = _geom(blob)
        if g is None or g.is_empty:
            return None
        return float(g.bounds[i])

    return f


def connect(path: str | Path) -> sqlite3.Connection:
    """A read-write SQLite connection with the spatial functions GDAL's triggers call."""
    con = sqlite3.connect(str(path))
    con.create_function("ST_IsEmpty", 1, _is_empty)
    for name, i in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        con.create_function(name, 1, _bound(i))
    return con


def gpkg_point(lon: float, lat: float, srs_id: int = 4326) -> bytes:
    """A GeoPackage geometry blob of a point (no envelope)."""
    header = b"GP\x00\x01" + struct.pack("<i", srs_id)
    return header + shapely.to_wkb(shapely.Point(lon, lat), byte_order=1)


def tampered_copy(dest: Path, *sql: str | tuple[str, tuple[object, ...]]) -> Path:
    """Copy the demo workspace to ``dest`` and run each statement (``sql`` or ``(sql, params)``)."""
    shutil.copyfile(DEMO_WORKSPACE, dest)
    con = connect(dest)
    try:
        for stmt in sql:
            if isinstance(stmt, tuple):
                con.execute(stmt[0], stmt[1])
            else:
                con.execute(stmt)
        con.commit()
    finally:
        con.close()
    return dest


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
