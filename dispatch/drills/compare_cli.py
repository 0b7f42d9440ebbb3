"""``python app.py compare A B --out DIR [--workspace WS]``: two plans (or two drill runs) side
by side (issue 14 §4).

``A`` and ``B`` are each a plan file (``plan.json``, the dispatch plan format) or a drill output
folder (``DIR/drill.json`` of ``app.py drill``): of a drill run the last planned step is
compared, and every step number planned in both runs is compared too (``steps``).

Writes ``DIR/compare.json``: per incident the served, on-time and staff shares and the ETAs of
both plans (:func:`dispatch.drills.compare.compare_plans`; ETAs as clock times), the orders
added / removed / rerouted / reloaded (matched by vehicle or team), both plans' figures
(:func:`dispatch.drills.scorecard.plan_metrics`); ``DIR/compare.pdf`` (A4, Chinese: the tables
and a map with plan A's and plan B's routes in two colours and a legend) and ``DIR/compare.xlsx``.

On time: a drill step's plan (a drill run's steps, or one ``DIR/steps/NN/plan.json``) is compared
with its figures judged on the clock, as the drill's scorecard and its own comparison judge them
(the file's ``drill_clock``, :mod:`dispatch.drills.clock`); a plain plan with its own figures.
``compare.json`` says which for each side (``a``/``b`` ``judged_on``: ``clock`` or ``plan``).

The map's ground (county outline, main roads, closures) comes from ``--workspace``, else from the
workspace a drill run names (with the closures its script had added by its last step); without
one the map shows the routes and incidents only, and says so. Bad input (a missing or unreadable
file, a folder without drill.json, a drill run without plans) raises
:class:`gis.errors.ValidationError` before anything is written (exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.platypus import KeepTogether, SimpleDocTemplate

from dispatch.drills.clock import read_plan_data
from dispatch.drills.compare import compare_plans
from dispatch.drills.maps import ground_layers, pair_layers
from dispatch.drills.scorecard import plan_metrics
from dispatch.drills.sheets import write_sheets
from dispatch.export.common import clean_text
from dispatch.export.map_drawing import OVERVIEW_HEIGHT, OverviewLayers, overview_drawing
from dispatch.export.pdf_base import (
    CONTENT_W,
    MARGIN,
    ExportError,
    NumberedCanvas,
    flat_story,
    para,
    pdf_styles,
    pdf_table,
    register_font,
)
from dispatch.plan import Plan
from gis.errors import ReliefDeskError, ValidationError
from gis.workspace.atomic import write_text_atomically

SCHEMA = "reliefdesk.compare/1"

INCIDENT_HEADERS = (
    "事件",
    "物资满足 A / B",
    "物资按时 A / B",
    "人员到位 A / B",
    "首批物资 A / B",
    "首支队伍 A / B",
)
ORDER_HEADERS = ("变化", "车辆/队伍")
FIGURE_HEADERS = ("指标", "方案 A", "方案 B")
FIGURES_ZH = {
    "status": "求解状态",
    "needs_on_time": "按时需求项",
    "needs_late": "迟到需求项",
    "needs_unmet": "未满足需求项",
    "served_fraction": "物资满足率",
    "on_time_fraction": "物资按时率",
    "people_to_shelter": "需转移人数",
    "people_sheltered_on_time": "时限内安置人数",
    "teams_sent": "派出队伍",
    "teams_on_site_on_time": "时限内到场队伍",
    "vehicle_km": "车辆公里",
    "orders": "指令数",
    "safety_stock_used": "动用安全库存",
}
CHANGE_ZH = {"added": "新增", "removed": "撤销", "rerouted": "改道", "reloaded": "改装载"}


@dataclass(frozen=True)
class Side:
    """One side of the comparison: its plan and, for a drill run, its planned steps (drill step
    plans judged on the clock, ``clock`` True; see the module doc)."""

    source: Path
    plan: Plan
    steps: Mapping[int, Plan]
    drill: Mapping[str, Any] | None
    clock: bool = False


def _read_plan(path: Path, what: str) -> tuple[Plan, bool]:
    """The plan in ``path`` (judged on the clock when the file records it) and whether it is."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{what}: cannot read {path}: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"{what}: {path} is not a dispatch plan: {exc}") from None
    try:
        plan, clocked = read_plan_data(data, "plan")
    except ValidationError as exc:
        raise ValidationError(f"{what}: {path}: {exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(f"{what}: {path} is not a dispatch plan: {exc}") from None
    return clocked, clocked is not plan


def load_side(path: Path, what: str) -> Side:
    """A plan file or a drill output folder (its last planned step)."""
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{what} {path} does not exist")
    if path.is_file():
        plan, clock = _read_plan(path, what)
        return Side(path, plan, {}, None, clock)
    drill_file = path / "drill.json"
    if not drill_file.is_file():
        raise ValidationError(f"{what} {path} is a folder without drill.json (not a drill run)")
    try:
        drill = json.loads(drill_file.read_text(encoding="utf-8"))
        records = [drill["baseline"], *drill["steps"]] if drill.get("baseline") else drill["steps"]
        planned = {int(r["step"]): r["plan_dir"] for r in records if r.get("plan_dir")}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"{what}: {drill_file} is not a drill result: {exc}") from None
    if not planned:
        raise ValidationError(f"{what}: drill run {path} has no plans (run without --auto)")
    read = {n: _read_plan(path / d / "plan.json", f"{what} step {n}") for n, d in planned.items()}
    steps = {n: plan for n, (plan, _) in read.items()}
    return Side(path, steps[max(steps)], steps, drill, read[max(read)][1])


def _ground(workspace: Path | None, sides: tuple[Side, Side]) -> tuple[OverviewLayers, str]:
    """The map's ground and a note on where it came from."""
    from gis.loading import load_road_network, open_workspace

    drill = next((s.drill for s in sides if s.drill), None)
    ws_path = workspace or (Path(drill["workspace"]) if drill and drill.get("workspace") else None)
    if ws_path is None or not Path(ws_path).is_file():
        return OverviewLayers(), "未给出工作区（--workspace）：地图只画路线与事件，无县界与道路。"
    try:
        ws = open_workspace(Path(ws_path))
        network = load_road_network(Path(ws_path), ws.scenario)
    except ReliefDeskError:
        if workspace is not None:
            raise
        return OverviewLayers(), f"工作区 {ws_path} 无法读取：地图只画路线与事件。"
    scenario = ws.scenario
    note = f"底图：工作区 {ws_path}（县界、主要道路、封闭道路）。"
    script = Path(drill["script"]) if drill and drill.get("script") else None
    if workspace is None and script is not None and script.is_file():
        from dispatch.drills.runner import apply_inject
        from dispatch.drills.script import load_script

        try:
            for inj in load_script(script, scenario).injects:
                scenario = apply_inject(scenario, inj)
            note += f"封闭道路为演练脚本 {script.name} 最后一步时的状态。"
        except ReliefDeskError:
            scenario = ws.scenario
    return ground_layers(scenario, network), note


def comparison_data(a: Side, b: Side) -> dict[str, Any]:
    """compare.json's content (without the ground note)."""
    ma, mb = plan_metrics(a.plan), plan_metrics(b.plan)
    keys = [k for k in FIGURES_ZH if k in ma or k in mb]
    figures = {k: [ma.get(k), mb.get(k)] for k in keys}
    figures["orders"] = [len(a.plan.orders), len(b.plan.orders)]
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "a": _side_record(a),
        "b": _side_record(b),
        "figures": figures,
        **compare_plans(a.plan, b.plan),
    }
    common = sorted(set(a.steps) & set(b.steps))
    if common:
        data["steps"] = [{"step": n, **compare_plans(a.steps[n], b.steps[n])} for n in common]
    return data


def _side_record(side: Side) -> dict[str, Any]:
    return {
        "source": str(side.source),
        "plan": side.plan.number,
        "created_at": _iso(side.plan),
        "judged_on": "clock" if side.clock else "plan",
    }


#: how each side's on-time figures are judged, as the PDF says it
JUDGED_ZH = {
    "clock": "按时数字按各事件时限时刻（事发＋时限）判定，与演练评分一致",
    "plan": "按时数字为方案自身口径（方案时刻起算的时限）",
}


def _judged_text(a: str, b: str) -> str:
    if a == b:
        return f"两方案{JUDGED_ZH[a]}。"
    return f"方案 A：{JUDGED_ZH[a]}；方案 B：{JUDGED_ZH[b]}。"


def _iso(plan: Plan) -> str:
    return plan.created_at.isoformat(timespec="minutes")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def _clock(x: str | None) -> str:
    return "—" if not x else x.replace("T", " ")[5:]


def _pair(a: str, b: str) -> str:
    return f"{a} / {b}"


def incident_rows(data: Mapping[str, Any]) -> list[list[Any]]:
    rows = []
    for i in data["incidents"]:
        ea, eb = i["eta"][0] or {}, i["eta"][1] or {}
        rows.append(
            [
                i["name"],
                _pair(_pct(i["served"][0]), _pct(i["served"][1])),
                _pair(_pct(i["on_time"][0]), _pct(i["on_time"][1])),
                _pair(_pct(i["staff"][0]), _pct(i["staff"][1])),
                _pair(_clock(ea.get("first_delivery")), _clock(eb.get("first_delivery"))),
                _pair(_clock(ea.get("first_team")), _clock(eb.get("first_team"))),
            ]
        )
    return rows


def order_rows(data: Mapping[str, Any]) -> list[list[Any]]:
    o = data["orders"]
    rows: list[list[Any]] = [[CHANGE_ZH[k], "、".join(o[k]) or "—"] for k in CHANGE_ZH]
    rows.append(["未变", str(o["unchanged"])])
    return rows


def figure_rows(data: Mapping[str, Any]) -> list[list[Any]]:
    def fmt(k: str, v: Any) -> Any:
        if v is None:
            return "—"
        return _pct(v) if k.endswith("fraction") else v

    return [[FIGURES_ZH[k], fmt(k, a), fmt(k, b)] for k, (a, b) in data["figures"].items()]


def write_compare_pdf(
    data: Mapping[str, Any], layers: OverviewLayers, note: str, path: Path
) -> Path:
    font = register_font()
    st = pdf_styles(font)
    w = CONTENT_W
    a, b = data["a"], data["b"]
    story: list[Any] = [
        para("调度方案对比", st["title"]),
        para(f"方案 A：{a['plan']}（{a['created_at'].replace('T', ' ')}）　{a['source']}", st["base"]),
        para(f"方案 B：{b['plan']}（{b['created_at'].replace('T', ' ')}）　{b['source']}", st["base"]),
        para(_judged_text(a["judged_on"], b["judged_on"]), st["small"]),
        para("总体指标", st["h2"]),
        pdf_table([list(FIGURE_HEADERS), *figure_rows(data)], [w * 0.5, w * 0.25, w * 0.25], font,
               st["cell"], align_right=(1, 2)),
        para("各事件：满足率、按时率与预计到达（时钟时间）", st["h2"]),
        pdf_table([list(INCIDENT_HEADERS), *incident_rows(data)],
               [w * 0.2, w * 0.12, w * 0.12, w * 0.12, w * 0.22, w * 0.22], font, st["cell"]),
        para("指令变化（按车辆/队伍比对：改道 = 路段不同，改装载 = 路线相同、物资不同）", st["h2"]),
        pdf_table([list(ORDER_HEADERS), *order_rows(data)], [w * 0.15, w * 0.85], font, st["cell"]),
        KeepTogether([
            para("路线对比图（蓝色粗线：方案 A；橙色细线：方案 B）", st["h2"]),
            overview_drawing(layers, w, OVERVIEW_HEIGHT, font),
            para(note, st["small"]),
        ]),
    ]  # fmt: skip
    for s in data.get("steps", ()):
        o = s["orders"]
        story.append(
            para(
                f"步骤 {s['step']:02d}：{' → '.join(s['plans'])}　新增 {len(o['added'])}，撤销 "
                f"{len(o['removed'])}，改道 {len(o['rerouted'])}，改装载 {len(o['reloaded'])}，"
                f"未变 {o['unchanged']}",
                st["small"],
            )
        )
    build_pdf(story, path, font, f"方案对比 {a['plan']} / {b['plan']}")
    return path


def build_pdf(story: list[Any], path: Path, font: str, title: str) -> None:
    """Build an A4 story into ``path`` (temporary name, then renamed)."""
    tmp = path.with_name(path.name + ".tmp")
    canvas_cls = type("_Canvas", (NumberedCanvas,), {"footer_font": font})
    try:
        doc = SimpleDocTemplate(
            str(tmp),
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN,
            title=title,
            author="ReliefDesk",
        )
        doc.build(flat_story(story), canvasmaker=canvas_cls)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write PDF {path}: {exc}") from None


def comparison_sheets(
    data: Mapping[str, Any],
) -> list[tuple[str, tuple[str, ...], list[list[Any]]]]:
    """The comparison as XLSX sheets (总体指标, 各事件, 指令变化)."""
    return [
        ("总体指标", FIGURE_HEADERS, figure_rows(data)),
        ("各事件对比", INCIDENT_HEADERS, incident_rows(data)),
        ("指令变化", ORDER_HEADERS, order_rows(data)),
    ]


def run_compare_cli(a: Path, b: Path, out: Path, *, workspace: Path | None = None) -> int:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError(f"--out {out} exists and is not a folder")
    if workspace is not None and not Path(workspace).is_file():
        raise ValidationError(f"--workspace {workspace} does not exist or is not a file")
    sides = (load_side(a, "plan A"), load_side(b, "plan B"))
    layers, note = _ground(workspace, sides)
    data = comparison_data(*sides)
    data["map_note"] = note
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomically(out / "compare.json", json.dumps(data, ensure_ascii=False, indent=1))
    write_compare_pdf(data, pair_layers(layers, sides[0].plan, sides[1].plan), note,
                      out / "compare.pdf")  # fmt: skip
    write_sheets(comparison_sheets(data), out / "compare.xlsx")
    o = data["orders"]
    print(
        clean_text(
            f"方案对比 {data['plans'][0]} → {data['plans'][1]}：新增 {len(o['added'])}，撤销 "
            f"{len(o['removed'])}，改道 {len(o['rerouted'])}，改装载 {len(o['reloaded'])}，"
            f"未变 {o['unchanged']}；输出 {out}",
            400,
        )
    )
    return 0


__all__ = [
    "SCHEMA",
    "Side",
    "comparison_data",
    "comparison_sheets",
    "load_side",
    "run_compare_cli",
    "write_compare_pdf",
]
