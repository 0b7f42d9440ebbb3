"""Unit tests of gis/model.py: validation on construction and Scenario edits.

Every invalid value must raise :class:`gis.errors.ValidationError` (a ValueError) whose message
names the entity, its id and the field. Tests marked ``xfail(strict=True)`` pin known model bugs
(reported to the model's owner): they start failing, on purpose, once the bug is fixed, so the
marker is removed then.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon

from gis.errors import ReliefDeskError, ValidationError
from gis.model import (
    CandidateKind,
    CandidateSite,
    DemandKind,
    DemandPoint,
    Hazard,
    Incident,
    IncidentStatus,
    Location,
    Material,
    RoadClosure,
    RoadNetworkRef,
    Scenario,
    Shelter,
    Stockpile,
    StockpileLevel,
    Team,
    Township,
    Vehicle,
    parse_level,
)

NOW = datetime(2024, 7, 1, 8, 30)


def tent() -> Material:
    return Material("TENT", "帐篷", "Tent", "顶", 25.0, 0.12, "生活类")


def depot(ident: str = "SP1", **kw: object) -> Stockpile:
    args: dict[str, object] = {
        "id": ident,
        "name": "县级库",
        "level": "县级",
        "location": (105.8, 28.8),
    }
    args.update(kw)
    return Stockpile(**args)  # type: ignore[arg-type]


def incident(ident: str = "I1", **kw: object) -> Incident:
    args: dict[str, object] = {
        "id": ident,
        "name": "山洪",
        "category": "自然灾害",
        "subtype": "山洪",
        "level": 2,
        "location": (106.0, 28.77),
        "reported_at": NOW,
    }
    args.update(kw)
    return Incident(**args)  # type: ignore[arg-type]


def team(ident: str = "T1", **kw: object) -> Team:
    args: dict[str, object] = {
        "id": ident,
        "name": "消防大队",
        "force_type": "综合性消防救援",
        "location": (105.83, 28.81),
        "headcount": 30,
    }
    args.update(kw)
    return Team(**args)  # type: ignore[arg-type]


def shelter(ident: str = "SH1", **kw: object) -> Shelter:
    args: dict[str, object] = {
        "id": ident,
        "name": "中学",
        "setting": "室内",
        "shelter_class": "短期",
        "location": (105.84, 28.81),
        "capacity": 500,
    }
    args.update(kw)
    return Shelter(**args)  # type: ignore[arg-type]


def raises(pattern_parts: tuple[str, ...], make: object) -> ValidationError:
    """Call ``make``; assert a ValidationError whose message contains every part."""
    with pytest.raises(ValidationError) as info:
        make()  # type: ignore[operator]
    msg = str(info.value)
    for part in pattern_parts:
        assert part in msg, f"{part!r} not in {msg!r}"
    assert isinstance(info.value, ValueError) and isinstance(info.value, ReliefDeskError)
    return info.value


# --------------------------------------------------------------------------------------------
# Invalid values name the entity, its id and the field
# --------------------------------------------------------------------------------------------


def test_negative_stock() -> None:
    raises(
        ("Stockpile 'SP1'", "inventory[TENT]", "≥ 0", "-1"), lambda: depot(inventory={"TENT": -1})
    )
    raises(("Stockpile 'SP1'", "safety_stock[TENT]"), lambda: depot(safety_stock={"TENT": -0.5}))
    raises(("Shelter 'SH1'", "stock[水]"), lambda: shelter(stock={"水": -3}))
    raises(("Incident 'I1'", "needs[TENT]"), lambda: incident(needs={"TENT": -10}))


@pytest.mark.parametrize("bad", [math.nan, math.inf, "many", None])
def test_non_finite_or_non_numeric_quantity(bad: object) -> None:
    raises(("Stockpile 'SP1'", "inventory[TENT]"), lambda: depot(inventory={"TENT": bad}))


@pytest.mark.parametrize("level", ["V", 5, 0, -1, "五", 2.5, True, "", None])
def test_response_level_out_of_range(level: object) -> None:
    raises(("Incident 'I1'", "level", "I–IV"), lambda: incident(level=level))
    raises(
        ("Hazard 'H1'", "risk_level"),
        lambda: Hazard("H1", "隐患点", "地质灾害隐患点", level, Point(106, 28.8)),
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [(1, 1), (4, 4), ("II", 2), ("iii", 3), ("Ⅳ", 4), ("3级", 3), ("2", 2), (2.0, 2)],
)
def test_response_level_spellings(given: object, expected: int) -> None:
    assert parse_level(given) == expected
    assert incident(level=given).level == expected
    assert incident(level=given).level_roman == ("I", "II", "III", "IV")[expected - 1]


def test_stockpile_level_vocabulary() -> None:
    raises(
        ("Stockpile 'SP1'", "level", "县级/乡镇/村/企业/社会", "省级"), lambda: depot(level="省级")
    )
    assert depot(level="村").level is StockpileLevel.VILLAGE


def test_unknown_material() -> None:
    cat = (tent(),)
    raises(
        ("Scenario 'x'", "stockpile 'SP1'", "inventory", "unknown material", "WATER"),
        lambda: Scenario("x", materials=cat, stockpiles=(depot(inventory={"WATER": 1}),)),
    )
    raises(
        ("safety_stock", "QUILT"),
        lambda: Scenario("x", materials=cat, stockpiles=(depot(safety_stock={"QUILT": 1}),)),
    )
    raises(
        ("shelter 'SH1'", "stock", "WATER"),
        lambda: Scenario("x", materials=cat, shelters=(shelter(stock={"WATER": 1}),)),
    )
    raises(
        ("incident 'I1'", "needs", "FOOD"),
        lambda: Scenario("x", materials=cat, incidents=(incident(needs={"FOOD": 1}),)),
    )
    with pytest.raises(ValidationError, match="unknown material 'WATER'"):
        Scenario("x", materials=cat).material("WATER")
    # without a catalogue any code is accepted (nothing to check against)
    assert Scenario("x", stockpiles=(depot(inventory={"WATER": 1}),)).stockpiles[0].inventory


@pytest.mark.parametrize(
    ("location", "field"),
    [
        ((math.nan, 28.8), "lon"),
        ((105.8, math.nan), "lat"),
        ((math.inf, 28.8), "lon"),
        ((181.0, 28.8), "lon"),
        ((105.8, -90.5), "lat"),
    ],
)
def test_bad_coordinates(location: tuple[float, float], field: str) -> None:
    raises(("Stockpile 'SP1'", "location", f"'{field}'"), lambda: depot(location=location))
    raises(("Team 'T1'", "location"), lambda: team(location=location))
    raises(("Incident 'I1'", "location"), lambda: incident(location=location))


def test_location_shape() -> None:
    raises(("Shelter 'SH1'", "location", "(lon, lat)"), lambda: shelter(location=(1, 2, 3)))
    raises(("Shelter 'SH1'", "location"), lambda: shelter(location=None))
    assert shelter(location=Location(105.0, 28.0)).location == Location(105.0, 28.0)
    assert shelter(location=[105, 28]).location.xy == (105.0, 28.0)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_in_geometry() -> None:
    raises(("Hazard 'H1'", "geometry"), lambda: Hazard("H1", "n", "c", 1, Point(math.nan, 28.0)))
    raises(
        # GEOS bounds skip NaN, so the model reports the line as "not valid": good enough
        ("RoadClosure 'C1'", "geometry"),
        lambda: RoadClosure("C1", LineString([(105, 28), (math.nan, 28.1)])),
    )


def test_geometry_rules() -> None:
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    raises(("Hazard 'H1'", "geometry", "not valid"), lambda: Hazard("H1", "n", "c", 1, bowtie))
    raises(
        ("Hazard 'H1'", "LineString"),
        lambda: Hazard("H1", "n", "c", 1, LineString([(0, 0), (1, 1)])),
    )
    raises(("RoadClosure 'C1'", "outside"), lambda: RoadClosure("C1", Point(200, 28)))
    raises(("RoadClosure 'C1'", "empty"), lambda: RoadClosure("C1", Polygon()))
    raises(("RoadClosure 'C1'", "shapely geometry"), lambda: RoadClosure("C1", (105, 28)))
    raises(("Scenario", "Polygon/MultiPolygon"), lambda: Scenario("x", boundary=Point(1, 1)))


def test_shelter_rules() -> None:
    raises(("Shelter 'SH1'", "occupancy", "exceeds capacity"), lambda: shelter(occupancy=501))
    raises(("Shelter 'SH1'", "capacity", "whole number"), lambda: shelter(capacity=10.5))
    raises(("Shelter 'SH1'", "setting", "室内/室外"), lambda: shelter(setting="地下"))
    raises(("Shelter 'SH1'", "shelter_class"), lambda: shelter(shelter_class="永久"))
    s = shelter(capacity=500.0, occupancy=120)
    assert s.capacity == 500 and isinstance(s.capacity, int) and s.free_capacity == 380


def test_team_rules() -> None:
    raises(("Team 'T1'", "force_type"), lambda: team(force_type="警察"))
    raises(("Team 'T1'", "status", "待命/出动/休整"), lambda: team(status="睡觉"))
    raises(("Team 'T1'", "skills", "twice"), lambda: team(skills=("水域救援", "水域救援")))
    raises(("Team 'T1'", "skills", "text"), lambda: team(skills=(3,)))
    raises(("Team 'T1'", "headcount", "whole"), lambda: team(headcount=2.5))
    raises(("Team 'T1'", "headcount", "≥ 0"), lambda: team(headcount=-1))
    raises(("Team 'T1'", "name", "empty"), lambda: team(name="  "))


def test_incident_rules() -> None:
    raises(("Incident 'I1'", "category"), lambda: incident(category="天灾"))
    raises(("Incident 'I1'", "status"), lambda: incident(status="完成"))
    raises(("Incident 'I1'", "reported_at", "ISO"), lambda: incident(reported_at="昨天"))
    raises(("Incident 'I1'", "reported_at", "datetime"), lambda: incident(reported_at=1720000000))
    raises(
        ("Incident 'I1'", "required_skills[医疗救护]", "whole people"),
        lambda: incident(required_skills={"医疗救护": 1.5}),
    )
    raises(("Incident 'I1'", "deadline_min", "> 0"), lambda: incident(deadline_min=0))
    raises(("Incident 'I1'", "affected_people"), lambda: incident(affected_people=-3))
    i = incident(reported_at="2024-07-01T08:30:00+08:00", status="结束")
    assert i.reported_at.utcoffset() is not None and not i.is_open
    assert i.status is IncidentStatus.CLOSED


def test_vehicle_rules() -> None:
    raises(("Vehicle 'V1'", "capacity_kg"), lambda: Vehicle("V1", "货车", -1, 1, "SP1"))
    raises(
        ("Vehicle 'V1'", "speed_factor", "> 0"),
        lambda: Vehicle("V1", "货车", 1, 1, "SP1", speed_factor=0),
    )
    raises(("Vehicle 'V1'", "kind"), lambda: Vehicle("V1", "", 1, 1, "SP1"))
    raises(
        ("Stockpile 'SP1'", "vehicles", "'V1'", "home_id 'SP2'"),
        lambda: depot(vehicles=(Vehicle("V1", "货车", 1, 1, "SP2"),)),
    )
    raises(("Stockpile 'SP1'", "vehicles", "Vehicle objects"), lambda: depot(vehicles=("V1",)))


def test_material_rules() -> None:
    raises(
        ("Material 'TENT'", "unit_weight_kg", "> 0"),
        lambda: Material("TENT", "帐篷", "", "顶", 0, 0.1, "生活类"),
    )
    raises(
        ("Material 'TENT'", "unit_volume_m3"),
        lambda: Material("TENT", "帐篷", "", "顶", 1, math.nan, "生活类"),
    )
    raises(("Material ''", "code", "empty"), lambda: Material("", "帐篷", "", "顶", 1, 1, "c"))


def test_closure_rules() -> None:
    raises(
        ("RoadClosure 'C1'", "speed_factor", "[0, 1)"),
        lambda: RoadClosure("C1", Point(105, 28), speed_factor=1.0),
    )
    raises(
        ("RoadClosure 'C1'", "until", "before"),
        lambda: RoadClosure("C1", Point(105, 28), since=NOW, until=datetime(2024, 1, 1)),
    )
    raises(
        ("RoadClosure 'C1'", "since", "ISO"),
        lambda: RoadClosure("C1", Point(105, 28), since="上周"),
    )
    raises(("RoadClosure 'C1'", "radius_m"), lambda: RoadClosure("C1", Point(105, 28), radius_m=-5))
    c = RoadClosure("C1", Point(105, 28), since="2024-07-01T06:00", until="")
    assert c.since == datetime(2024, 7, 1, 6) and c.until is None and c.closes
    assert not RoadClosure("C2", Point(105, 28), speed_factor=0.5).closes


def test_township_and_network_ref() -> None:
    raises(("Township ''", "code"), lambda: Township("", "福宝镇", (106.07, 28.77)))
    raises(
        ("Township '510522112'", "population"),
        lambda: Township("510522112", "福宝镇", (106.07, 28.77), population=-1),
    )
    raises(("RoadNetworkRef", "kind", "osm/generated/none"), lambda: RoadNetworkRef("gps"))


def test_demand_point_rules() -> None:
    d = DemandPoint("D1", "尧坝村", "村庄", (105.9, 28.7), "1,250", "2")
    assert d.kind is DemandKind.VILLAGE and d.population == 1250 and d.weight == 2.0
    raises(
        ("DemandPoint 'D1'", "population", "≥ 0"),
        lambda: DemandPoint("D1", "村", "村庄", (105.9, 28.7), -5),
    )
    raises(
        ("DemandPoint 'D1'", "population", "whole"),
        lambda: DemandPoint("D1", "村", "村庄", (105.9, 28.7), 2.5),
    )
    raises(
        ("DemandPoint 'D1'", "population", "10,000,000"),
        lambda: DemandPoint("D1", "村", "村庄", (105.9, 28.7), 50_000_000),
    )
    raises(
        ("DemandPoint 'D1'", "population"),
        lambda: DemandPoint("D1", "村", "村庄", (105.9, 28.7), "约850"),
    )
    raises(
        ("DemandPoint 'D1'", "weight", "1,000"),
        lambda: DemandPoint("D1", "村", "村庄", (105.9, 28.7), 5, 5000),
    )
    raises(
        ("DemandPoint 'D1'", "weight"),
        lambda: DemandPoint("D1", "村", "村庄", (105.9, 28.7), 5, math.nan),
    )
    raises(
        ("DemandPoint 'D1'", "kind", "村庄/学校/工厂/其他"),
        lambda: DemandPoint("D1", "村", "village", (105.9, 28.7)),
    )
    raises(("DemandPoint 'D1'", "location"), lambda: DemandPoint("D1", "村", "村庄", (205.9, 28.7)))
    # hostile names: control characters are refused, markup is kept as plain text
    raises(
        ("DemandPoint 'D1'", "name", "U+001B"),
        lambda: DemandPoint("D1", "村\x1b[2J", "村庄", (105.9, 28.7)),
    )
    raises(
        ("DemandPoint 'D1'", "name", "U+202E"),
        lambda: DemandPoint("D1", "村\u202e", "学校", (105.9, 28.7)),
    )
    raises(
        ("DemandPoint ' '", "id", "empty"), lambda: DemandPoint(" ", "村", "村庄", (105.9, 28.7))
    )
    html = DemandPoint("D2", "<script>alert(1)</script>", "其他", (105.9, 28.7))
    assert html.name == "<script>alert(1)</script>"
    s = Scenario("x", demand_points=(d,))
    raises(("demand_points has duplicate id", "D1"), lambda: Scenario("x", demand_points=(d, d)))
    assert [p.name for p in s.upsert(dataclasses.replace(d, name="新村")).demand_points] == ["新村"]
    assert s.remove("D1").demand_points == ()


def test_entities_are_frozen() -> None:
    d = depot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.name = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Scenario-level rules
# --------------------------------------------------------------------------------------------


def test_duplicate_ids() -> None:
    raises(
        ("Scenario 'x'", "stockpiles", "duplicate id 'SP1'"),
        lambda: Scenario("x", stockpiles=(depot(), depot(name="另一个"))),
    )
    raises(("teams", "duplicate id 'T1'"), lambda: Scenario("x", teams=(team(), team())))
    raises(("materials", "duplicate id 'TENT'"), lambda: Scenario("x", materials=(tent(), tent())))
    raises(
        ("townships", "duplicate id '510522112'"),
        lambda: Scenario("x", townships=(Township("510522112", "福宝镇", (106, 28.7)),) * 2),
    )
    raises(
        ("vehicle id 'V1'", "SP1", "T1"),
        lambda: Scenario(
            "x",
            stockpiles=(depot(vehicles=(Vehicle("V1", "货车", 1, 1, "SP1"),)),),
            teams=(team(vehicles=(Vehicle("V1", "消防车", 1, 1, "T1"),)),),
        ),
    )
    raises(("Scenario", "name", "empty"), lambda: Scenario(""))


def test_upsert_adds_replaces_and_revalidates() -> None:
    base = Scenario("x", materials=(tent(),), stockpiles=(depot("A"), depot("B")))
    added = base.upsert(depot("C", inventory={"TENT": 5}))
    assert [s.id for s in added.stockpiles] == ["A", "B", "C"]
    replaced = added.upsert(depot("A", name="改名"))
    assert [s.id for s in replaced.stockpiles] == ["A", "B", "C"]  # same position
    assert replaced.find("A").name == "改名"  # type: ignore[union-attr]
    # the original snapshots are unchanged (undo relies on it)
    assert base.find("A").name == "县级库"  # type: ignore[union-attr]
    assert len(base.stockpiles) == 2
    # each entity kind goes to its own tuple
    more = base.upsert(team()).upsert(incident()).upsert(shelter())
    more = more.upsert(Hazard("H1", "n", "c", 1, Point(105, 28)))
    more = more.upsert(RoadClosure("C1", Point(105, 28)))
    more = more.upsert(DemandPoint("D1", "尧坝村", "村庄", (105.9, 28.7), 800))
    more = more.upsert(CandidateSite("CS1", "候选", "any", (105.9, 28.7)))
    assert more.counts() == {
        "materials": 1,
        "townships": 0,
        "stockpiles": 2,
        "shelters": 1,
        "teams": 1,
        "incidents": 1,
        "hazards": 1,
        "closures": 1,
        "demand_points": 1,
        "candidate_sites": 1,
    }
    # the whole scenario is validated again
    raises(("unknown material", "WATER"), lambda: base.upsert(depot("D", inventory={"WATER": 1})))
    raises(("not a scenario entity", "Material"), lambda: base.upsert(tent()))  # type: ignore[type-var]
    assert base.open_incidents() == ()
    assert more.open_incidents() == more.incidents


def test_remove() -> None:
    s = Scenario("x", stockpiles=(depot("A"), depot("B")), teams=(team("T1"),))
    r = s.remove("A")
    assert [p.id for p in r.stockpiles] == ["B"]
    assert [p.id for p in s.stockpiles] == ["A", "B"]
    assert s.remove("T1").teams == ()
    with pytest.raises(KeyError):
        s.remove("nope")
    with pytest.raises(KeyError):
        s.find("nope")


def test_replace_revalidates() -> None:
    s = Scenario("x", materials=(tent(),))
    raises(("Scenario", "name"), lambda: s.replace(name=""))
    raises(("unknown material",), lambda: s.replace(stockpiles=(depot(inventory={"X": 1}),)))


def test_available_respects_safety_stock() -> None:
    d = depot(inventory={"TENT": 100}, safety_stock={"TENT": 30})
    assert d.available("TENT") == 70
    assert d.available("TENT", release_safety_stock=True) == 100
    assert d.available("WATER") == 0
    low = depot(inventory={"TENT": 10}, safety_stock={"TENT": 30})
    assert low.available("TENT") == 0


def test_quantities_normalised() -> None:
    d = depot(inventory={"TENT": 5.0, "FUEL": 2.5, "N": np.float64(3.0)})
    assert d.inventory == {"TENT": 5, "FUEL": 2.5, "N": 3}
    assert isinstance(d.inventory["TENT"], int)


# --------------------------------------------------------------------------------------------
# Former model bugs found by the workspace tests (now fixed; kept as regression tests)
# --------------------------------------------------------------------------------------------


def test_bug_closure_mixed_naive_aware_times_raise_validation_error() -> None:
    with pytest.raises(ValidationError):
        RoadClosure("C1", Point(105, 28), since=NOW, until=datetime(2024, 7, 2, tzinfo=UTC))


def test_bug_team_skills_given_as_one_string() -> None:
    with pytest.raises(ValidationError):
        team(skills="水域救援")


def test_bug_location_given_as_string() -> None:
    with pytest.raises(ValidationError):
        depot(location="12")  # currently becomes Location(1.0, 2.0)


def test_bug_numpy_integer_level() -> None:
    assert parse_level(np.int64(2)) == 2


def test_bug_divisible_text() -> None:
    with pytest.raises(ValidationError):
        Material("FUEL", "柴油", "", "升", 1, 1, "c", divisible="no")


def test_bug_scenario_with_non_entity() -> None:
    with pytest.raises(ValidationError):
        Scenario("x", stockpiles=({"id": "A"},))  # type: ignore[arg-type]


def test_bug_frozen_entities_have_mutable_mappings() -> None:
    d = depot(inventory={"TENT": 5})
    with pytest.raises(TypeError):
        d.inventory["TENT"] = -5  # type: ignore[index]


def test_candidate_site_and_stockpile_capacity() -> None:
    c = CandidateSite("CS1", "白鹿候选点", "避难场所", (105.9, 28.7), "1,200", "35.5", "学校操场")
    assert c.kind is CandidateKind.SHELTER and c.capacity == 1200 and c.fixed_cost == 35.5
    assert c.serves("shelters") and not c.serves("stockpiles")
    assert CandidateSite("CS2", "x", " Any ", (105.9, 28.7)).serves("stockpiles")
    raises(("CandidateSite 'CS1'", "kind", "stockpile/shelter/any"),
           lambda: CandidateSite("CS1", "x", "仓库", (105.9, 28.7)))
    raises(("CandidateSite 'CS1'", "capacity", "whole"),
           lambda: CandidateSite("CS1", "x", "any", (105.9, 28.7), 2.5))
    raises(("CandidateSite 'CS1'", "fixed_cost", "≥ 0"),
           lambda: CandidateSite("CS1", "x", "any", (105.9, 28.7), 0, -1))
    assert depot("A").capacity_m3 is None  # not stated
    assert depot("A", capacity_m3=float("nan")).capacity_m3 is None
    assert depot("A", capacity_m3="1,500").capacity_m3 == 1500.0
    raises(("Stockpile 'A'", "capacity_m3", "≥ 0"), lambda: depot("A", capacity_m3=-3))
    raises(("Stockpile 'A'", "capacity_m3", "1,000,000"), lambda: depot("A", capacity_m3=5e6))
