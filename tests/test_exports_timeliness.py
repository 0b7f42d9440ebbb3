"""On time / late / unmet and safety stock in every export a person reads (issue 8 items 1–3):
the PDF cover and orders, the XLSX sheets, CSV rows, GeoJSON features and the HTML map data of
the demo county's plan (soft deadlines: some deliveries late), and of hand-made variants of it
(everything on time; an unmet need)."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dispatch.export.common import served_pct
from dispatch.export.csv import CSV_HEADER, export_csv
from dispatch.export.geojson import plan_geojson
from dispatch.export.html_map import map_data
from dispatch.export.pdf import export_pdf
from dispatch.export.xlsx import (
    PROBLEM_HEADERS,
    PROBLEMS_SHEET,
    SAFETY_HEADERS,
    SAFETY_SHEET,
    SUMMARY_SHEET,
    export_xlsx,
)
from dispatch.plan import Plan
from dispatch.results import Reason, Unserved
from dispatch.timeliness import (
    NeedState,
    incident_deadlines,
    need_lines,
    plan_timeliness,
    problem_lines,
)

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed"
)


def _pages(path: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _on_time(plan: Plan) -> Plan:
    """``plan`` with every need met and every deadline out of reach (a hand-made all-on-time
    plan, no orders)."""
    incidents = tuple(
        replace(
            o,
            deadline_s=1e7,
            late={},
            late_teams=(),
            late_by_s=0.0,
            evacuated_late=0,
            delivered=dict(o.needs),
            required_skills=dict(o.covered_skills),  # asks only what its teams cover
            served_fraction=1.0,
            on_time_fraction=1.0,
            staff_fraction=1.0,
            staff_on_time_fraction=1.0,
        )
        for o in plan.incidents
    )
    return replace(plan, incidents=incidents, unserved=(), orders=(), safety_releases=())


@pytest.fixture(scope="module")
def late_lines(demo_plan: Plan) -> list:
    lines = [ln for ln in need_lines(demo_plan) if ln.state is NeedState.LATE]
    assert lines, "the demo plan (soft deadlines) has deliveries after the deadline"
    return lines


@pytest.fixture(scope="module")
def pdf_pages(demo_plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) not installed")
    return _pages(export_pdf(demo_plan, tmp_path_factory.mktemp("pdf") / "orders.pdf"))


# ---- PDF ---------------------------------------------------------------------------------------


@needs_poppler
def test_pdf_cover_has_on_time_shares_and_the_late_table(
    demo_plan: Plan, pdf_pages: list[str], late_lines: list
) -> None:
    cover = pdf_pages[0]
    flat = _flat(cover)
    tl = plan_timeliness(demo_plan)
    assert not tl.all_on_time
    assert "全部需求均已按时安排" not in flat and "全部需求均已安排" not in flat
    assert (
        _flat(
            f"全方案：物资满足 {served_pct(tl.served_fraction)}，按时送达 "
            f"{served_pct(tl.on_time_fraction)}；人员满足 {served_pct(tl.staff_fraction)}，"
            f"人员按时 {served_pct(tl.staff_on_time_fraction)}"
        )
        in flat
    )
    for head in ("时限", "物资满足", "按时送达", "人员满足", "人员按时", "最长迟到"):
        assert head in cover
    # per incident: deadline, on-time share and the worst lateness on its row
    lines = cover.splitlines()
    for o in demo_plan.incidents:
        # a long name wraps in its cell: the row's figures sit on a neighbouring line
        i = next(k for k, line in enumerate(lines) if o.name[:5] in line)
        row = " ".join(lines[max(0, i - 2) : i + 3])
        assert f"{o.deadline_s / 60:.0f} 分钟" in row
        assert served_pct(o.on_time_fraction) in row
        if o.late_by_s > 0:
            assert f"{max(1, round(o.late_by_s / 60))} 分钟" in row
    # the 未满足或迟到 table: every late line with its state, site, item and reason (the table may
    # run onto page 2)
    text = _flat("".join(pdf_pages[:3]))
    assert "未满足或迟到的需求" in text
    for ln in late_lines:
        assert _flat(f"迟到{ln.site_name}{ln.label}") in text
        assert _flat(f"迟到 {max(1, round(ln.late_by_s / 60))} 分钟（时限") in text


@needs_poppler
def test_pdf_lists_the_safety_stock_released(demo_plan: Plan, pdf_pages: list[str]) -> None:
    assert demo_plan.safety_releases, "level I/II incidents of the demo release safety stock"
    text = _flat("".join(pdf_pages[:3]))
    assert "动用安全库存" in text
    for r in demo_plan.safety_releases:
        assert (
            _flat(
                f"{demo_plan.place_name(r.stockpile_id)}{demo_plan.material_label(r.material)}"
                f"{r.quantity:g}"
            )
            in text
        )


@needs_poppler
def test_pdf_order_marks_stops_after_the_deadline(demo_plan: Plan, pdf_pages: list[str]) -> None:
    deadlines = incident_deadlines(demo_plan)
    marked = 0
    for order in demo_plan.orders:
        page = next(p for p in pdf_pages[1:] if f"指令编号 {order.number}" in p)
        flat = _flat(page)
        for s in order.stops:
            late = s.eta_s - deadlines.get(s.place_id, float("inf"))
            if s.action in ("卸货", "到达") and late > 1.0:
                minutes = max(1, round(late / 60))
                assert _flat(f"第 {s.seq} 站 {s.place_name} 预计迟到 {minutes} 分钟") in flat
                marked += 1
        if not any(
            s.action in ("卸货", "到达") and s.eta_s > deadlines.get(s.place_id, 1e18) + 1.0
            for s in order.stops
        ):
            assert "预计迟到" not in flat
    assert marked > 0


@needs_poppler
def test_pdf_says_all_on_time_only_when_it_is(demo_plan: Plan, tmp_path: Path) -> None:
    plan = _on_time(demo_plan)
    assert plan_timeliness(plan).all_on_time
    cover = _flat(_pages(export_pdf(plan, tmp_path / "ok.pdf"))[0])
    assert "全部需求均已按时安排。" in cover
    # one unmet need is enough to lose the sentence, and the need shows as 未满足
    o = plan.incidents[0]
    code = next(iter(o.needs))
    short = replace(o, delivered={**o.delivered, code: 0.0}, served_fraction=0.5)
    missing = Unserved(
        o.incident_id, code, float(o.needs[code]), Reason.OUT_OF_STOCK, "库存不足测试"
    )
    plan2 = replace(plan, incidents=(short, *plan.incidents[1:]), unserved=(missing,))
    cover2 = _flat(_pages(export_pdf(plan2, tmp_path / "short.pdf"))[0])
    assert "全部需求均已按时安排" not in cover2
    assert _flat(f"未满足{o.name}{plan.material_label(code)}") in cover2
    assert "库存不足测试" in cover2


# ---- XLSX --------------------------------------------------------------------------------------


def test_xlsx_summary_problem_and_safety_sheets(
    demo_plan: Plan, late_lines: list, tmp_path: Path
) -> None:
    wb = load_workbook(export_xlsx(demo_plan, tmp_path / "o.xlsx"))
    tl = plan_timeliness(demo_plan)
    ws = wb[SUMMARY_SHEET]
    info = {
        row[0]: row[1] for row in ws.iter_rows(min_col=1, max_col=2, values_only=True) if row[0]
    }
    assert info["物资按时送达"] == served_pct(tl.on_time_fraction)
    assert info["人员按时"] == served_pct(tl.staff_on_time_fraction)
    assert info["未满足或迟到"].startswith(f"{len(problem_lines(demo_plan))} 项")
    assert "全部需求均已按时安排" not in [v for v in info.values() if isinstance(v, str)]
    head = next(
        r
        for r in range(1, ws.max_row + 1)
        if ws.cell(r, 1).value == "事件编号" and ws.cell(r, 6).value == "按时送达率"
    )
    for k, o in enumerate(demo_plan.incidents, start=1):
        row = [ws.cell(head + k, c).value for c in range(1, 11)]
        assert row[0] == o.incident_id
        assert row[3] == pytest.approx(o.deadline_s / 60)
        assert row[5] == served_pct(o.on_time_fraction)
        assert row[8] == pytest.approx(round(o.late_by_s / 60, 1))

    ps = wb[PROBLEMS_SHEET]
    assert tuple(c.value for c in ps[1]) == PROBLEM_HEADERS
    rows = list(ps.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(problem_lines(demo_plan))
    col = {h: i for i, h in enumerate(PROBLEM_HEADERS)}
    late_rows = [r for r in rows if r[col["状态"]] == "迟到"]
    assert len(late_rows) == len(late_lines)
    for r, ln in zip(late_rows, late_lines):
        assert (r[col["地点编号"]], r[col["项目编码"]]) == (ln.site_id, ln.what)
        assert r[col["数量"]] == pytest.approx(ln.late)
        assert r[col["迟到(分钟)"]] == pytest.approx(round(ln.late_by_s / 60, 1))
    assert {r[col["状态"]] for r in rows} <= {"迟到", "未满足"}

    ss = wb[SAFETY_SHEET]
    assert tuple(c.value for c in ss[1]) == SAFETY_HEADERS
    got = [r for r in ss.iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[2], r[4], r[6], r[7]) for r in got] == [
        (x.stockpile_id, x.material, x.quantity, x.safety_stock, x.site_id)
        for x in demo_plan.safety_releases
    ]


def test_xlsx_all_on_time(demo_plan: Plan, tmp_path: Path) -> None:
    wb = load_workbook(export_xlsx(_on_time(demo_plan), tmp_path / "ok.xlsx"))
    info = {
        row[0]: row[1]
        for row in wb[SUMMARY_SHEET].iter_rows(min_col=1, max_col=2, values_only=True)
        if row[0]
    }
    assert info["未满足或迟到"] == "全部需求均已按时安排"
    assert info["动用安全库存"] == "未动用"
    assert wb[PROBLEMS_SHEET].max_row == 1 and wb[SAFETY_SHEET].max_row == 1


# ---- CSV, GeoJSON, HTML map ---------------------------------------------------------------------


def test_csv_geojson_and_map_carry_lateness(demo_plan: Plan, tmp_path: Path) -> None:
    deadlines = incident_deadlines(demo_plan)
    outcome = {o.incident_id: o for o in demo_plan.incidents}
    with open(export_csv(demo_plan, tmp_path / "p.csv"), newline="", encoding="utf-8-sig") as fh:
        rows = [dict(zip(CSV_HEADER, r)) for r in list(csv.reader(fh))[1:]]
    late_rows = [r for r in rows if r["迟到(分钟)"]]
    assert late_rows
    for r in rows:
        d = deadlines.get(r["地点编号"])
        at_incident = d is not None and r["动作"] in ("卸货", "到达")
        if r["迟到(分钟)"]:
            assert at_incident and float(r["预计用时(分钟)"]) * 60 > d - 6  # 0.1-min rounding
        if r["地点编号"] in outcome:
            o = outcome[r["地点编号"]]
            assert float(r["事件按时送达率"]) == pytest.approx(o.on_time_fraction, abs=1e-4)
            assert float(r["事件最长迟到(分钟)"]) == pytest.approx(o.late_by_s / 60, abs=0.05)

    fc = plan_geojson(demo_plan)
    places = {
        f["properties"]["id"]: f["properties"]
        for f in fc["features"]
        if f["properties"]["role"] == "place"
    }
    for o in demo_plan.incidents:
        p = places[o.incident_id]
        assert p["on_time_fraction"] == pytest.approx(o.on_time_fraction, abs=1e-4)
        assert p["late_by_s"] == pytest.approx(o.late_by_s, abs=0.1)
        assert p["deadline_s"] == o.deadline_s
    stops = [f["properties"] for f in fc["features"] if f["properties"]["role"] == "stop"]
    assert any(s["late_by_s"] > 0 for s in stops)
    json.dumps(fc)  # plain JSON

    data = map_data(demo_plan)
    late_places = {p["id"]: p for p in data["places"] if p.get("late")}
    assert set(late_places) == {o.incident_id for o in demo_plan.incidents if o.late_by_s > 0}
    for p in late_places.values():
        assert p["late"].startswith("迟到") and "时限" in p["late"]
    assert any(s["late"].startswith("迟到") for o in data["orders"] for s in o["stops"])


def _not_loaded(plan: Plan) -> tuple[Plan, str, str]:
    """``plan`` (all on time) where one need of the first incident was allocated but no vehicle
    could take it in time (hard deadlines): routing's visit record says 超出时限."""
    o = _on_time(plan).incidents[0]
    code = next(iter(o.needs))
    short = replace(
        o, delivered={**o.delivered, code: 0.0}, undelivered={code: float(o.needs[code])}
    )
    visit = Unserved(
        o.incident_id, "visit", 1.0, Reason.TOO_LATE, "储备库→事发点 即使直达也无法按时送达"
    )
    base = _on_time(plan)
    return (
        replace(base, incidents=(short, *base.incidents[1:]), unserved=(visit,)),
        o.incident_id,
        code,
    )


def test_unloaded_need_names_why_its_vehicle_is_missing(demo_plan: Plan, tmp_path: Path) -> None:
    plan, site, code = _not_loaded(demo_plan)
    lines = problem_lines(plan)
    need = next(ln for ln in lines if ln.what == code)
    assert need.state is NeedState.UNMET and need.reason == "已分配但未装车：超出时限"
    visit = next(ln for ln in lines if ln.what == "visit")
    assert (visit.site_id, visit.label) == (site, "配送车次")
    assert visit.reason == "储备库→事发点 即使直达也无法按时送达"
    wb = load_workbook(export_xlsx(plan, tmp_path / "x.xlsx"))
    rows = list(wb[PROBLEMS_SHEET].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[3], r[-1]) for r in rows] == [
        ("未满足", code, "已分配但未装车：超出时限"),
        ("未满足", "visit", "储备库→事发点 即使直达也无法按时送达"),
    ]
