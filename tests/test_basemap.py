"""Base map choice, MBTiles reader, GCJ-02 offsets, place search and geodesic measuring
(issue 13 items 2 and 3; Qt-free parts)."""

from __future__ import annotations

import io
import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gis import basemap as bm
from gis.coords import gcj02_to_wgs84, wgs84_to_gcj02
from gis.measure import measure_geojson, scale_bar
from gis.place_search import build_index
from gis.tiles import MBTiles, TileSourceError, parse_tile_path


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), color).save(buf, "PNG")
    return buf.getvalue()


def make_mbtiles(
    path: Path, bounds: tuple[float, float, float, float], zooms=range(8, 12), fmt="png"
) -> dict[tuple[int, int, int], bytes]:
    """An MBTiles file covering ``bounds`` (TMS rows, as the spec says); returns XYZ → bytes."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute(
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer,"
        " tile_data blob)"
    )
    meta = {
        "name": "县域影像",
        "format": fmt,
        "minzoom": str(min(zooms)),
        "maxzoom": str(max(zooms)),
        "bounds": ",".join(map(str, bounds)),
        "attribution": "某县测绘院",
    }
    db.executemany("INSERT INTO metadata VALUES (?, ?)", list(meta.items()))
    written = {}
    w, s, e, n = bounds
    for z in zooms:
        x0, y0 = tile_xy(w, n, z)
        x1, y1 = tile_xy(e, s, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                data = png(((x * 37) % 256, (y * 59) % 256, (z * 20) % 256))
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2**z - 1 - y, data))
                written[(z, x, y)] = data
    db.commit()
    db.close()
    return written


HEJIANG = (105.55, 28.55, 106.25, 29.1)


def test_mbtiles_reader_answers_xyz_tiles_from_tms_rows(tmp_path: Path) -> None:
    written = make_mbtiles(tmp_path / "t.mbtiles", HEJIANG)
    with MBTiles(tmp_path / "t.mbtiles") as t:
        info = t.info
        assert (info.format, info.minzoom, info.maxzoom, info.mime) == ("png", 8, 11, "image/png")
        assert info.name == "县域影像" and info.attribution == "某县测绘院"
        assert info.bounds == HEJIANG and info.tiles == len(written) and not info.is_vector
        for (z, x, y), data in list(written.items())[::7]:
            assert t.tile(z, x, y) == data
        z, x, y = next(iter(written))
        # the TMS row of this tile is another tile's XYZ row: never served for it
        assert t.tile(z, x, 2**z - 1 - y) in (None, written.get((z, x, 2**z - 1 - y)))
        assert t.tile(3, 0, 0) is None and t.tile(8, -1, 0) is None and t.tile(8, 0, 256) is None
    assert parse_tile_path("/ab12/11/1645/843.png") == (11, 1645, 843)
    assert parse_tile_path("/x/y") is None and parse_tile_path("/a/b/c") is None


def test_mbtiles_bad_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(TileSourceError, match="不存在"):
        MBTiles(tmp_path / "missing.mbtiles")
    (tmp_path / "text.mbtiles").write_text("not a database" * 100)
    with pytest.raises(TileSourceError, match="text.mbtiles"):
        MBTiles(tmp_path / "text.mbtiles")
    db = sqlite3.connect(tmp_path / "other.mbtiles")
    db.execute("CREATE TABLE x (a)")
    db.commit()
    db.close()
    with pytest.raises(TileSourceError, match="缺少 tiles 表"):
        MBTiles(tmp_path / "other.mbtiles")
    # a vector MBTiles is recognised (the page shows raster tiles only)
    db = sqlite3.connect(tmp_path / "vec.mbtiles")
    db.execute("CREATE TABLE tiles (zoom_level, tile_column, tile_row, tile_data)")
    db.execute("INSERT INTO tiles VALUES (0, 0, 0, ?)", (b"\x1f\x8b\x08\x00rest",))
    db.commit()
    db.close()
    with MBTiles(tmp_path / "vec.mbtiles") as t:
        assert t.info.is_vector and t.info.format == "pbf"


def test_gcj_offset_grid_interpolates_the_conversion_within_centimetres() -> None:
    grid = bm.gcj_offset_grid(HEJIANG)
    assert grid is not None and len(grid["dlon"]) == grid["nx"] * grid["ny"]
    dlon = np.array(grid["dlon"]).reshape(grid["ny"], grid["nx"])
    dlat = np.array(grid["dlat"]).reshape(grid["ny"], grid["nx"])
    rng = np.random.default_rng(13)
    lon = rng.uniform(HEJIANG[0], HEJIANG[2], 200)
    lat = rng.uniform(HEJIANG[1], HEJIANG[3], 200)
    fx = (lon - grid["lon0"]) / grid["step"]
    fy = (lat - grid["lat0"]) / grid["step"]
    i, j = np.floor(fx).astype(int), np.floor(fy).astype(int)
    tx, ty = fx - i, fy - j

    def bil(a):
        return (a[j, i] * (1 - tx) + a[j, i + 1] * tx) * (1 - ty) + (
            a[j + 1, i] * (1 - tx) + a[j + 1, i + 1] * tx
        ) * ty

    glon, glat = wgs84_to_gcj02(lon, lat)
    err_m = np.hypot(
        (bil(dlon) - (glon - lon)) * 111320 * np.cos(np.radians(lat)),
        (bil(dlat) - (glat - lat)) * 110540,
    )
    assert err_m.max() < 0.15  # ~9 cm at worst here
    # the offset itself is hundreds of metres here: a shift is needed at all
    assert np.hypot((glon - lon) * 97500, (glat - lat) * 110540).min() > 100
    assert bm.gcj_offset_grid((2.0, 48.0, 2.5, 48.5)) is None  # outside China: no offset
    assert bm.gcj_offset_grid(None) is None


def test_choice_persists_as_json_and_bad_text_gives_the_default(tmp_path: Path) -> None:
    c = bm.BasemapChoice("online", source="amap")
    assert bm.BasemapChoice.from_json(c.to_json()) == c
    for bad in ("", "{", "[]", '{"kind": "satellite"}', '{"kind": "online", "source": "x"}'):
        assert bm.BasemapChoice.from_json(bad) == bm.DEFAULT
    with pytest.raises(ValueError):
        bm.BasemapChoice("mbtiles")
    a, b = bm.settings_key(tmp_path / "a.gpkg"), bm.settings_key(tmp_path / "b.gpkg")
    assert a != b and a == bm.settings_key(tmp_path / "." / "a.gpkg")


def test_only_an_online_choice_puts_a_network_url_in_the_page_spec() -> None:
    offline = [
        bm.page_spec(bm.DEFAULT, labels=[{"kind": "county", "text": "合江县", "lon": 1, "lat": 2}]),
        bm.page_spec(bm.BasemapChoice("none")),
        bm.page_spec(bm.BasemapChoice("mbtiles", "/x.mbtiles"), tile_url="rdtiles:/t/{z}/{x}/{y}"),
    ]
    for spec in offline:
        text = json.dumps(spec)
        assert "http://" not in text and "https://" not in text
    amap = bm.page_spec(bm.BasemapChoice("online", source="amap"), bounds=HEJIANG)
    osm = bm.page_spec(bm.BasemapChoice("online", source="osm"), bounds=HEJIANG)
    assert amap["url"].startswith("https://") and amap["gcj"] is not None
    assert osm["gcj"] is None  # OpenStreetMap is WGS-84 already


def test_place_labels_name_the_county_and_its_rivers(demo_ws) -> None:
    rivers = json.loads(demo_ws.documents["map_layers"]["rivers"])
    labels = bm.place_labels(demo_ws.scenario.name, demo_ws.scenario.boundary, rivers)
    assert labels[0]["kind"] == "county" and labels[0]["text"] == demo_ws.scenario.name
    river_names = {lab["text"] for lab in labels if lab["kind"] == "river"}
    assert "长江" in "".join(river_names)
    from shapely.geometry import Point

    for lab in labels:
        assert demo_ws.scenario.boundary.buffer(0.2).contains(Point(lab["lon"], lab["lat"]))


def test_search_finds_townships_villages_facilities_and_roads(demo_ws) -> None:
    s = demo_ws.scenario
    index = build_index(s, demo_ws.road_edges)
    town = s.townships[3]
    hits = index.search(town.name)
    assert hits[0].name == town.name and hits[0].kind == "township"
    assert (hits[0].lon, hits[0].lat) == (town.location.lon, town.location.lat)
    village = s.demand_points[40]
    assert any(h.kind == "village" and h.ref == village.id for h in index.search(village.name))
    shelter = s.shelters[0]
    assert any(h.kind == "shelter" and h.ref == shelter.id for h in index.search(shelter.id))
    bridge = index.search("合江长江大桥")
    assert bridge and bridge[0].kind == "road" and bridge[0].bounds is not None
    w, so, e, n = bridge[0].bounds
    assert w < bridge[0].lon < e and so < bridge[0].lat < n
    # words in any order, full-width forms and case are ignored
    prefix = town.name[:2]
    assert all(prefix in h.name for h in index.search(f" {prefix} "))
    assert index.search("") == [] and index.search("不存在的地名xyz") == []


def test_geodesic_measure_against_known_lengths_and_an_equal_area_projection() -> None:
    # one degree of longitude on the equator: a·π/180 on the WGS-84 ellipsoid
    m = measure_geojson(json.dumps({"type": "LineString", "coordinates": [[0, 0], [1, 0]]}))
    assert m.kind == "line" and abs(m.length_m - 6378137 * math.pi / 180) < 0.01
    ring = [[105.8, 28.8], [105.9, 28.8], [105.9, 28.9], [105.8, 28.9], [105.8, 28.8]]
    poly = measure_geojson(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    import pyproj
    import shapely
    from shapely.geometry import Polygon

    to_ea = pyproj.Transformer.from_crs(4326, 6933, always_xy=True).transform
    ea = shapely.transform(
        Polygon(ring), lambda xy: np.column_stack(to_ea(xy[:, 0], xy[:, 1]))
    ).area
    assert poly.kind == "polygon" and abs(poly.area_m2 - ea) / ea < 1e-3
    # 2 × 0.1° of longitude at 28.8–28.9° N (≈ 9.76 km) + 2 × 0.1° of latitude (≈ 11.08 km)
    assert 41_600 < poly.length_m < 41_750
    with pytest.raises(ValueError):
        measure_geojson('{"type": "Point", "coordinates": [1, 2]}')
    with pytest.raises(ValueError):
        measure_geojson("{broken")
    metres, px = scale_bar(9.55, 200)
    assert metres == 1000 and abs(px - 1000 / 9.55) < 1e-9
    assert scale_bar(100, 150)[0] == 10000


def test_gcj_round_trip_sanity_for_the_numbers_used_above() -> None:
    glon, glat = wgs84_to_gcj02(105.8336, 28.8116)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert abs(wlon - 105.8336) < 1e-7 and abs(wlat - 28.8116) < 1e-7


def test_township_areas_are_drawn_when_the_workspace_holds_them(demo_ws) -> None:
    from gui.map_ground import township_area_features, workspace_basemap_spec

    assert township_area_features(demo_ws.documents["map_layers"]) is None  # the demo has none
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[105.8, 28.8], [105.9, 28.8], [105.9, 28.9], [105.8, 28.8]]],
                },
                "properties": {"name": "<b>符阳街道</b>"},
            },
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}},
        ],
    }
    fc = township_area_features({"township_areas": json.dumps(doc)})
    assert len(fc["features"]) == 1
    assert fc["features"][0]["properties"]["tip"] == "&lt;b&gt;符阳街道&lt;/b&gt;"
    assert township_area_features({"township_areas": "{bad"}) is None
    spec = workspace_basemap_spec(demo_ws.scenario, demo_ws.documents["map_layers"])
    assert spec["kind"] == "workspace" and spec["labels"] and "https://" not in json.dumps(spec)
    # the county is labelled with its own name, not the workspace's title
    county = [lab["text"] for lab in spec["labels"] if lab["kind"] == "county"]
    assert county == ["合江县"] and demo_ws.scenario.name != "合江县"


def make_vector_mbtiles(path: Path, scenario, road_edges, zooms=(8, 12)) -> None:
    """A vector MBTiles (Mapbox Vector Tiles, one mixed layer "ground": the county outline and
    the main roads) written by GDAL's MBTiles driver."""
    import geopandas as gpd

    roads = road_edges[road_edges["highway"].astype(str).isin(["trunk", "primary", "secondary"])]
    frame = gpd.GeoDataFrame(
        {"kind": ["county"] + ["road"] * len(roads)},
        geometry=[scenario.boundary, *roads.geometry.values],
        crs=4326,
    )
    path.unlink(missing_ok=True)
    frame.to_file(path, driver="MBTiles", layer="ground", MINZOOM=zooms[0], MAXZOOM=zooms[1])


def test_a_vector_mbtiles_is_read_with_its_layers_and_ungzipped(tmp_path: Path, demo_ws) -> None:
    path = tmp_path / "vec.mbtiles"
    make_vector_mbtiles(path, demo_ws.scenario, demo_ws.road_edges)
    with MBTiles(path) as t:
        info = t.info
        assert info.is_vector and info.layers == ("ground",) and info.mime.endswith("protobuf")
        x, y = tile_xy(105.85, 28.8, 10)
        raw, plain = t.tile(10, x, y), t.tile(10, x, y, decompress=True)
        assert raw[:2] == b"\x1f\x8b" and plain[:1] == b"\x1a"  # protobuf field 3: a layer
        assert b"ground" in plain
    spec = bm.page_spec(
        bm.BasemapChoice("mbtiles", str(path)), tile_url="rdtiles:/t/{z}/{x}/{y}", info=info
    )
    assert spec["kind"] == "vector" and spec["layers"] == ["ground"]
    assert spec["script"].startswith("file://") and "https://" not in json.dumps(spec)
    from urllib.parse import unquote, urlparse

    script = Path(unquote(urlparse(spec["script"]).path))
    assert script.is_file() and (script.parent / "LICENSE").is_file()  # BSD-3-Clause, vendored
