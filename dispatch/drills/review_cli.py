"""``python app.py review WS --out DIR [--incident ID] [--seconds S] [--deadlines FILE]``: the
after-action review (复盘, :mod:`dispatch.drills.review`) written as ``DIR/review.json``,
``DIR/review.pdf`` (A4, Chinese: timeline, information-report deadlines with overdue reports in
red, decisions against the optimiser with a two-colour map per re-planned moment) and
``DIR/review.xlsx`` (时间线, 信息报告, 决策对比, 时限依据).

The workspace is only read. Bad input (unknown ``--incident``, an unreadable deadlines file,
``--seconds`` not > 0, a stored plan that cannot be read) is refused before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reportlab.platypus import KeepTogether

from dispatch.drills.compare_cli import build_pdf
from dispatch.drills.maps import ground_layers, pair_layers, plan_layers
from dispatch.drills.review import (
    ReportDeadlines,
    default_replan,
    load_deadlines,
    review,
)
from dispatch.drills.sheets import write_sheets
from dispatch.export.common import clean_text
from dispatch.export.map_drawing import OVERVIEW_HEIGHT, overview_drawing
from dispatch.export.pdf_base import (
    CONTENT_W,
    UNMET_BG,
    UNMET_FG,
    mark_rows,
    para,
    pdf_styles,
    pdf_table,
    register_font,
)
from dispatch.plan import plans_from_documents
from gis.errors import ReliefDeskError, ValidationError, WorkspaceError
from gis.workspace.atomic import write_text_atomically

SCHEMA = "reliefdesk.review/1"

TIMELINE_HEADERS = ("时间", "类别", "事件编号", "内容", "当时已知", "生效方案")
REPORT_HEADERS = (
    "事件",
    "级别",
    "类别",
    "接报",
    "时限(分)",
    "应报时间",
    "首报",
    "状态",
    "超时",
)
MOMENT_HEADERS = (
    "时刻",
    "触发",
    "当时已知",
    "生效方案",
    "优化方案",
    "新增/撤销/改道指令",
    "各事件物资满足（生效 / 优化）",
)
LATENCY_HEADERS = ("事件", "接报", "首个覆盖该事件的方案下达", "用时(分)")
RULE_HEADERS = ("级别", "类别", "时限(分)", "依据", "假设")


def _t(x: str | None) -> str:
    return "—" if not x else x.replace("T", " ")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def timeline_rows(data: Mapping[str, Any]) -> list[list[Any]]:
    return [
        [_t(r["time"]), r["kind"], r["incident_id"] or "—", r["text"], r["known"],
         r["plan_in_force"] or "—"]
        for r in data["timeline"]
    ]  # fmt: skip


def _late(minutes: float | None) -> str:
    """Minutes late for people: 分钟 up to 2 h, then 小时, then 天."""
    if not minutes:
        return "—"
    if minutes < 120:
        return f"{minutes:g} 分钟"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} 小时"
    return f"{minutes / 1440:.1f} 天"


def report_rows(data: Mapping[str, Any]) -> list[list[Any]]:
    return [
        [r["name"], r["level"], r["category"], _t(r["received"]),
         "—" if r["deadline_min"] is None else f"{r['deadline_min']:g}", _t(r["due"]),
         _t(r["first_report"]), r["state"], _late(r["late_min"])]
        for r in data["reports"]
    ]  # fmt: skip


def moment_rows(data: Mapping[str, Any]) -> list[list[Any]]:
    rows = []
    for m in data["moments"]:
        c = m["comparison"]
        if c is None:
            orders = served = "—（未重新求解）" if m["known_incidents"] else "—（无已知事件）"
        else:
            o = c["orders"]
            orders = f"{len(o['added'])}/{len(o['removed'])}/{len(o['rerouted'])}"
            served = (
                "；".join(
                    f"{i['name']} {_pct(i['served'][0])} / {_pct(i['served'][1])}"
                    for i in c["incidents"]
                )
                or "—"
            )
        proposed = m["proposed"]
        rows.append(
            [
                _t(m["time"]),
                m["trigger"],
                m["known"],
                m["plan_in_force"] or "无",
                "—" if proposed is None else f"{proposed['plan']}（{proposed['status']}）",
                orders,
                served,
            ]
        )
    return rows


def latency_rows(data: Mapping[str, Any]) -> list[list[Any]]:
    return [
        [r["name"], _t(r["received"]), _t(r["first_plan_issued"]),
         "—" if r["minutes"] is None else f"{r['minutes']:g}"]
        for r in data["decision_latency"]
    ]  # fmt: skip


_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def rule_rows(data: Mapping[str, Any]) -> list[list[Any]]:
    return [
        [_ROMAN.get(r["level"], "任意") if r["level"] else "任意", r["category"] or "任意",
         f"{r['minutes']:g}", r["source"], "是" if r["assumption"] else "否"]
        for r in data["deadlines"]
    ]  # fmt: skip


def write_review_pdf(data: Mapping[str, Any], maps: list[tuple[str, Any]], path: Path) -> Path:
    font = register_font()
    st = pdf_styles(font)
    w = CONTENT_W
    scope = f"事件 {data['incident']}" if data["incident"] else "全部事件"
    story: list[Any] = [
        para("事件复盘报告", st["title"]),
        para(f"工作区 {data['workspace']}　范围：{scope}　评估时刻 {_t(data['as_of'])}", st["base"]),
        para(f"每个时刻重新求解 {data['seconds']:g} 秒", st["base"]),
        para("一、时间线：何时知道什么、决定什么", st["h2"]),
        pdf_table([list(TIMELINE_HEADERS), *timeline_rows(data)],
               [w * 0.14, w * 0.08, w * 0.09, w * 0.35, w * 0.2, w * 0.14], font, st["cell"]),
        para("二、信息报告时限（自接报起算；红色：迟报或逾期未报）", st["h2"]),
    ]  # fmt: skip
    reports = pdf_table(
        [list(REPORT_HEADERS), *report_rows(data)],
        [w * 0.16, w * 0.05, w * 0.09, w * 0.13, w * 0.07, w * 0.13, w * 0.13, w * 0.14, w * 0.1],
        font,
        st["cell"],
    )
    overdue = [i for i, r in enumerate(data["reports"], start=1) if r["overdue"]]
    mark_rows(reports, overdue, UNMET_BG, UNMET_FG)
    story.append(reports)
    story.append(para("时限依据", st["small"]))
    story.append(
        pdf_table([list(RULE_HEADERS), *rule_rows(data)],
               [w * 0.07, w * 0.1, w * 0.08, w * 0.67, w * 0.08], font, st["cell"])
    )  # fmt: skip
    story.append(para("三、接报到方案下达", st["h2"]))
    story.append(
        pdf_table([list(LATENCY_HEADERS), *latency_rows(data)],
               [w * 0.3, w * 0.22, w * 0.3, w * 0.18], font, st["cell"])
    )  # fmt: skip
    story.append(para("四、实际生效方案与当时信息下的优化方案", st["h2"]))
    story.append(
        pdf_table([list(MOMENT_HEADERS), *moment_rows(data)],
               [w * 0.12, w * 0.15, w * 0.13, w * 0.13, w * 0.15, w * 0.1, w * 0.22],
               font, st["cell"])
    )  # fmt: skip
    for caption, layers in maps:
        story.append(
            KeepTogether(
                [para(caption, st["base"]), overview_drawing(layers, w, OVERVIEW_HEIGHT, font)]
            )
        )
    story.append(para("说明", st["h2"]))
    story += [para(n, st["small"]) for n in data["notes"]]
    build_pdf(story, path, font, "事件复盘报告")
    return path


def review_sheets(data: Mapping[str, Any]) -> list[tuple[str, tuple[str, ...], list[list[Any]]]]:
    return [
        ("时间线", TIMELINE_HEADERS, timeline_rows(data)),
        ("信息报告", (*REPORT_HEADERS, "依据"), [
            [*row, r["source"] or "—"] for row, r in zip(report_rows(data), data["reports"],
                                                          strict=True)
        ]),
        ("接报到下达", LATENCY_HEADERS, latency_rows(data)),
        ("决策对比", MOMENT_HEADERS, moment_rows(data)),
        ("时限依据", RULE_HEADERS, rule_rows(data)),
    ]  # fmt: skip


def run_review_cli(
    workspace: Path,
    out: Path,
    *,
    incident: str | None = None,
    seconds: float = 2.0,
    deadlines: Path | None = None,
) -> int:
    from gis.loading import load_road_network, open_workspace

    workspace, out = Path(workspace), Path(out)
    if not seconds > 0:
        raise ValidationError(f"--seconds must be > 0, got {seconds}")
    if out.exists() and not out.is_dir():
        raise ValidationError(f"--out {out} exists and is not a folder")
    rules = ReportDeadlines() if deadlines is None else load_deadlines(deadlines)
    try:
        ws = open_workspace(workspace)
        ids = [i.id for i in ws.scenario.incidents]
        if incident is not None and incident not in ids:  # before the slow network load
            have = "、".join(ids) or "无"
            raise ValidationError(f"--incident {incident}: no such incident (incidents: {have})")
        network = load_road_network(workspace, ws.scenario)
    except ReliefDeskError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise WorkspaceError(f"cannot read workspace: {exc}", path=str(workspace)) from None
    plans = plans_from_documents(ws.documents)
    data = review(
        ws.scenario,
        ws.documents,
        plans,
        replan=default_replan(network, seconds, existing=[p.number for p in plans]),
        deadlines=rules,
        incident=incident,
    )
    maps = []
    ground = ground_layers(ws.scenario, network)
    for m in data["moments"]:
        pair = m.pop("_plans", None)
        if pair is None:
            continue
        in_force, proposed = pair
        if in_force is None:  # nothing in force: what the optimiser would have sent
            caption = clean_text(
                f"{_t(m['time'])}（{m['trigger']}）：无生效方案；当时信息下的优化方案 "
                f"{proposed.number}",
                200,
            )
            maps.append((caption, plan_layers(ground, proposed)))
            continue
        caption = clean_text(
            f"{_t(m['time'])}（{m['trigger']}）：蓝色 = 生效方案 {in_force.number}，"
            f"橙色 = 当时信息下的优化方案",
            200,
        )
        maps.append((caption, pair_layers(ground, in_force, proposed, ("生效方案", "优化方案"))))
    data = {
        "schema": SCHEMA,
        "workspace": str(workspace),
        "seconds": float(seconds),
        **data,
    }
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomically(out / "review.json", json.dumps(data, ensure_ascii=False, indent=1))
    write_review_pdf(data, maps, out / "review.pdf")
    write_sheets(review_sheets(data), out / "review.xlsx")
    overdue = [r for r in data["reports"] if r["overdue"]]
    print(
        clean_text(
            f"复盘 {workspace.name}：时间线 {len(data['timeline'])} 条，信息报告超时 "
            f"{len(overdue)} 起，重新求解 {sum(m['replanned'] for m in data['moments'])} 个时刻；"
            f"输出 {out}",
            400,
        )
    )
    return 0


__all__ = ["SCHEMA", "review_sheets", "run_review_cli", "write_review_pdf"]
