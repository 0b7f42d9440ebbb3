"""The offline map page (Qt-free): local assets only, escaping, layer payloads — on the demo county."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

pytest.importorskip("folium")

from gis.model import Stockpile  # noqa: E402
from gui import map_page  # noqa: E402

HOSTILE = "<script>alert(\"x\")</script> 'q' & </script>"


@pytest.fixture(scope="module")
def demo(demo_ws):
    return demo_ws


def _data(page: str) -> dict:
    m = re.search(r"var RD_DATA = (\{.*?\});</script>", page, re.S)
    assert m, "RD_DATA block missing"
    return json.loads(m.group(1))


def test_page_is_offline_and_assets_exist(demo) -> None:
    page = map_page.build_map_html(demo.scenario, demo.road_edges)
    assert "https://" not in page
    assert "http://" not in page
    urls = set(re.findall(r'(?:src|href)="([^"]+)"', page))
    files = [u for u in urls if u.startswith("file://")]
    # leaflet js+css, jquery, leaflet.draw js+css, leaflet.markercluster js+css, page js+css,
    # map tools js (base maps, measuring: reliefdesk_tools.js)
    assert len(files) == 10, sorted(urls)
    for u in files:
        assert Path(unquote(urlparse(u).path)).is_file(), u
    assert urls - set(files) == {"qrc:///qtwebchannel/qwebchannel.js"}
    # licences of the vendored packages are bundled next to them
    for lic in (
        "leaflet/LICENSE",
        "jquery/LICENSE.txt",
        "leaflet-draw/LICENSE",
        "leaflet-markercluster/MIT-LICENCE.txt",
    ):
        assert (map_page.VENDOR_DIR / lic).is_file()


def test_page_holds_every_entity_and_road(demo) -> None:
    s = demo.scenario
    data = _data(map_page.build_map_html(s, demo.road_edges))
    layers = data["layers"]
    for kind in ("shelters", "stockpiles", "teams", "incidents"):
        assert [p["id"] for p in layers[kind]] == [e.id for e in getattr(s, kind)]
    assert len(layers["hazards"]["features"]) == len(s.hazards)
    assert len(layers["townships"]) == len(s.townships)
    assert len(layers["boundary"]["features"]) == (1 if s.boundary is not None else 0)
    roads = data["roads"]["layers"]

    # every edge is drawn once, merged into MultiLineStrings by class, name, ref and speed
    def parts(fc):
        return sum(len(f["geometry"]["coordinates"]) for f in fc["features"])

    assert sum(parts(fc) for fc in roads.values()) == len(demo.road_edges)
    assert all(
        f["properties"]["k"] == len(f["geometry"]["coordinates"])
        for fc in roads.values()
        for f in fc["features"]
    )
    # classes follow the highway tag
    expect = demo.road_edges["highway"].map(map_page.road_class).value_counts().to_dict()
    assert {k: parts(v) for k, v in roads.items()} == expect
    n_features = sum(len(fc["features"]) for fc in roads.values())
    assert n_features < len(demo.road_edges) / 4
    # incidents are coloured by response level
    for p, inc in zip(layers["incidents"], s.incidents):
        assert p["color"] == map_page.LEVEL_COLORS[inc.level]
        assert p["glyph"] == inc.level_roman
    minx, miny, maxx, maxy = data["bounds"]
    assert minx < maxx and miny < maxy


def test_hostile_names_only_as_text(demo) -> None:
    s = demo.scenario
    sp = s.stockpiles[0]
    s2 = s.upsert(replace(sp, name=HOSTILE, contact="</script><b>x</b>"))
    page = map_page.build_map_html(s2, None)
    assert "<script>alert" not in page
    assert "</script><b>" not in page
    # exactly the scripts we put there, nothing injected
    assert page.count("<script") == page.count("</script>")
    point = next(p for p in _data(page)["layers"]["stockpiles"] if p["id"] == sp.id)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in point["popup"]
    assert "<script" not in point["popup"] and "<script" not in point["tip"]
    text = re.sub(r"<[^>]+>", "", point["popup"].replace("</th>", " ").replace("</td>", " "))
    assert HOSTILE in html.unescape(text)
    # names are data, never template code (folium renders with Jinja)
    s4 = s.upsert(replace(sp, name="{{ 7*7 }}{% if true %}X{% endif %}"))
    point = next(
        p
        for p in _data(map_page.build_map_html(s4, None))["layers"]["stockpiles"]
        if p["id"] == sp.id
    )
    assert "{{ 7*7 }}{% if true %}X{% endif %}" in point["popup"]
    # the page title is escaped as well
    s3 = s.replace(name=HOSTILE)
    assert "<title>&lt;script&gt;" in map_page.build_map_html(s3, None)


def test_js_literal_cannot_close_a_script() -> None:
    text = map_page.js_literal({"a": "</script><script>alert(1)</script>", "b": "\u2028"})
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text)["a"] == "</script><script>alert(1)</script>"


def test_layer_payloads_follow_edits(demo) -> None:
    s = demo.scenario
    sp = s.stockpiles[0]
    moved = s.upsert(replace(sp, location=replace(sp.location, lon=sp.location.lon + 0.01)))
    a = map_page.layer_payloads(s, layers=["stockpiles"])["stockpiles"]
    b = map_page.layer_payloads(moved, layers=["stockpiles"])["stockpiles"]
    assert len(a) == len(b)
    assert b[0]["lon"] == pytest.approx(sp.location.lon + 0.01)
    extra = Stockpile("SP-NEW", "新库", "乡镇", (sp.location.lon, sp.location.lat))
    c = map_page.layer_payloads(s.upsert(extra), layers=["stockpiles"])["stockpiles"]
    assert [p["id"] for p in c][-1] == "SP-NEW"


def test_tile_layer_only_when_configured(demo) -> None:
    s = demo.scenario
    assert "L.tileLayer" not in map_page.build_map_html(s, None)
    page = map_page.build_map_html(s, None, tile_url="file:///srv/tiles/{z}/{x}/{y}.png")
    assert "L.tileLayer" in page and "file:///srv/tiles/" in page
