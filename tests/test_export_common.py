"""Helpers shared by the exporters (dispatch/export/common.py): labels, times, per-order rows.

On the real plan of the demo county (computed once per session) and on hand-made plans: no
start time, a plan made late in the evening whose stops run past midnight, and names with HTML
and spreadsheet-formula characters, which this layer must hand on as plain, unchanged text (each
exporter escapes or defuses them for its own format, so escaping here would double it).
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from dispatch.export.common import (
    KIND_LABEL,
    ROW_FIELDS,
    destinations_text,
    eta_text,
    items_text,
    order_rows,
    quantities_text,
    served_pct,
    shelter_supply,
    when_text,
)
from dispatch.plan import Plan
from dispatch.records import (
    AllocationLine,
    DispatchOrder,
    MaterialRef,
    OrderItem,
    OrderKind,
    OrderStop,
    Place,
    RouteStop,
    Trip,
    VehicleRoute,
)
from tests.test_orders import HOSTILE, build_scenario, make_plan

KEYS = [k for k, _ in ROW_FIELDS]
CST = timezone(timedelta(hours=8))
FORMULA = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture(scope="module")
def plan(demo_plan: Plan) -> Plan:
    return demo_plan


# ---- constants ---------------------------------------------------------------------------------


def test_row_fields_are_unique_keys_with_chinese_labels() -> None:
    assert len(set(KEYS)) == len(KEYS) == 17
    labels = [label for _, label in ROW_FIELDS]
    assert len(set(labels)) == len(labels)
    assert KEYS[:4] == ["order_no", "kind", "unit_id", "unit_name"]  # xlsx drops these 4 per sheet
    assert (
        dict(ROW_FIELDS)["eta_min"] == "预计用时(分钟)" and dict(ROW_FIELDS)["headcount"] == "人数"
    )


def test_kind_label_names_every_kind_of_place_in_the_demo_plan(plan: Plan) -> None:
    assert KIND_LABEL == {
        "stockpile": "储备库",
        "incident": "事发点",
        "shelter": "避难场所",
        "team": "队伍驻地",
        "group": "转移群众",
    }
    assert {p.kind for p in plan.places} <= set(KIND_LABEL)


# ---- times -------------------------------------------------------------------------------------


def test_when_text() -> None:
    assert when_text(None) == "未下达"
    assert when_text(datetime(2026, 11, 22, 9, 5, 59)) == "2026-11-22 09:05"
    # an aware time is written in its own zone, not converted
    assert when_text(datetime(2026, 11, 22, 23, 59, tzinfo=CST)) == "2026-11-22 23:59"


def _plan_at(start: datetime, **kw) -> Plan:
    return dataclasses.replace(make_plan(build_scenario()), created_at=start, **kw)


def test_eta_text_same_day_and_past_midnight() -> None:
    day = _plan_at(datetime(2026, 11, 22, 9, 30, tzinfo=CST))
    assert eta_text(day, 0) == "09:30 (+0 分钟)"
    assert eta_text(day, 37 * 60) == "10:07 (+37 分钟)"
    assert eta_text(day, 3 * 3600) == "12:30 (+180 分钟)"
    late = _plan_at(datetime(2026, 11, 22, 23, 50, tzinfo=CST))
    assert eta_text(late, 9 * 60) == "23:59 (+9 分钟)"
    assert eta_text(late, 10 * 60) == "11-23 00:00 (+10 分钟)"  # another day: with the date
    assert eta_text(late, 25 * 3600) == "11-24 00:50 (+1500 分钟)"
    new_year = _plan_at(datetime(2026, 12, 31, 23, 0))
    assert eta_text(new_year, 2 * 3600) == "01-01 01:00 (+120 分钟)"


def test_demo_plan_rows_past_midnight_carry_the_date(plan: Plan) -> None:
    last = max(s.eta_s for o in plan.orders for s in o.stops)
    assert last > 3600, "the demo plan's stops span more than an hour"
    start = datetime(2026, 11, 22, 23, 0, tzinfo=CST)
    late = dataclasses.replace(plan, created_at=start)
    seen = Counter()
    for order in late.orders:
        for stop, row in zip(order.stops, _stop_rows(late, order), strict=True):
            t = start + timedelta(seconds=stop.eta_s)
            if t.date() == start.date():
                assert row["eta_time"] == f"{t:%H:%M}"
                seen["same day"] += 1
            else:
                assert row["eta_time"] == f"{t:%m-%d %H:%M}" and row["eta_time"].startswith(
                    "11-23 "
                )
                seen["next day"] += 1
    assert seen["same day"] and seen["next day"]


# ---- rows --------------------------------------------------------------------------------------


def _stop_rows(plan: Plan, order: DispatchOrder) -> list[dict]:
    """The first row of each stop (a stop with n items gives n rows)."""
    rows = list(order_rows(plan, order))
    out, i = [], 0
    for stop in order.stops:
        out.append(rows[i])
        i += max(1, len(stop.items))
    assert i == len(rows)
    return out


def test_demo_plan_rows_one_per_item_per_stop(plan: Plan) -> None:
    assert plan.transfer_orders and plan.deploy_orders
    for order in plan.orders:
        rows = list(order_rows(plan, order))
        assert len(rows) == sum(max(1, len(s.items)) for s in order.stops)
        i = 0
        for stop in order.stops:
            for it in stop.items or (None,):
                row = rows[i]
                i += 1
                assert list(row) == KEYS  # every field, in the header's order
                assert row["order_no"] == order.number and row["kind"] == order.kind.value
                assert (row["unit_id"], row["unit_name"]) == (order.unit_id, order.unit_name)
                assert (row["trip"], row["seq"], row["action"]) == (
                    stop.trip,
                    stop.seq,
                    stop.action,
                )
                assert (row["place_id"], row["place_name"]) == (stop.place_id, stop.place_name)
                assert row["eta_min"] == round(stop.eta_s / 60, 1)
                t = plan.created_at + timedelta(seconds=stop.eta_s)
                assert row["eta_time"] in (f"{t:%H:%M}", f"{t:%m-%d %H:%M}")
                if it is None:
                    assert row["material"] == row["material_name"] == row["unit"] == ""
                    assert row["quantity"] == row["weight_kg"] == ""
                else:
                    assert (row["material"], row["material_name"], row["unit"]) == (
                        it.material,
                        it.name,
                        it.unit,
                    )
                    assert row["quantity"] == it.quantity and row["weight_kg"] == it.weight_kg
                    assert row["headcount"] == ""
                if order.kind == OrderKind.DEPLOY:
                    assert row["headcount"] == order.headcount > 0
                elif it is None:
                    assert row["headcount"] == ""


def test_demo_transfer_rows_load_and_unload_what_the_order_carries(plan: Plan) -> None:
    for order in plan.transfer_orders:
        loaded: dict[str, float] = defaultdict(float)
        unloaded: dict[str, float] = defaultdict(float)
        for row in order_rows(plan, order):
            if row["action"] == "装货":
                loaded[row["material"]] += row["quantity"]
            elif row["action"] == "卸货":
                unloaded[row["material"]] += row["quantity"]
                assert row["place_id"] in order.destination_ids
        carried = {i.material: i.quantity for i in order.items}
        assert loaded == pytest.approx(carried) and unloaded == pytest.approx(carried)


def test_demo_destinations_and_items_text(plan: Plan) -> None:
    for order in plan.orders:
        text = destinations_text(plan, order)
        assert text.split("、") == [plan.place(d).name for d in order.destination_ids]
    for order in plan.transfer_orders:
        text = items_text(order)
        assert len(text.split("、")) == len(order.items)
        for it in order.items:
            assert f"{it.name} " in text and it.unit in text
    for order in plan.deploy_orders:
        assert items_text(order) == ""


def test_demo_shelter_supply_matches_allocation_and_routes(plan: Plan) -> None:
    supply = shelter_supply(plan)
    assert supply, "the demo plan supplies the shelters the evacuees go to"
    shelters = {p.id for p in plan.places if p.kind == "shelter"}
    assert [sid for sid, _, _ in supply] == sorted(sid for sid, _, _ in supply)
    expected = {ln.site_id for ln in plan.allocation if ln.site_id in shelters}
    assert {sid for sid, _, _ in supply} == expected
    for sid, allocated, delivered in supply:
        assert allocated == pytest.approx(
            _sum((ln.material, ln.quantity) for ln in plan.allocation if ln.site_id == sid)
        )
        on_trucks = _sum(
            (code, q)
            for r in plan.routes
            for t in r.trips
            for s in t.stops
            if s.site_id == sid
            for code, q in s.loads.items()
        )
        assert delivered == pytest.approx(on_trucks)
        for code, q in delivered.items():
            assert q <= allocated.get(code, 0) + 1e-6


def _sum(pairs) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for k, v in pairs:
        out[k] += v
    return dict(out)


# ---- hand-made edge cases ----------------------------------------------------------------------


def test_hostile_names_stay_plain_unchanged_text() -> None:
    p = make_plan(build_scenario())
    (inc_order,) = [o for o in p.transfer_orders if "INC-001" in o.destination_ids]
    assert HOSTILE in destinations_text(p, inc_order).split("、")
    rows = [r for o in p.orders for r in order_rows(p, o)]
    hostile = [r for r in rows if r["place_id"] == "INC-001"]
    assert hostile and all(r["place_name"] == HOSTILE for r in hostile)  # not escaped here
    # names that a spreadsheet would run, and HTML, in every text field of a row
    stop = OrderStop(
        1, "卸货", "X<1>", FORMULA, 60.0, (OrderItem("=1+1", "@SUM(A1)", "-", 2.0, 4.0),)
    )
    order = DispatchOrder(
        number="+CMD",
        kind=OrderKind.TRANSFER,
        unit_id="=VH",
        unit_name="<b>车</b>",
        unit_type="货车",
        origin_id="SP",
        destination_ids=("X<1>",),
        stops=(stop,),
        items=stop.items,
        legs=(),
        depart_s=0,
        eta_s=60,
        end_s=60,
        total_seconds=60,
        total_metres=1000,
    )
    hp = dataclasses.replace(
        p, places=(*p.places, Place("X<1>", "<img src=x onerror=alert(1)>", "incident", 106, 28))
    )
    (row,) = order_rows(hp, order)
    assert row["order_no"] == "+CMD" and row["unit_id"] == "=VH" and row["unit_name"] == "<b>车</b>"
    assert row["place_name"] == FORMULA and row["place_id"] == "X<1>"
    assert (row["material"], row["material_name"], row["unit"]) == ("=1+1", "@SUM(A1)", "-")
    assert destinations_text(hp, order) == "<img src=x onerror=alert(1)>"
    assert items_text(order) == "@SUM(A1) 2-"
    # numbers stay numbers (the exporters write them as numbers, never as text)
    assert isinstance(row["quantity"], float) and isinstance(row["eta_min"], float)
    assert isinstance(row["trip"], int) and isinstance(row["seq"], int)


def test_unknown_destination_falls_back_to_its_id() -> None:
    p = make_plan(build_scenario())
    order = dataclasses.replace(p.orders[0], destination_ids=("INC-002", "NOPE-9"))
    assert destinations_text(p, order) == "先滩镇滑坡、NOPE-9"
    assert destinations_text(p, dataclasses.replace(order, destination_ids=())) == ""


def test_plan_without_an_issue_time_and_stop_without_items() -> None:
    p = make_plan(build_scenario())
    assert p.issued_at is None and when_text(p.issued_at) == "未下达"
    issued = p.approve("局长", p.created_at + timedelta(minutes=3)).issue(
        "值班员", p.created_at + timedelta(minutes=4)
    )
    assert when_text(issued.issued_at) == "2026-11-22 09:34"
    (deploy,) = p.deploy_orders
    rows = list(order_rows(p, deploy))
    assert [r["action"] for r in rows] == ["出发", "到达"]
    assert all(r["headcount"] == 30 and r["quantity"] == "" for r in rows)
    assert [r["eta_time"] for r in rows] == ["09:30", "09:55"]  # the team arrives after 1500 s


def test_served_pct() -> None:
    assert [served_pct(f) for f in (0.0, 0.004, 0.25, 0.996, 1.0)] == [
        "0%",
        "0%",
        "25%",
        "100%",
        "100%",
    ]


def test_quantities_text_sorted_by_code_without_zeros() -> None:
    p = _plan_at(
        datetime(2026, 11, 22, 9, 30),
        materials=(
            MaterialRef("TENT", "救灾帐篷", "顶", 35, 0.2),
            MaterialRef("DIESEL", "柴油", "升", 0.84, 0.001),
        ),
    )
    text = quantities_text(p, {"TENT": 3, "WATER": 0, "DIESEL": 12.5, "people": 40, "ODD": 1.5})
    # sorted by code; a code the plan does not know is shown as itself, without a unit
    assert text == "柴油 12.5升、ODD 1.5、救灾帐篷 3顶、转移人员 40人"
    assert quantities_text(p, {}) == "" and quantities_text(p, {"TENT": 0}) == ""


def test_shelter_supply_hand_made() -> None:
    base = make_plan(build_scenario())
    places = (
        *base.places,
        Place("SH-1", "一中", "shelter", 106.0, 28.8),
        Place("SH-2", "广场", "shelter", 106.1, 28.8),
    )
    allocation = (
        AllocationLine("SH-2", "WATER", "SP-001", 10, 600),
        AllocationLine("SH-1", "WATER", "SP-001", 4, 600),
        AllocationLine("SH-1", "WATER", "SP-002", 6, 900),
        AllocationLine("SH-1", "QUILT", "SP-001", 5, 600),
        AllocationLine("INC-001", "TENT", "SP-001", 60, 600),  # not a shelter
    )
    routes = (
        VehicleRoute(
            "VH-9",
            "SP-001",
            (
                Trip("SP-001", 0, 2000, (RouteStop("SH-1", 600, 700, {"WATER": 4}),)),
                Trip(
                    "SP-001", 2000, 4000, (RouteStop("SH-1", 2600, 2700, {"WATER": 3, "QUILT": 5}),)
                ),
            ),
        ),
    )
    p = dataclasses.replace(base, places=places, allocation=allocation, routes=routes)
    assert shelter_supply(p) == [
        ("SH-1", {"WATER": 10.0, "QUILT": 5.0}, {"WATER": 7.0, "QUILT": 5.0}),
        ("SH-2", {"WATER": 10.0}, {}),
    ]
    assert shelter_supply(base) == []
