"""Read-only access to a local MBTiles file (Qt-free): the bureau's own base map tiles.

An MBTiles file is an SQLite database with a ``tiles`` table (``zoom_level``, ``tile_column``,
``tile_row``, ``tile_data``; rows counted from the south, TMS) and a ``metadata`` table
(``name``/``value``: ``format``, ``minzoom``, ``maxzoom``, ``bounds``, ``attribution``…), see the
MBTiles 1.3 specification. :class:`MBTiles` opens it read-only (the file is never changed),
answers :meth:`MBTiles.tile` in XYZ numbering (rows from the north, as Leaflet asks) and
describes the set in :class:`TileSetInfo`.

Hand-written on :mod:`sqlite3` because reading two tables needs no library; the PyPI readers
(``pymbtiles``…) add nothing but a dependency. Vector tiles (``pbf``, Mapbox Vector Tiles) are
recognised, their layer ids read from the metadata, and :meth:`MBTiles.tile` can gunzip them
for the page (protomaps-leaflet draws them).
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

#: MIME types of the raster formats the page can show.
RASTER_MIME = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


class TileSourceError(ValueError):
    """A tile file that cannot be used, with a message naming the file and the reason."""


@dataclass(frozen=True, slots=True)
class TileSetInfo:
    """What an MBTiles file holds."""

    path: str
    name: str
    format: str  # png | jpg | webp | pbf
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float] | None  # west, south, east, north (WGS-84)
    attribution: str
    tiles: int
    layers: tuple[str, ...] = ()  # vector tiles: the layer ids (metadata ``json``)

    @property
    def is_vector(self) -> bool:
        return self.format == "pbf"

    @property
    def mime(self) -> str:
        return RASTER_MIME.get(self.format, "application/x-protobuf")


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"\x1f\x8b") or data[:1] in (b"\x1a", b"\x12"):
        return "pbf"  # gzipped or raw protobuf (vector tile)
    return ""


def _vector_layers(text: str | None) -> tuple[str, ...]:
    try:
        layers = json.loads(text or "{}").get("vector_layers") or []
        return tuple(str(v["id"]) for v in layers if v.get("id"))
    except (ValueError, AttributeError, TypeError, KeyError):
        return ()


def _int(value: str | None, default: int) -> int:
    try:
        return int(float(value)) if value not in (None, "") else default
    except ValueError:
        return default


def _bounds(value: str | None) -> tuple[float, float, float, float] | None:
    try:
        w, s, e, n = (float(v) for v in str(value).split(","))
    except ValueError:
        return None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        return None
    return (w, s, e, n)


class MBTiles:
    """One MBTiles file, open read-only. Safe to call from several threads (one lock)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        where = str(self.path)
        if not self.path.is_file():
            raise TileSourceError(f"瓦片文件不存在：{where}")
        try:
            self._db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            names = {
                r[0]
                for r in self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table','view')"
                )
            }
        except sqlite3.Error as exc:
            raise TileSourceError(f"不是 MBTiles（SQLite）文件：{where}（{exc}）") from exc
        if "tiles" not in names:
            self._db.close()
            raise TileSourceError(f"不是 MBTiles 文件（缺少 tiles 表）：{where}")
        self._lock = threading.Lock()
        self.info = self._read_info(names)

    def _read_info(self, names: set[str]) -> TileSetInfo:
        meta: dict[str, str] = {}
        if "metadata" in names:
            meta = {str(k): str(v) for k, v in self._db.execute("SELECT name, value FROM metadata")}
        stats = self._db.execute(
            "SELECT count(*), min(zoom_level), max(zoom_level) FROM tiles"
        ).fetchone()
        count, zmin, zmax = int(stats[0] or 0), stats[1], stats[2]
        if not count:
            raise TileSourceError(f"瓦片文件中没有瓦片：{self.path}")
        fmt = meta.get("format", "").lower().strip()
        if fmt not in (*RASTER_MIME, "pbf"):
            first = self._db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()[0]
            fmt = _sniff(bytes(first or b""))
        if not fmt:
            raise TileSourceError(f"无法识别瓦片格式（应为 PNG/JPEG/WebP 或矢量 pbf）：{self.path}")
        return TileSetInfo(
            path=str(self.path),
            name=meta.get("name", "") or self.path.stem,
            format="jpg" if fmt == "jpeg" else fmt,
            minzoom=_int(meta.get("minzoom"), int(zmin)),
            maxzoom=_int(meta.get("maxzoom"), int(zmax)),
            bounds=_bounds(meta.get("bounds")),
            attribution=meta.get("attribution", ""),
            tiles=count,
            layers=_vector_layers(meta.get("json")),
        )

    def tile(self, z: int, x: int, y: int, *, decompress: bool = False) -> bytes | None:
        """The tile at XYZ ``(z, x, y)`` (row 0 = north), or None when the file has none.
        ``decompress``: gunzip a gzipped (vector) tile."""
        if z < 0 or not (0 <= x < 2**z and 0 <= y < 2**z):
            return None
        tms_row = (2**z - 1) - y
        with self._lock:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, tms_row),
            ).fetchone()
        if not row or row[0] is None:
            return None
        data = bytes(row[0])
        if decompress and data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError):
                return None  # a damaged tile is a missing tile
        return data

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> MBTiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parse_tile_path(path: str) -> tuple[int, int, int] | None:
    """``"/z/x/y"`` (optionally with an extension or query) → ``(z, x, y)``; None if malformed."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) < 3:
        return None
    try:
        z, x = int(parts[-3]), int(parts[-2])
        y = int(parts[-1].split(".", 1)[0])
    except ValueError:
        return None
    if not (0 <= z <= 30):
        return None
    return z, x, y
