"""Plan numbering, status workflow, JSON round trip and order building (dispatch/plan.py, orders.py).

Small scenarios are built here with the real model classes and the bundled material catalogue;
paths come from a hand-made path function so every figure on an order can be checked by hand.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.orders import build_orders, compact_steps, merge_steps, order_number
from dispatch.plan import (
    Plan,
    PlanStatusError,
    next_plan_number,
    parse_plan_number,
    plan_number,
    scenario_hash,
)
from dispatch.records import (
    LegPath,
    OrderKind,
    Place,
    PlanInputs,
    PlanStatus,
    RouteStop,
    TeamDispatch,
    Trip,
    TurnStep,
    VehicleRoute,
)
from dispatch.results import Reason, Status, Unserved
from gis.catalogue import load_materials
from gis.errors import ValidationError
from gis.model import Incident, Scenario, Stockpile, Team, Vehicle

T0 = datetime(2026, 11, 22, 9, 30, tzinfo=timezone(timedelta(hours=8)))
HOSTILE = '福宝镇<script>alert("x")</script>山洪'


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return build_scenario()


def build_scenario() -> Scenario:
    """A county with one depot (two vehicles), one team and two incidents, one of them hostile."""
    truck = Vehicle("VH-001", "厢式货车", 5000, 30, "SP-001", name="合江1号车")
    pickup = Vehicle("VH-002", "皮卡", 1000, 4, "SP-001")
    return Scenario(
        "测试县",
        materials=load_materials(),
        stockpiles=(
            Stockpile(
                "SP-001",
                "县级应急物资储备库",
                "县级",
                (105.83, 28.81),
                {"TENT": 200, "WATER": 1000},
                vehicles=(truck, pickup),
            ),
        ),
        teams=(
            Team(
                "TM-001",
                "县消防救援大队",
                "综合性消防救援",
                (105.84, 28.82),
                30,
                skills=("水域救援", "城市搜救"),
                leader="王队长",
                phone="13800000000",
            ),
        ),
        incidents=(
            Incident(
                "INC-001",
                HOSTILE,
                "自然灾害",
                "山洪",
                2,
                (106.07, 28.77),
                T0,
                affected_people=300,
                needs={"TENT": 60, "WATER": 200},
                required_skills={"水域救援": 20},
                deadline_min=40,
            ),
            Incident(
                "INC-002",
                "先滩镇滑坡",
                "自然灾害",
                "滑坡",
                3,
                (106.19, 28.82),
                T0,
                needs={"WATER": 50},
                deadline_min=240,
            ),
        ),
    )


PLACES = (
    Place("SP-001", "县级应急物资储备库", "stockpile", 105.83, 28.81),
    Place("INC-001", HOSTILE, "incident", 106.07, 28.77),
    Place("INC-002", "先滩镇滑坡", "incident", 106.19, 28.82),
    Place("TM-001", "县消防救援大队", "team", 105.84, 28.82),
)
_INDEX = {p.id: p for p in PLACES}


def fake_paths(a: str, b: str) -> LegPath:
    """A path via a midpoint; 1 km ≙ 60 s; steps: G353 (twice, to be merged), a 40 m link, X012."""
    pa, pb = _INDEX[a], _INDEX[b]
    mid = ((pa.lon + pb.lon) / 2, (pa.lat + pb.lat) / 2 + 0.01)
    steps = (
        TurnStep("G353", 10_000, 600),
        TurnStep("G353", 5_000, 300),
        TurnStep("匝道", 40, 5),
        TurnStep("县道 X012 合福路", 4_960, 295),
    )
    return LegPath(1200, 20_000, steps, ((pa.lon, pa.lat), mid, (pb.lon, pb.lat)))


ROUTES = (
    VehicleRoute(
        "VH-001",
        "SP-001",
        (
            Trip("SP-001", 900, 4200, (RouteStop("INC-001", 2100, 2700, {"TENT": 60}),)),
            Trip(
                "SP-001",
                5100,
                9900,
                (
                    RouteStop("INC-001", 6300, 6900, {"WATER": 200}),
                    RouteStop("INC-002", 8100, 8700, {"WATER": 50}),
                ),
            ),
        ),
        9900,
        80_000,
    ),
    VehicleRoute("VH-002", "SP-001", (), 0, 0),  # unused vehicle: no order
)
ASSIGNMENT = (TeamDispatch("TM-001", "INC-001", 1500, 30, ("水域救援",), {"水域救援": 20}),)


def make_plan(scenario: Scenario, number: str = "HJ-20261122-001") -> Plan:
    orders = build_orders(
        number,
        scenario=scenario,
        places=PLACES,
        routes=ROUTES,
        assignment=ASSIGNMENT,
        paths=fake_paths,
    )
    return Plan(
        number=number,
        created_at=T0,
        status=PlanStatus.DRAFT,
        overall=Status.FEASIBLE,
        inputs=PlanInputs("测试县", scenario_hash(scenario), {"seconds": 3.0, "engine": None}, T0),
        places=PLACES,
        routes=ROUTES,
        assignment=ASSIGNMENT,
        unserved=(
            Unserved("INC-001", "TENT", 40, Reason.OUT_OF_STOCK, "缺少 救灾帐篷 40 顶：库存不足"),
        ),
        orders=orders,
    )


# ---- numbering -----------------------------------------------------------------------------


def test_plan_number_format_and_daily_sequence() -> None:
    assert plan_number("HJ", T0, 1) == "HJ-20261122-001"
    assert parse_plan_number("HJ-20261122-012") == ("HJ", "20261122", 12)
    assert parse_plan_number("HJ-2026-1") is None
    used = ["HJ-20261122-001", "HJ-20261122-007", "HJ-20261121-009", "LX-20261122-020", "junk"]
    assert next_plan_number(used, "HJ", T0) == "HJ-20261122-008"
    assert next_plan_number(used, "HJ", T0 + timedelta(days=1)) == "HJ-20261123-001"
    assert next_plan_number(used, "LX", T0) == "LX-20261122-021"
    with pytest.raises(ValidationError, match="prefix"):
        plan_number("H J", T0, 1)
    with pytest.raises(ValidationError, match="sequence"):
        plan_number("HJ", T0, 0)


def test_orders_are_numbered_transfers_then_teams(scenario: Scenario) -> None:
    plan = make_plan(scenario, "HJ-20261122-003")
    assert [o.number for o in plan.orders] == ["HJ-20261122-003-01", "HJ-20261122-003-02"]
    assert [o.kind for o in plan.orders] == [OrderKind.TRANSFER, OrderKind.DEPLOY]
    assert order_number("HJ-20261122-003", 12) == "HJ-20261122-003-12"
    assert plan.vehicles_used == 1  # VH-002 has no trip: no order


# ---- status workflow -----------------------------------------------------------------------


def test_status_workflow_records_who_and_when(scenario: Scenario) -> None:
    plan = make_plan(scenario)
    approved = plan.approve("张局长", T0 + timedelta(minutes=5), "同意")
    issued = approved.issue("值班员李四", T0 + timedelta(minutes=6))
    running = issued.start("值班员李四", T0 + timedelta(minutes=20))
    done = running.complete("值班员李四", T0 + timedelta(hours=5))
    assert plan.status == PlanStatus.DRAFT and not plan.approvals  # immutable
    assert [a.action for a in done.approvals] == ["批准", "下达", "开始执行", "完成"]
    assert [a.to_status for a in done.approvals] == [
        PlanStatus.APPROVED,
        PlanStatus.ISSUED,
        PlanStatus.EXECUTING,
        PlanStatus.COMPLETED,
    ]
    assert done.approvals[0].who == "张局长" and done.approvals[0].note == "同意"
    assert issued.issued_at == T0 + timedelta(minutes=6)
    assert plan.issued_at is None


def test_illegal_transitions_are_refused(scenario: Scenario) -> None:
    plan = make_plan(scenario)
    with pytest.raises(PlanStatusError, match="「草稿」改为「已下达」"):
        plan.issue("李四", T0)
    with pytest.raises(PlanStatusError, match="已完成"):
        plan.complete("李四", T0)
    approved = plan.approve("张局长", T0)
    with pytest.raises(PlanStatusError):
        approved.approve("张局长", T0)
    with pytest.raises(PlanStatusError, match="经办人姓名"):
        plan.approve("  ", T0)
    with pytest.raises(PlanStatusError, match="早于上一步"):
        approved.issue("李四", T0 - timedelta(minutes=1))
    with pytest.raises(PlanStatusError, match="未知状态"):
        plan.transition("撤销", "张局长", T0)
    done = approved.issue("李四", T0).start("李四", T0).complete("李四", T0)
    for target in PlanStatus:
        with pytest.raises(PlanStatusError):
            done.transition(target, "李四", T0)
    # a withdrawn plan goes back to draft and may be approved again
    again = approved.withdraw("张局长", T0).approve("张局长", T0)
    assert again.status == PlanStatus.APPROVED
    assert [a.action for a in again.approvals] == ["批准", "退回", "批准"]


# ---- JSON ----------------------------------------------------------------------------------


def test_plan_json_round_trip_is_equal(scenario: Scenario) -> None:
    plan = make_plan(scenario).approve("张局长", T0).issue("李四", T0 + timedelta(minutes=1))
    text = plan.to_json()
    back = Plan.from_json(text)
    assert back == plan
    assert back.orders[0].legs[0].steps == plan.orders[0].legs[0].steps
    assert isinstance(back.status, PlanStatus) and isinstance(back.unserved[0].reason, Reason)
    assert back.created_at.utcoffset() == timedelta(hours=8)
    data = json.loads(text)
    assert data["format_version"] == 2
    assert data["incidents"] == [] and data["places"][1]["name"] == HOSTILE
    assert Plan.from_json(back.to_json()) == plan


def test_plan_json_errors_name_the_place() -> None:
    with pytest.raises(ValidationError, match="not valid JSON"):
        Plan.from_json("{")
    with pytest.raises(ValidationError, match="newer than supported"):
        Plan.from_json('{"format_version": 99}')
    with pytest.raises(ValidationError, match="missing field 'number'"):
        Plan.from_json("{}")


def test_scenario_hash_tracks_content(scenario: Scenario) -> None:
    h = scenario_hash(scenario)
    assert h == scenario_hash(scenario.replace())  # equal content, equal hash
    moved = scenario.upsert(
        Incident(
            "INC-002",
            "先滩镇滑坡",
            "自然灾害",
            "滑坡",
            3,
            (106.19, 28.83),
            T0,
            needs={"WATER": 50},
            deadline_min=240,
        )
    )
    assert scenario_hash(moved) != h


# ---- order contents ------------------------------------------------------------------------


def test_transfer_order_lists_loads_deliveries_and_returns(scenario: Scenario) -> None:
    order = make_plan(scenario).orders[0]
    assert order.title == "应急物资调拨单" and order.unit_name == "合江1号车"
    assert order.unit_type == "厢式货车"
    assert [(s.trip, s.action, s.place_id) for s in order.stops] == [
        (1, "装货", "SP-001"),
        (1, "卸货", "INC-001"),
        (1, "返回", "SP-001"),
        (2, "装货", "SP-001"),
        (2, "卸货", "INC-001"),
        (2, "卸货", "INC-002"),
        (2, "返回", "SP-001"),
    ]
    assert [s.seq for s in order.stops] == list(range(1, 8))
    loaded2 = {i.material: i.quantity for i in order.stops[3].items}
    assert loaded2 == {"WATER": 250}  # trip 2 loads what it unloads at both sites
    mats = scenario.material_index
    items = {i.material: i for i in order.items}
    assert items["TENT"].quantity == 60 and items["WATER"].quantity == 250
    assert items["TENT"].weight_kg == pytest.approx(60 * mats["TENT"].unit_weight_kg)
    assert order.total_weight_kg == pytest.approx(
        60 * mats["TENT"].unit_weight_kg + 250 * mats["WATER"].unit_weight_kg
    )
    assert order.destination_ids == ("INC-001", "INC-002")
    assert order.eta_s == 8100 and order.end_s == 9900 and order.depart_s == 900
    assert len(order.legs) == 5  # out, back, out, between sites, back
    assert order.total_metres == 5 * 20_000
    # INC-001's deadline is 40 min: the trip-2 delivery (6300 s) is late and says so
    assert any("晚于时限" in n and "第 5 站" in n for n in order.notes)
    assert any("共 2 趟" in n for n in order.notes)


def test_turn_list_is_merged_per_road(scenario: Scenario) -> None:
    leg = make_plan(scenario).orders[0].legs[0]
    assert [s.road for s in leg.steps] == ["G353", "县道 X012 合福路"]
    assert [s.distance_m for s in leg.steps] == [15_040, 4_960]  # the 40 m link folded in
    order = make_plan(scenario).orders[0]
    assert order.main_roads(1) == ("G353",)
    assert "G353" in order.route_summary() and "100.0 公里" in order.route_summary()


def test_deploy_order(scenario: Scenario) -> None:
    order = make_plan(scenario).orders[1]
    assert order.kind == OrderKind.DEPLOY and order.title == "救援队伍派遣令"
    assert order.unit_name == "县消防救援大队" and order.headcount == 30
    assert order.destination_ids == ("INC-001",) and order.eta_s == 1500
    assert order.skills == ("水域救援",) and "山洪处置" in order.task and HOSTILE in order.task
    assert order.contact == "王队长 13800000000"
    assert [s.action for s in order.stops] == ["出发", "到达"]
    assert not order.notes  # 25 min < 40 min deadline


def test_missing_path_falls_back_to_a_marked_straight_line(scenario: Scenario) -> None:
    orders = build_orders(
        "HJ-20261122-001",
        scenario=scenario,
        places=PLACES,
        routes=ROUTES,
        assignment=ASSIGNMENT,
        paths=lambda a, b: None,
    )
    leg = orders[1].legs[0]
    assert not leg.on_roads and leg.steps == () and len(leg.coords) == 2
    assert leg.seconds == 1500  # the solver's ETA is kept
    assert any("直线" in n for n in orders[1].notes)


_steps = st.lists(
    st.builds(
        TurnStep,
        st.sampled_from(["G353", "S308", "X012", "村道"]),
        st.floats(0, 5000, allow_nan=False),
        st.floats(0, 600, allow_nan=False),
    ),
    max_size=12,
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(_steps)
def test_compact_steps_keeps_totals_and_never_repeats_a_road(steps: list[TurnStep]) -> None:
    for fn in (merge_steps, compact_steps):
        out = fn(steps)
        assert sum(s.distance_m for s in out) == pytest.approx(sum(s.distance_m for s in steps))
        assert sum(s.seconds for s in out) == pytest.approx(sum(s.seconds for s in steps))
        assert all(a.road != b.road for a, b in zip(out, out[1:]))
    # only the first step may stay short (when the whole leg is short)
    assert all(s.distance_m >= 150 for s in compact_steps(steps)[1:])


def test_plan_is_stored_in_workspace_documents(scenario: Scenario, tmp_path) -> None:
    from dispatch.plan import plans_from_documents, with_plan
    from gis.workspace import read_workspace, write_workspace

    first = make_plan(scenario)
    second = make_plan(scenario, next_plan_number([first.number], "HJ", T0))
    docs = with_plan(with_plan({"event_log": {"1": "{}"}}, first), second)
    docs = with_plan(docs, first.approve("张局长", T0))  # same number: replaced
    assert sorted(docs["plans"]) == ["HJ-20261122-001", "HJ-20261122-002"]
    path = tmp_path / "ws.gpkg"
    write_workspace(path, scenario, documents=docs)
    ws = read_workspace(path, include_roads=False)
    assert ws.documents["event_log"] == {"1": "{}"}
    plans = plans_from_documents(ws.documents)
    assert [p.number for p in plans] == ["HJ-20261122-001", "HJ-20261122-002"]
    assert plans[0] == first.approve("张局长", T0) and plans[1] == second
    with pytest.raises(ValidationError, match="stored plan HJ-20261122-009"):
        plans_from_documents({"plans": {"HJ-20261122-009": "{"}})
