"""gis.coords: published reference pairs, round trips, identity outside China, real data shift."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from gis import coords
from gis.errors import ValidationError
from tests.conftest import shared_path

GEOD = Geod(ellps="WGS84")

# Published test vectors (WGS-84 lon, lat) -> (GCJ-02 lon, lat), as used by the eviltransform
# and prcoords projects' test suites (Shanghai, Shenzhen, Beijing).
WGS_GCJ = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]
# GCJ-02 -> BD-09 examples published with the coordTransform package and countless blog posts.
GCJ_BD = [
    ((116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    ((128.543, 37.065), (128.54944656269413, 37.07113427883019)),
]

china_lon = st.floats(min_value=73.7, max_value=135.0, allow_nan=False)
china_lat = st.floats(min_value=3.9, max_value=53.5, allow_nan=False)


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ)
def test_wgs_to_gcj_matches_published_pairs(wgs: tuple, gcj: tuple) -> None:
    lon, lat = coords.wgs84_to_gcj02(*wgs)
    assert lon == pytest.approx(gcj[0], abs=1e-9)
    assert lat == pytest.approx(gcj[1], abs=1e-9)
    back = coords.gcj02_to_wgs84(*gcj)
    assert metres(*back, *wgs) < 0.01


@pytest.mark.parametrize(("gcj", "bd"), GCJ_BD)
def test_gcj_to_bd_matches_published_pairs(gcj: tuple, bd: tuple) -> None:
    lon, lat = coords.gcj02_to_bd09(*gcj)
    assert (lon, lat) == pytest.approx(bd, abs=1e-9)
    back = coords.bd09_to_gcj02(*bd)
    assert metres(*back, *gcj) < 0.01


def test_vectorised_equals_scalar_and_keeps_shape() -> None:
    rng = np.random.default_rng(3)
    lon = rng.uniform(100, 120, (4, 5))
    lat = rng.uniform(20, 40, (4, 5))
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    assert glon.shape == (4, 5) and glat.shape == (4, 5)
    for i, j in [(0, 0), (3, 4), (2, 1)]:
        s = coords.wgs84_to_gcj02(float(lon[i, j]), float(lat[i, j]))
        assert s == (glon[i, j], glat[i, j])
    assert isinstance(coords.bd09_to_wgs84(116.4, 39.9)[0], float)
    wlon, wlat = coords.gcj02_to_wgs84(glon, glat)
    assert np.abs(wlon - lon).max() < 1e-9 and np.abs(wlat - lat).max() < 1e-9


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_round_trips_below_a_centimetre(lon: float, lat: float) -> None:
    g = coords.wgs84_to_gcj02(lon, lat)
    assert metres(*coords.gcj02_to_wgs84(*g), lon, lat) < 0.01
    w = coords.gcj02_to_wgs84(lon, lat)
    assert metres(*coords.wgs84_to_gcj02(*w), lon, lat) < 0.01
    b = coords.wgs84_to_bd09(lon, lat)
    assert metres(*coords.bd09_to_wgs84(*b), lon, lat) < 0.01
    assert metres(*coords.gcj02_to_bd09(*coords.bd09_to_gcj02(lon, lat)), lon, lat) < 0.01
    # the offsets are real: hundreds of metres, not zero, inside China
    assert 1 < metres(*g, lon, lat) < 1500


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        st.tuples(st.floats(-180, 70), st.floats(-89, 89)),
        st.tuples(st.floats(136, 180), st.floats(-89, 89)),
        st.tuples(st.floats(-180, 180), st.floats(54, 89)),
        st.tuples(st.floats(-180, 180), st.floats(-89, 3.5)),
    )
)
def test_identity_outside_china(point: tuple[float, float]) -> None:
    lon, lat = point
    assert not coords.in_china(lon, lat)
    assert coords.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert coords.gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert coords.to_wgs84(lon, lat, "gcj02") == (lon, lat)


def test_nan_stays_nan_without_warnings() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lon, lat = coords.gcj02_to_wgs84([np.nan, 105.8], [28.8, 28.8])
        blon, _ = coords.bd09_to_wgs84(np.nan, np.nan)
    assert np.isnan(lon[0]) and np.isfinite(lon[1]) and np.isnan(blon)


def test_in_china_vectorised() -> None:
    mask = coords.in_china([105.83, 2.35, 151.2], [28.81, 48.85, -33.87])
    assert mask.tolist() == [True, False, False]


def test_to_wgs84_dispatch_and_bad_system() -> None:
    lon, lat = 105.83359, 28.81161
    g = coords.wgs84_to_gcj02(lon, lat)
    b = coords.wgs84_to_bd09(lon, lat)
    assert metres(*coords.to_wgs84(*g, "GCJ02"), lon, lat) < 0.01
    assert metres(*coords.to_wgs84(*g, "gcj-02"), lon, lat) < 0.01
    assert metres(*coords.to_wgs84(*b, "bd09"), lon, lat) < 0.01
    assert coords.to_wgs84(lon, lat, "wgs84") == (lon, lat)
    # CGCS2000 and WGS-84 agree to well under a metre
    assert metres(*coords.to_wgs84(lon, lat, "CGCS2000"), lon, lat) < 1.0
    assert metres(*coords.from_wgs84(*coords.to_wgs84(*b, "BD09"), "BD09"), *b) < 0.01
    with pytest.raises(ValidationError, match="EPSG3857|unknown coordinate system"):
        coords.to_wgs84(lon, lat, "EPSG3857")
    with pytest.raises(ValidationError, match="WGS84, GCJ02, BD09, CGCS2000"):
        coords.to_wgs84(lon, lat, "mars")
    with pytest.raises(ValidationError, match="numbers"):
        coords.wgs84_to_gcj02("east", 28.0)


def _ring(path, adcode: str) -> np.ndarray:
    doc = json.loads(path.read_text(encoding="utf-8"))
    feat = next(f for f in doc["features"] if f["properties"]["adcode"] == adcode)
    return np.array(feat["geometry"]["coordinates"][0][0])


def test_hejiang_amap_outline_shift_against_wgs84_copy() -> None:
    """The AMap (GCJ-02) outline of 合江县, converted, lands on the shared WGS-84 copy."""
    from scipy.spatial import cKDTree

    gcj = _ring(shared_path("data", "boundaries", "luzhou_counties_cnmaps_amap_gcj02.geojson"),
                "510522")
    wgs = _ring(shared_path("data", "boundaries", "luzhou_counties_cnmaps_amap_wgs84.geojson"),
                "510522")
    lon, lat = coords.gcj02_to_wgs84(gcj[:, 0], gcj[:, 1])
    dist, _ = cKDTree(wgs).query(np.column_stack([lon, lat]))
    # the copy is rounded to 6 decimals (≈ 0.1 m): every vertex within half a metre
    assert dist.max() * 111_000 < 0.5
    # the GCJ-02 offset at 合江: a few hundred metres east and south
    c_lon, c_lat = gcj[:, 0].mean(), gcj[:, 1].mean()
    w_lon, w_lat = lon.mean(), lat.mean()
    east = metres(w_lon, c_lat, c_lon, c_lat)
    south = metres(c_lon, w_lat, c_lon, c_lat)
    assert c_lon > w_lon and c_lat < w_lat
    assert 320 < east < 380
    assert 330 < south < 400
